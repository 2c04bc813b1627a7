/**
 * The pipeline's per-event log line (docs/performance.md §3): one flat line per accepted frame with events, at info;
 * link tests at debug only. Over a real socket into a bridge whose log is captured.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { startTestBridge, TcpPanel, type TestBridge } from '../harness.js';

let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' } };
const lines = (b: TestBridge) =>
  b
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('per-event log line', () => {
  it('is one info line of flat string fields: account, peer, transport, sequence and the codes, which the message repeats', async () => {
    running = await startTestBridge({ accounts, log: { level: 'info' } });
    const panel = await TcpPanel.open(running.bridge.port('tcp'));
    const data = '#1234|Nri1/BA5/ri1/BR5';
    panel.write(buildRequest({ token: 'SIA-DCS', sequence: '0031', line: '0', account: '1234', data, timestamp: new Date() }));
    panel.write(
      buildRequest({ token: 'ADM-CID', sequence: '0032', line: '0', account: '1234', data: '#1234|1130 01 003', timestamp: new Date() }),
    );
    await panel.waitForReplies(2);
    const perEvent = lines(running).filter((l) => l.sequence !== undefined);
    expect(perEvent).toEqual([
      expect.objectContaining({
        level: 30,
        account: '1234',
        transport: 'tcp',
        sequence: '0031',
        codes: 'BA BR',
        msg: 'SIA-DCS 1234 BA BR',
      }),
      expect.objectContaining({ level: 30, account: '1234', transport: 'tcp', sequence: '0032', codes: '1130', msg: 'ADM-CID 1234 1130' }),
    ]);
    for (const line of perEvent) {
      expect(line.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      // Flat: nothing nested for the serialiser to walk.
      expect(Object.values(line).every((v) => typeof v !== 'object')).toBe(true);
    }
    panel.end();
  });

  it('leaves a link test (NULL, no events) to the debug level', async () => {
    running = await startTestBridge({ accounts, log: { level: 'info' } });
    const panel = await TcpPanel.open(running.bridge.port('tcp'));
    panel.write(buildRequest({ token: 'NULL', sequence: '0007', line: '0', account: '1234', data: '', timestamp: new Date() }));
    await panel.waitForReplies(1);
    expect(lines(running).filter((l) => l.sequence === '0007')).toEqual([]);
    panel.end();
  });
});
