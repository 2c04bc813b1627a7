/** The in-memory queue in front of the Partner API when no outbox is configured: ACK does not wait, order per account. */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { openMemoryQueue, QueueFullError } from '../../src/sink/memory-queue.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../src/sink/types.js';
import { until } from '../e2e/api-harness.js';
import { FAILING_ACCOUNTS, otherAccountDelayMs, startFailingApi } from './failing-api.js';

const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function event(account: string, n: number): OutgoingEvent {
  return { account, body: { event_id: `${account}-${n}` } as OutgoingEvent['body'] };
}

/** A real Sink whose deliveries take a random time and sometimes ask for a retry. */
class JitterSink implements Sink {
  readonly name = 'jitter';
  readonly delivered: string[] = [];
  async deliver(e: OutgoingEvent): Promise<DeliveryOutcome> {
    await new Promise((r) => setTimeout(r, Math.random() * 4));
    if (Math.random() < 0.15) return { kind: 'retry', afterMs: 1, reason: 'try again' };
    this.delivered.push(e.body.event_id);
    return { kind: 'accepted' };
  }
  async close(): Promise<void> {}
}

describe('memory queue', () => {
  it('resolves append at once and delivers each account in order, accounts in parallel', async () => {
    const sink = new JitterSink();
    const queue = openMemoryQueue(sink, { logger, maxAgeMs: 60_000, concurrency: 3 });
    const accounts = ['A', 'B', 'C', 'D', 'E'];
    for (let n = 0; n < 20; n++) for (const a of accounts) await queue.append([event(a, n)]);
    const start = Date.now();
    while (sink.delivered.length < 100 && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 10));
    for (const a of accounts) {
      expect(sink.delivered.filter((id) => id.startsWith(`${a}-`))).toEqual(Array.from({ length: 20 }, (_, n) => `${a}-${n}`));
    }
    await queue.close();
  });

  it('8 accounts whose events keep getting 503 do not delay another account: its event arrives within a second', async () => {
    const api = await startFailingApi(new Set(FAILING_ACCOUNTS));
    const queue = openMemoryQueue(api.sink, { logger, maxAgeMs: 3_600_000, concurrency: 8, closeGraceMs: 100 });
    try {
      expect(await otherAccountDelayMs(api, queue)).toBeLessThan(1_000);
      // The failing accounts' events stay queued; the other one's leaves once its answer is in.
      await until(() => queue.status().depth === 16);
    } finally {
      await queue.close();
      await api.close();
    }
  });
});

/** A real Sink that holds every delivery until `open()` is called (an API that is down, then back). */
class GatedSink implements Sink {
  readonly name = 'gated';
  readonly delivered: string[] = [];
  private release: (() => void) | null = null;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release?.();
  }
  async deliver(e: OutgoingEvent): Promise<DeliveryOutcome> {
    await this.gate;
    this.delivered.push(e.body.event_id);
    return { kind: 'accepted' };
  }
  async close(): Promise<void> {}
}

describe('memory queue bound (sink.maxQueuedEvents)', () => {
  it('refuses with QueueFullError (→ NAK) past the bound, logs once, and accepts again once events went out', async () => {
    const lines: string[] = [];
    const captured = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const sink = new GatedSink();
    const queue = openMemoryQueue(sink, { logger: captured, maxAgeMs: 60_000, concurrency: 2, maxQueued: 5 });
    for (let n = 0; n < 5; n++) await queue.append([event(`A${n % 2}`, n)]);
    await expect(queue.append([event('B', 1)])).rejects.toBeInstanceOf(QueueFullError);
    await expect(queue.append([event('B', 2)])).rejects.toThrow(/maxQueuedEvents 5/);
    await expect(queue.append([event('B', 2)])).rejects.toMatchObject({ refusal: 'queue-full', stored: false });
    expect(queue.status()).toMatchObject({ depth: 5, state: 'full', inFlight: 2 });
    expect(lines.filter((l) => l.includes('in-memory queue full'))).toHaveLength(1);

    sink.open();
    const start = Date.now();
    while (sink.delivered.length < 5 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 5));
    await queue.append([event('B', 3)]);
    expect(lines.some((l) => l.includes('in-memory queue: accepting again'))).toBe(true);
    while (sink.delivered.length < 6 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(sink.delivered).toContain('B-3');
    expect(sink.delivered).not.toContain('B-1');
    await queue.close();
    await expect(queue.append([event('B', 4)])).rejects.toMatchObject({ refusal: 'closed' });
  });
});
