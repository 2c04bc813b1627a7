/**
 * Dead letters after an API refusal (issue #6): the operator fixes the config, `outbox retry` re-queues the letter
 * mapped again from its frame (same event id), and the restarted bridge delivers it. Letters the operator gives up
 * on are dropped with `outbox discard`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { createLogger } from '../../src/log.js';
import { openOutbox } from '../../src/sink/outbox/index.js';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { runCli } from '../cli/run-cli.js';
import { startTestBridge, TcpPanel, type TestBridge } from '../server/harness.js';
import { emulatorSink, until } from './api-harness.js';

let emulator: Emulator | null = null;
const bridges: TestBridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
  await emulator?.close();
});

describe('outbox retry after an API refusal', () => {
  it('re-maps the refused event with the fixed config and delivers it with its original id', async () => {
    emulator = await startEmulator({ quiet: true, statusScript: [404] });
    const { dir, sink } = await emulatorSink(emulator);
    const outbox = { dir: join(dir, 'outbox') };
    const broken = { accounts: { '1234': { locationId: 'LOC', cameraId: 'WRONG-CAM' } }, outbox, sink, log: { level: 'warn' } };
    const first = await startTestBridge(broken);
    bridges.push(first);
    const panel = await TcpPanel.open(first.bridge.port('tcp'));
    panel.write(
      buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date() }),
    );
    await panel.waitForReplies(1);
    await until(() => first.bridge.outbox!.status().deadLetters === 1);
    panel.end();
    await first.stop();

    const configPath = join(dir, 'bridge.json');
    const fixed = { ...broken, accounts: { '1234': { locationId: 'LOC', cameraId: 'cam-ok' } } };
    await writeFile(configPath, JSON.stringify(fixed));
    const [letter] = (await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letter).toMatchObject({ reason: 'permanent', status: 404 });
    const retried = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(JSON.parse(retried.stdout)).toMatchObject({ requeued: 1 });

    const second = await startTestBridge(fixed);
    bridges.push(second);
    await until(() => emulator!.events().length === 1);
    expect(emulator.events()[0]!.body).toMatchObject({ camera_id: 'cam-ok', event_id: letter.id });
  }, 30_000);
});

describe('outbox discard', () => {
  it('drops the chosen dead letters, prints each one and a summary, and refuses to run without a choice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'discard-'));
    try {
      const config = { accounts: {}, outbox: { dir: join(dir, 'outbox') }, sink: { type: 'file', path: 'events.ndjson' } };
      const configPath = join(dir, 'bridge.json');
      await writeFile(configPath, JSON.stringify(config));
      // Two letters as the receiver keeps them for an unmapped account, written by a real outbox.
      const outbox = await openOutbox(
        { dir: join(dir, 'outbox'), ackAfter: 'persisted', maxBytes: 1e9, deliveredTimeoutSeconds: 10, maxAgeHours: 72 },
        {
          logger: createLogger({ level: 'silent' }),
          start: false,
        },
      );
      await outbox.keepNotForwarded([
        { eventId: 'e-1', account: '1234', reason: 'unmapped-account', message: 'no location' },
        { eventId: 'e-2', account: '5678', reason: 'unmapped-camera', message: 'no camera' },
      ]);
      await outbox.close();

      const refused = await runCli(['outbox', 'discard', '--config', configPath]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--id, --account or --reason, or pass --all/);

      const done = await runCli(['outbox', 'discard', '--reason', 'unmapped-camera', '--config', configPath]);
      expect(done.code).toBe(0);
      const lines = done.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([expect.objectContaining({ id: 'e-2', reason: 'unmapped-camera' }), { discarded: 1, ids: ['e-2'] }]);
      const status = JSON.parse((await runCli(['outbox', 'status', '--config', configPath])).stdout);
      expect(status.deadLetters).toBe(1);
      const all = await runCli(['outbox', 'discard', '--all', '--config', configPath]);
      expect(JSON.parse(all.stdout.trim().split('\n').at(-1)!)).toEqual({ discarded: 1, ids: ['e-1'] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
