/** SIGHUP reload: accounts, keys and mapping change in place; restart-only sections are named; a bad file changes nothing. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { onSighup, reloadConfig } from '../../../src/server/app/reload.js';
import { BASE_CONFIG, startTestBridge, TcpPanel, text, type TestBridge } from '../harness.js';

let running: TestBridge[] = [];
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

const base = { ...BASE_CONFIG, accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } } };

async function setup() {
  const b = await startTestBridge(base);
  running.push(b);
  const path = join(b.dir, 'bridge.json');
  let logText = '';
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        logText += chunk.toString();
        cb();
      },
    }),
  });
  const records = () =>
    logText
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { b, path, logger, records, write: (json: unknown) => writeFile(path, typeof json === 'string' ? json : JSON.stringify(json)) };
}

const frame = (account: string, sequence: string) =>
  buildRequest({ token: 'SIA-DCS', sequence, line: '0', account, data: `#${account}|NBA1`, timestamp: new Date() });

describe('reloadConfig', () => {
  it('adds an account in place: its frames are NAKed before and ACKed after, on the same connection', async () => {
    const s = await setup();
    const panel = await TcpPanel.open(s.b.bridge.port('tcp'));
    panel.write(frame('5678', '0001'));
    await panel.waitForReplies(1);
    await s.write({ ...base, accounts: { ...base.accounts, '5678': { locationId: 'LOC5', cameraId: 'cam5' } } });
    expect(await reloadConfig(s.path, s.b.bridge, s.logger)).toBe(true);
    panel.write(frame('5678', '0002'));
    const replies = await panel.waitForReplies(2);
    expect(replies.map((r) => text(r).slice(9, 14))).toEqual(['"NAK"', '"ACK"']);
    expect(Object.keys(s.b.bridge.pipeline.currentConfig.accounts)).toEqual(['1234', '5678']);
    expect(s.records()).toContainEqual(expect.objectContaining({ msg: 'configuration reloaded', file: s.path, accounts: 2 }));
    expect(s.records().filter((r) => r.level === 40)).toEqual([]);
    panel.end();
  });

  it('names the sections that need a restart and keeps them as they run; the rest is reloaded', async () => {
    const s = await setup();
    await s.write({
      ...base,
      log: { level: 'warn' },
      sink: { type: 'file', path: 'other.ndjson' },
      receiver: { duplicateWindowSeconds: 7 },
    });
    expect(await reloadConfig(s.path, s.b.bridge, s.logger)).toBe(true);
    const warning = s.records().find((r) => r.level === 40);
    expect(warning).toMatchObject({
      file: s.path,
      sections: ['sink', 'log'],
      msg: expect.stringMatching(/^sink, log changes need a restart/),
    });
    const current = s.b.bridge.pipeline.currentConfig;
    expect(current.log.level).toBe('debug');
    expect(current.sink).toEqual(s.b.config.sink);
    expect(current.receiver.duplicateWindowSeconds).toBe(7);
  });

  it('a cluster section added is named as needing a restart (the durable log is chosen at start)', async () => {
    const s = await setup();
    await s.write({ ...base, cluster: { nats: { servers: ['nats://127.0.0.1:4222'] } } });
    expect(await reloadConfig(s.path, s.b.bridge, s.logger)).toBe(true);
    expect(s.records().find((r) => r.level === 40)).toMatchObject({ sections: ['cluster'] });
    expect(s.b.bridge.pipeline.currentConfig.cluster).toBeNull();
  });

  it('rejects an invalid file, naming it, and keeps the running configuration', async () => {
    const s = await setup();
    const before = s.b.bridge.pipeline.currentConfig;
    await s.write({ ...base, accounts: { '1234': { locationId: 42 } } });
    expect(await reloadConfig(s.path, s.b.bridge, s.logger)).toBe(false);
    await s.write('{ not json');
    expect(await reloadConfig(s.path, s.b.bridge, s.logger)).toBe(false);
    expect(s.b.bridge.pipeline.currentConfig).toBe(before);
    const errors = s.records().filter((r) => r.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      file: s.path,
      msg: 'configuration reload rejected; the running configuration stays',
      err: expect.stringContaining('locationId'),
    });
  });
});

describe('onSighup', () => {
  it('reloads the file it was given', async () => {
    const s = await setup();
    await s.write({ ...base, accounts: {} });
    onSighup(s.path, s.b.bridge, s.logger)();
    for (let i = 0; i < 200 && !s.records().some((r) => r.msg === 'configuration reloaded'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(s.b.bridge.pipeline.currentConfig.accounts).toEqual({});
  });

  it('says there is no file to reload on the embedded default', async () => {
    const s = await setup();
    onSighup(undefined, s.b.bridge, s.logger)();
    expect(s.records()).toEqual([
      expect.objectContaining({ level: 40, msg: 'SIGHUP: running on the embedded default, there is no configuration file to reload' }),
    ]);
    expect(s.b.bridge.pipeline.currentConfig).toBe(s.b.config);
  });
});
