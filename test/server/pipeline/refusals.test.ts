/**
 * The pipeline reads the log's refusals by their typed `refusal` (never the error's class name): each one is a NAK
 * with its `rejections` metric reason, and a refusal whose events stay stored is not appended again on a
 * retransmission.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { RefusalError, type DurableLog } from '../../../src/sink/durable-log.js';
import { QueueFullError } from '../../../src/sink/memory-queue.js';
import { DeliveryTimeoutError, OutboxFullError } from '../../../src/sink/outbox/index.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../harness.js';

let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

/** A log that refuses every append with `refusal`, keeping what it was offered. */
function refusingLog(refusal: () => Error): DurableLog & { appends: OutgoingEvent[][] } {
  const appends: OutgoingEvent[][] = [];
  return {
    appends,
    append: async (events) => {
      appends.push([...events]);
      throw refusal();
    },
    status: () => ({ depth: 0, oldestAgeSeconds: 0, state: 'full', inFlight: 0 }),
    close: async () => undefined,
  };
}

const frame = (sequence: string) =>
  buildRequest({ token: 'SIA-DCS', sequence, line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date() });

async function rejectionReasons(b: TestBridge): Promise<Record<string, number>> {
  const metric = await b.bridge.metrics.rejections.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('refusals of the durable log', () => {
  it.each([
    ['outbox-full', () => new OutboxFullError('max-bytes', 'full')],
    ['queue-full', () => new QueueFullError('full')],
    ['outbox-full', () => new RefusalError('log-full', 'a log of another backend is full')],
    ['not-accepted', () => new RefusalError('write-failed', 'write failed')],
    ['store-unavailable', () => new RefusalError('store-unavailable', 'the events stream has no quorum')],
    ['not-accepted', () => new Error('a bug')],
  ])('answers NAK and counts rejections{reason="%s"}', async (reason, refusal) => {
    const log = refusingLog(refusal);
    running = await startTestBridge({ accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } } }, { log });
    const panel = await TcpPanel.open(running.bridge.port('tcp'));
    panel.write(frame('0001'));
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"NAK"');
    expect(await rejectionReasons(running)).toEqual({ [reason]: 1 });
    // Nothing stored: the retransmission is offered to the log again.
    panel.write(frame('0002'));
    await panel.waitForReplies(2);
    expect(log.appends).toHaveLength(2);
    panel.end();
  });

  it('a refusal whose events stay stored (ackAfter "delivered" timing out) is NAKed, and its retransmission is not appended again', async () => {
    const log = refusingLog(() => new DeliveryTimeoutError(['evt'], 10));
    running = await startTestBridge(
      { accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } }, receiver: { duplicateWindowSeconds: 120 } },
      { log },
    );
    const panel = await TcpPanel.open(running.bridge.port('tcp'));
    const sent = frame('0001');
    panel.write(sent);
    const [first] = await panel.waitForReplies(1);
    expect(text(first)).toContain('"NAK"');
    expect(await rejectionReasons(running)).toEqual({ 'delivery-timeout': 1 });
    panel.write(sent);
    const replies = await panel.waitForReplies(2);
    expect(text(replies[1])).toContain('"ACK"');
    expect(log.appends).toHaveLength(1);
    panel.end();
  });
});
