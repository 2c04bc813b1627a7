/** The in-memory queue in front of the Partner API when no outbox is configured: ACK does not wait, order per account. */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log.js';
import { directAcceptor, queueAcceptor, QueueFullError } from '../../../src/server/pipeline/acceptor.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../../src/sink/types.js';

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

describe('queueAcceptor', () => {
  it('resolves accept at once and delivers each account in order, accounts in parallel', async () => {
    const sink = new JitterSink();
    const acceptor = queueAcceptor(sink, { logger, maxAgeMs: 60_000, concurrency: 3 });
    const accounts = ['A', 'B', 'C', 'D', 'E'];
    for (let n = 0; n < 20; n++) for (const a of accounts) await acceptor.accept([event(a, n)]);
    const start = Date.now();
    while (sink.delivered.length < 100 && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 10));
    for (const a of accounts) {
      expect(sink.delivered.filter((id) => id.startsWith(`${a}-`))).toEqual(Array.from({ length: 20 }, (_, n) => `${a}-${n}`));
    }
    await acceptor.close();
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

describe('queueAcceptor memory bound (sink.maxQueuedEvents)', () => {
  it('refuses with QueueFullError (→ NAK) past the bound, logs once, and accepts again once events went out', async () => {
    const lines: string[] = [];
    const captured = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const sink = new GatedSink();
    const acceptor = queueAcceptor(sink, { logger: captured, maxAgeMs: 60_000, concurrency: 2, maxQueued: 5 });
    for (let n = 0; n < 5; n++) await acceptor.accept([event(`A${n % 2}`, n)]);
    await expect(acceptor.accept([event('B', 1)])).rejects.toBeInstanceOf(QueueFullError);
    await expect(acceptor.accept([event('B', 2)])).rejects.toThrow(/maxQueuedEvents 5/);
    expect(lines.filter((l) => l.includes('in-memory queue full'))).toHaveLength(1);

    sink.open();
    const start = Date.now();
    while (sink.delivered.length < 5 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 5));
    await acceptor.accept([event('B', 3)]);
    expect(lines.some((l) => l.includes('in-memory queue: accepting again'))).toBe(true);
    while (sink.delivered.length < 6 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(sink.delivered).toContain('B-3');
    expect(sink.delivered).not.toContain('B-1');
    await acceptor.close();
  });
});

describe('directAcceptor', () => {
  it('rejects (→ NAK) when the sink does not take the event', async () => {
    const refusing: Sink = { name: 'refusing', deliver: async () => ({ kind: 'retry', reason: 'disk full' }), close: async () => undefined };
    await expect(directAcceptor(refusing).accept([event('A', 1)])).rejects.toThrow(/did not take/);
  });
});
