/** The receiver with the durable outbox (issue #6): ACK after fsync, NAK when full, unmapped events as dead letters. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { outboxActions } from '../../../src/server/app/status.js';
import { createLogger } from '../../../src/log.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { runCli } from '../../cli/run-cli.js';
import { until } from '../../e2e/api-harness.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../harness.js';

let running: TestBridge[] = [];
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

const frame = (account: string, data: string, seq: string) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data, timestamp: new Date() });

describe('receiver + outbox', () => {
  it('ACKs after the journal, delivers to the sink, keeps unmapped events as dead letters; retry after the fix delivers them with their original id', async () => {
    const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' }, '5555': { cameraId: 'cam5' } };
    const b = await startTestBridge({ accounts, outbox: { dir: 'outbox' } });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('1234', '#1234|NBA1', '0001'));
    panel.write(frame('5555', '#5555|NBA2', '0002'));
    const replies = await panel.waitForReplies(2);
    expect(replies.map((r) => text(r).includes('"ACK"'))).toEqual([true, true]);
    // Each ACK followed a journal round, and /metrics times every round (docs/performance.md §4).
    const rounds = (await b.bridge.metrics.outboxSync.get()).values.find((v) => v.metricName === 'alarm_bridge_outbox_sync_seconds_count');
    expect(rounds?.value).toBeGreaterThanOrEqual(1);
    await until(async () => (await b.events()).length === 1);
    expect(b.bridge.outbox!.status()).toMatchObject({ deadLetters: 1 });
    panel.end();
    await b.stop();

    const configPath = join(b.dir, 'bridge.json');
    const fixed = {
      accounts: { ...accounts, '5555': { locationId: 'LOC5', cameraId: 'cam5' } },
      outbox: { dir: 'outbox' },
      sink: { type: 'file', path: 'events.ndjson' },
    };
    await writeFile(configPath, JSON.stringify(fixed));
    const dead = await runCli(['outbox', 'list', '--dead', '--config', configPath]);
    const letter = JSON.parse(dead.stdout.trim());
    expect(letter).toMatchObject({ reason: 'unmapped-account', configKey: 'accounts["5555"].locationId', account: '5555' });
    // The warning names the event by the one log key for event ids.
    const warned = b
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((r) => r.reason === 'unmapped-account');
    expect(warned).toMatchObject({ event_id: letter.id, account: '5555' });
    expect(warned).not.toHaveProperty('eventId');
    const retried = await runCli(['outbox', 'retry', '--config', configPath]);
    expect(JSON.parse(retried.stdout)).toMatchObject({ requeued: 1, skipped: [] });
    const status = await runCli(['outbox', 'status', '--config', configPath]);
    expect(JSON.parse(status.stdout)).toMatchObject({ depth: 1, deadLetters: 0 });

    // A restarted bridge on the same outbox delivers the re-queued letter.
    const resumed = await startTestBridge({
      ...fixed,
      outbox: { dir: join(b.dir, 'outbox') },
      sink: { type: 'file', path: join(b.dir, 'events.ndjson') },
    });
    running.push(resumed);
    await until(async () => (await b.events()).length === 2);
    const events = await b.events();
    expect(events[1]).toMatchObject({ location_id: 'LOC5', camera_id: 'cam5', event_id: letter.id });
  });

  it("answers the status server's outbox actions: 200 with the report, 400 for a bad choice, 503 once the bridge is stopping", async () => {
    const b = await startTestBridge({ accounts: { '5555': { locationId: 'LOC-5' } }, outbox: { dir: 'outbox' } });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('5555', '#5555|NBA2', '0001'));
    await panel.waitForReplies(1);
    await until(async () => b.bridge.outbox!.status().deadLetters === 1);
    panel.end();
    const actions = outboxActions(b.bridge, 'token', createLogger({ level: 'silent' }), b.config.outbox!.dir)!;
    expect(actions.token).toBe('token');
    expect(await actions.retry({ account: '5555' })).toMatchObject({
      status: 200,
      body: { requeued: 0, skipped: [{ reason: 'unmapped-camera', configKey: expect.any(String) }] },
    });
    expect(await actions.discard({})).toMatchObject({ status: 400, body: { error: expect.stringMatching(/choose the dead letters/) } });
    expect(await actions.discard({ ids: 'e1' })).toMatchObject({ status: 400, body: { error: 'ids: expected a list of event ids' } });
    // The live views of `outbox status|list`.
    expect(await actions.status!(undefined)).toMatchObject({
      status: 200,
      body: { dir: b.config.outbox!.dir, state: 'running', deadLetters: 1 },
    });
    expect(await actions.list!({ dead: true })).toMatchObject({ status: 200, body: [{ account: '5555', reason: 'unmapped-camera' }] });
    expect(await actions.list!({ dead: 1 })).toMatchObject({ status: 400, body: { error: 'dead: expected true or false' } });
    await b.stop();
    expect(await actions.retry({})).toMatchObject({ status: 503, body: { error: expect.stringMatching(/^the bridge is stopping/) } });
    expect(await actions.discard({ all: true })).toMatchObject({ status: 503 });
  });

  it('ACKs a frame whose data does not decode and keeps it as a dead letter with the raw frame', async () => {
    const b = await startTestBridge({ accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } }, outbox: { dir: 'outbox' } });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(
      buildRequest({ token: 'ADM-CID', sequence: '0001', line: '0', account: '1234', data: '#1234|1130 003', timestamp: new Date() }),
    );
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"ACK"');
    const [letter] = await b.bridge.outbox!.list({ dead: true });
    expect(letter).toMatchObject({ reason: 'undecodable-data', account: '1234' });
    expect(letter!.detail).toContain('1130 003');
  });

  it('counts dead letters against maxBytes: a flood of unmapped events ends in NAKs, not an endless file', async () => {
    const b = await startTestBridge({
      accounts: { '5555': { cameraId: 'c' } },
      outbox: { dir: 'outbox', maxBytes: 6000 },
      receiver: { duplicateWindowSeconds: 0 },
    });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const kinds: string[] = [];
    for (let i = 0; i < 20; i++) {
      panel.write(frame('5555', `#5555|NBA${i + 1}`, String(i).padStart(4, '0')));
      const replies = await panel.waitForReplies(i + 1);
      kinds.push(text(replies[i]).includes('"ACK"') ? 'ACK' : 'NAK');
    }
    expect(kinds[0]).toBe('ACK');
    expect(kinds).toContain('NAK');
    expect(b.bridge.outbox!.status().state).toBe('full');
  });

  it('NAKs new frames when the outbox reached maxBytes, and still delivers what it had', async () => {
    const accounts = { '1234': { locationId: 'LOC', cameraId: 'cam' } };
    const b = await startTestBridge({ accounts, outbox: { dir: 'outbox', maxBytes: 2000 }, sink: { type: 'file', path: 'events.ndjson' } });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const kinds: string[] = [];
    for (let i = 0; i < 12; i++) {
      panel.write(frame('1234', `#1234|NBA${i + 1}`, String(i).padStart(4, '0')));
      const replies = await panel.waitForReplies(i + 1);
      kinds.push(text(replies[i]).includes('"ACK"') ? 'ACK' : 'NAK');
    }
    expect(kinds).toContain('NAK');
    const acked = kinds.filter((k) => k === 'ACK').length;
    await until(async () => (await b.events()).length === acked);
    expect(b.logs()).toContain('answering NAK');
  });
});
