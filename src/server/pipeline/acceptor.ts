/**
 * The accept step of the receiver's durability contract (issue #4): a frame is ACKed only after
 * `accept(events)` resolved; when it rejects the panel gets a NAK and retries.
 */
import type { Logger } from '../../log.js';
import { deliverWithRetry } from '../../sink/retry.js';
import type { OutgoingEvent, Sink } from '../../sink/types.js';

/** An event the mapper could not or would not forward, kept for the operator (issue #3 "Unmapped input"). */
export interface UnmappedRecord {
  eventId: string;
  account: string;
  reason: string;
  message: string;
  configKey?: string;
  panelEvent: unknown;
  partial?: unknown;
  /** The frame's SourceFrame and the event's index in it: enough to map it again once the config is fixed. */
  source?: unknown;
  index?: number;
}

export interface EventAcceptor {
  /** Resolves once the events are safe; rejects when they are not. */
  accept(events: OutgoingEvent[]): Promise<void>;
  /** Keeps an unmapped event for the operator; optional (without an outbox it is only logged). */
  keepUnmapped?(record: UnmappedRecord): Promise<void>;
  close(): Promise<void>;
}

/**
 * Hands each event straight to the sink and waits for it: right for the file sink, whose write is the
 * durability point. Anything but accepted/discarded rejects (→ NAK).
 */
export function directAcceptor(sink: Sink): EventAcceptor {
  return {
    async accept(events) {
      for (const event of events) {
        const outcome = await sink.deliver(event);
        if (outcome.kind !== 'accepted' && outcome.kind !== 'discarded') {
          throw new Error(`sink ${sink.name} did not take event ${event.body.event_id}: ${outcome.kind} (${'reason' in outcome ? outcome.reason : ''})`);
        }
      }
    },
    close: () => sink.close(),
  };
}

export interface QueueAcceptorOptions {
  logger: Logger;
  maxAgeMs: number;
  /** Accounts delivered in parallel. */
  concurrency?: number;
  /** Events waiting (queued or being delivered) at most; `accept` refuses more with `QueueFullError`. */
  maxQueued?: number;
}

/** The in-memory queue holds `maxQueuedEvents`: the frame is NAKed, so the panel keeps the event and retries. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

/**
 * In-memory queue in front of a remote sink when no outbox is configured: the ACK never waits for the API;
 * each account's events go out in order, accounts in parallel. Not crash-safe — the outbox is.
 */
export function queueAcceptor(sink: Sink, options: QueueAcceptorOptions): EventAcceptor {
  const queues = new Map<string, OutgoingEvent[]>();
  const running = new Set<string>();
  const waiting: string[] = [];
  const abort = new AbortController();
  const concurrency = options.concurrency ?? 8;
  const maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
  /** Events accepted and not yet finished with (the memory the queue holds). */
  let queued = 0;
  let fullSince: number | null = null;
  let idle: (() => void) | null = null;

  const pump = () => {
    while (running.size < concurrency && waiting.length > 0) {
      const account = waiting.shift()!;
      running.add(account);
      void drain(account);
    }
    if (running.size === 0 && waiting.length === 0 && idle) idle();
  };

  const drain = async (account: string) => {
    const queue = queues.get(account)!;
    while (queue.length > 0 && !abort.signal.aborted) {
      const event = queue[0]!;
      try {
        const outcome = await deliverWithRetry(sink, event, { maxAgeMs: options.maxAgeMs, signal: abort.signal });
        if (outcome.kind === 'permanent') {
          options.logger.error({ account, eventId: event.body.event_id, status: outcome.status, reason: outcome.reason }, 'event permanently refused by the sink');
        }
      } catch (err) {
        options.logger.error({ account, eventId: event.body.event_id, err: String(err) }, 'event delivery failed');
      }
      queue.shift();
      queued--;
    }
    queues.delete(account);
    running.delete(account);
    pump();
  };

  return {
    async accept(events) {
      if (queued + events.length > maxQueued) {
        // Logged when the queue fills and when it drains again, not once per refused frame.
        if (fullSince === null) {
          fullSince = Date.now();
          options.logger.error({ queued, maxQueued }, 'in-memory queue full (no outbox): new frames are NAKed until the API takes events again');
        }
        throw new QueueFullError(`in-memory queue full: ${queued} events waiting, sink.maxQueuedEvents ${maxQueued}`);
      }
      if (fullSince !== null) {
        options.logger.info({ queued, fullSeconds: Math.round((Date.now() - fullSince) / 1000) }, 'in-memory queue: accepting again');
        fullSince = null;
      }
      queued += events.length;
      for (const event of events) {
        let queue = queues.get(event.account);
        if (!queue) {
          queue = [];
          queues.set(event.account, queue);
          if (!running.has(event.account)) waiting.push(event.account);
        }
        queue.push(event);
      }
      pump();
    },
    async close() {
      if (running.size > 0 || waiting.length > 0) {
        const pending = [...queues.values()].reduce((n, q) => n + q.length, 0);
        const settled = new Promise<void>((resolve) => (idle = resolve));
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
        if ((await Promise.race([settled, timeout])) === 'timeout') {
          options.logger.warn({ pending }, 'stopping with undelivered events (no outbox configured: they are lost)');
          abort.abort();
        }
      }
      await sink.close();
    },
  };
}
