/** The in-memory queue in front of the Partner API when no outbox is configured: ACK does not wait, order per account. */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { queueAcceptor, directAcceptor } from '../../src/server/acceptor.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../src/sink/types.js';

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

describe('directAcceptor', () => {
  it('rejects (→ NAK) when the sink does not take the event', async () => {
    const refusing: Sink = { name: 'refusing', deliver: async () => ({ kind: 'retry', reason: 'disk full' }), close: async () => undefined };
    await expect(directAcceptor(refusing).accept([event('A', 1)])).rejects.toThrow(/did not take/);
  });
});
