/**
 * Dead letters after an API refusal (issue #6): the operator fixes the config, `outbox retry` re-queues the letter
 * mapped again from its frame (same event id), and the restarted bridge delivers it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
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
    panel.write(buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date() }));
    await panel.waitForReplies(1);
    await until(() => first.bridge.outbox!.status().deadLetters === 1);
    panel.end();
    await first.stop();

    const configPath = join(dir, 'bridge.json');
    const fixed = { ...broken, accounts: { '1234': { locationId: 'LOC', cameraId: 'cam-ok' } } };
    await writeFile(configPath, JSON.stringify(fixed));
    const [letter] = (await runCli(['outbox', 'list', '--dead', '--config', configPath])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(letter).toMatchObject({ reason: 'permanent', status: 404 });
    const retried = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(JSON.parse(retried.stdout)).toMatchObject({ requeued: 1 });

    const second = await startTestBridge(fixed);
    bridges.push(second);
    await until(() => emulator!.events().length === 1);
    expect(emulator.events()[0]!.body).toMatchObject({ camera_id: 'cam-ok', event_id: letter.id });
  }, 30_000);
});
