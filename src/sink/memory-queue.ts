/**
 * The in-memory queue in front of a remote sink when no outbox is configured: `append` resolves at once (the ACK
 * never waits for the API), each account's events go out in order through the shared scheduler, accounts in
 * parallel, and an account in a backoff does not hold a slot. Not crash-safe — the outbox is.
 */
import { describeError, type Logger } from '../log.js';
import { RefusalError, type DurableLog, type LogStatus } from './durable-log.js';
import { nextRetryIn } from './retry.js';
import { AccountScheduler, systemTimers, type Step, type Timers } from './scheduler.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from './types.js';

export interface MemoryQueueOptions {
  logger: Logger;
  /** An event that keeps failing is given up on this long after its first attempt (`sink.maxRetryAgeSeconds`). */
  maxAgeMs: number;
  /** Accounts delivered in parallel. */
  concurrency?: number;
  /** Events waiting (queued or being delivered) at most; `append` refuses more with `QueueFullError`. */
  maxQueued?: number;
  /** Backoff base and cap (defaults 500 ms and 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long `close` waits for the queue to empty before giving the rest up (default 5 s). */
  closeGraceMs?: number;
  timers?: Timers;
  random?: () => number;
}

/** The queue holds `maxQueuedEvents`: the frame is NAKed, so the panel keeps the event and retries. */
export class QueueFullError extends RefusalError {
  override readonly name = 'QueueFullError';
  constructor(message: string) {
    super('queue-full', message);
  }
}

interface Queued {
  event: OutgoingEvent;
  acceptedAt: number;
  firstAttemptAt: number | null;
  attempts: number;
}

const DONE: Step = { kind: 'done' };
const DELIVERED: Step = { kind: 'done', delivered: true };

export function openMemoryQueue(sink: Sink, options: MemoryQueueOptions): DurableLog {
  const { logger } = options;
  const timers = options.timers ?? systemTimers;
  const maxQueued = options.maxQueued ?? Number.POSITIVE_INFINITY;
  const policy = {
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    maxAgeMs: options.maxAgeMs,
    ...(options.random ? { random: options.random } : {}),
  };
  let fullSince: number | null = null;
  let closing: Promise<void> | null = null;

  const attempt = async (item: Queued): Promise<Step> => {
    const { event } = item;
    const now = timers.now();
    item.firstAttemptAt ??= now;
    item.attempts++;
    let outcome: DeliveryOutcome;
    try {
      outcome = await sink.deliver(event);
    } catch (err) {
      outcome = { kind: 'retry', reason: `sink failed: ${describeError(err)}` };
    }
    if (outcome.kind === 'retry') {
      const wait = nextRetryIn(policy, outcome, item.attempts, timers.now(), item.firstAttemptAt);
      if (wait !== null) return { kind: 'retry', afterMs: wait, failure: { reason: outcome.reason, attempts: item.attempts } };
      outcome = { kind: 'permanent', reason: 'max age exceeded', response: { lastReason: outcome.reason, attempts: item.attempts } };
    }
    if (outcome.kind === 'permanent') {
      logger.error(
        { account: event.account, event_id: event.body.event_id, status: outcome.status, reason: outcome.reason },
        'event permanently refused by the sink',
      );
      return DONE;
    }
    return outcome.kind === 'accepted' ? DELIVERED : DONE;
  };
  const scheduler = new AccountScheduler<Queued>({
    concurrency: options.concurrency ?? 8,
    account: (item) => item.event.account,
    attempt,
    timers,
    logger,
  });
  scheduler.start();

  return {
    async append(events) {
      if (closing) throw new RefusalError('closed', 'the in-memory queue is closing');
      const queued = scheduler.size;
      if (queued + events.length > maxQueued) {
        // Logged when the queue fills and when it drains again, not once per refused frame.
        if (fullSince === null) {
          fullSince = timers.now();
          logger.error({ queued, maxQueued }, 'in-memory queue full (no outbox): new frames are NAKed until the API takes events again');
        }
        throw new QueueFullError(`in-memory queue full: ${queued} events waiting, sink.maxQueuedEvents ${maxQueued}`);
      }
      if (fullSince !== null) {
        logger.info({ queued, fullSeconds: Math.round((timers.now() - fullSince) / 1000) }, 'in-memory queue: accepting again');
        fullSince = null;
      }
      const acceptedAt = timers.now();
      for (const event of events) scheduler.add({ event, acceptedAt, firstAttemptAt: null, attempts: 0 });
    },
    status(): LogStatus {
      let oldest = Number.POSITIVE_INFINITY;
      for (const item of scheduler.items()) oldest = Math.min(oldest, item.acceptedAt);
      return {
        depth: scheduler.size,
        oldestAgeSeconds: scheduler.size === 0 ? 0 : Math.max(0, (timers.now() - oldest) / 1000),
        state: closing ? 'closed' : fullSince !== null ? 'full' : 'running',
        inFlight: scheduler.running,
      };
    },
    close() {
      closing ??= (async () => {
        if (scheduler.size > 0) {
          let timer: unknown = null;
          const timedOut = await Promise.race([
            scheduler.whenEmpty().then(() => false),
            new Promise<boolean>((resolve) => (timer = timers.set(() => resolve(true), options.closeGraceMs ?? 5000))),
          ]);
          timers.clear(timer);
          if (timedOut) {
            logger.warn({ pending: scheduler.size }, 'stopping with undelivered events (no outbox configured: they are lost)');
            scheduler.stop();
          }
        }
      })();
      return closing;
    },
  };
}
