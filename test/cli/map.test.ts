import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeFrame } from '../../src/protocols/escape.js';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { validatePartnerEvent } from '../../src/sink/partner-event-schema.js';
import { runCli } from './run-cli.js';

const key = '000102030405060708090A0B0C0D0E0F';
const config = {
  accounts: {
    '1234': {
      locationId: 'Z6RSOG',
      recorderId: 'Z6RANV',
      cameraId: 'cam-default',
      zones: { '15': { cameraId: 'cam-15', name: 'Back door' } },
      users: { '3': 'Alice' },
    },
    SECURE: { key, keyEncoding: 'hex', locationId: 'LOC2', cameraId: 'cam-2' },
    NOLOC: {},
  },
  mapping: { codes: { 'sia:RP': 'ignore', 'cid:137': { type: 'trouble' } } },
};

async function configFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'map-'));
  const path = join(dir, 'bridge.json');
  await writeFile(path, JSON.stringify(config));
  return path;
}

const now = new Date('2026-11-26T12:00:00Z');
const frame = (account: string, data: string, token = 'SIA-DCS', k?: Buffer) =>
  escapeFrame(buildRequest({ token, sequence: '0001', line: '0', account, data, timestamp: now, key: k ?? null }));

describe('alarm-bridge map', () => {
  it('prints forwarded bodies and not-forwarded reasons per input', async () => {
    const path = await configFile();
    const { code, stdout } = await runCli([
      'map',
      '--config',
      path,
      '--now',
      now.toISOString(),
      frame('1234', '#1234|Nri1/id3/BA15/RP0'),
      frame('1234', '#1234|1137 01 015', 'ADM-CID'),
      frame('SECURE', '#SECURE|Nri1/CL3', 'SIA-DCS', Buffer.from(key, 'hex')),
      frame('NOLOC', '#NOLOC|NBA1'),
    ]);
    expect(code).toBe(0);
    const [first, second, third, fourth] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(first.events).toHaveLength(2);
    expect(first.events[0].forwarded).toBe(true);
    expect(validatePartnerEvent(first.events[0].body).ok).toBe(true);
    expect(first.events[0].body).toMatchObject({ location_id: 'Z6RSOG', camera_id: 'cam-15', event_type: 'alarm', event_status: 'active' });
    expect(first.events[0].body.payload).toMatchObject({ zoneName: 'Back door', user: '3', userName: 'Alice' });
    expect(first.events[1]).toMatchObject({ forwarded: false, reason: 'ignored' });
    expect(second.events[0].body).toMatchObject({ event_type: 'trouble', event_status: 'active' });
    expect(third.events[0].body).toMatchObject({ location_id: 'LOC2', event_type: 'arming', event_status: 'active' });
    expect(third.events[0].body.recorder_id).toBeUndefined();
    expect(fourth.events[0]).toMatchObject({ forwarded: false, reason: 'unmapped-account', configKey: 'accounts["NOLOC"].locationId' });
  });

  it('names file, path and expectation for a bad config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'map-'));
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ accounts: { '1234': { key: 'xyz' } } }));
    const { code, stderr } = await runCli(['map', '--config', path, frame('1234', '#1234|NBA1')]);
    expect(code).toBe(2);
    expect(stderr).toContain(path);
    expect(stderr).toContain('accounts["1234"].key');
  });

  it('NAKs clear text for an account with a key and maps nothing', async () => {
    const path = await configFile();
    const { code, stdout } = await runCli(['map', '--config', path, '--now', now.toISOString(), frame('SECURE', '#SECURE|NBA1')]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, events: [], reply: { kind: 'NAK', reason: 'clear-text-for-encrypted-account' } });
  });

  it('shows the key to add for an account missing from the config (the receiver NAKs it)', async () => {
    const path = await configFile();
    const { stdout } = await runCli(['map', '--config', path, '--now', now.toISOString(), frame('9999', '#9999|NBA1')]);
    const report = JSON.parse(stdout);
    expect(report.reply).toMatchObject({ kind: 'NAK', reason: 'unknown-account' });
    expect(report.events[0]).toMatchObject({ forwarded: false, reason: 'unmapped-account', configKey: 'accounts["9999"].locationId' });
  });

  it('uses placeholder ids with the embedded default', async () => {
    const { stdout } = await runCli(['map', '--now', now.toISOString(), frame('777', '#777|NBA4')]);
    expect(JSON.parse(stdout).events[0].body).toMatchObject({ location_id: 'account-777', camera_id: 'account-777-zone-4' });
  });
});
