/**
 * The backoff of every delivery retry (the outbox, the in-memory queue, media steps): exponential with full jitter,
 * never sooner than the API's Retry-After asks, never longer than an hour. No I/O besides `deliverWithRetry`'s sleep.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryOutcome, OutgoingEvent, Sink } from './types.js';

/**
 * The longest wait before retrying, whatever a `retry` outcome's `afterMs` (the API's Retry-After) says: a larger
 * one would hold an alarm back longer than any operator wants, and past 24.8 days a timer would fire at once.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** Full jitter: a uniform wait in [0, min(max, base · 2^attempt)). */
export function fullJitterDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The wait before the next attempt after a `retry` outcome: the backoff, or the API's Retry-After when longer, but
 * never more than MAX_RETRY_AFTER_MS. Used by the delivery scheduler (outbox and in-memory queue) and `deliverWithRetry` alike.
 */
export function retryWait(
  outcome: Extract<DeliveryOutcome, { kind: 'retry' }>,
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(outcome.afterMs ?? 0, fullJitterDelay(attempt, baseMs, maxMs, random)));
}

/** How a delivery scheduler retries: the backoff's base and cap, and how long an event may keep failing. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Past this age (counted from `since`) the event is given up on instead of waited for. */
  maxAgeMs: number;
  /** Uniform [0, 1) (tests). */
  random?: () => number;
}

/**
 * The wait before attempt `attempts + 1` after a `retry` outcome, or null when that attempt would come at or past
 * `maxAgeMs` after `since` (give up now rather than after a wait that ends too late anyway).
 */
export function nextRetryIn(
  policy: RetryPolicy,
  outcome: Extract<DeliveryOutcome, { kind: 'retry' }>,
  attempts: number,
  now: number,
  since: number,
): number | null {
  const wait = retryWait(outcome, Math.max(0, attempts - 1), policy.baseDelayMs, policy.maxDelayMs, policy.random);
  return now + wait - since >= policy.maxAgeMs ? null : wait;
}

export interface DeliverWithRetryOptions {
  /** Give up (permanent, 'max age exceeded') once the next attempt would come later than this after the first. */
  maxAgeMs: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** When the event was first attempted (an outbox passes the stored time); default: now. */
  firstAttemptAt?: Date | number;
  /** Aborting stops waiting and resolves with the last `retry` outcome. */
  signal?: AbortSignal;
  /** Epoch milliseconds (tests). */
  clock?: () => number;
  /** Uniform [0, 1) (tests). */
  random?: () => number;
  /** Called before each wait. */
  onRetry?: (outcome: Extract<DeliveryOutcome, { kind: 'retry' }>, attempt: number, waitMs: number) => void;
}

/**
 * Calls `sink.deliver` until the outcome is final: exponential backoff with full jitter, never sooner than a
 * `Retry-After` asks, up to `maxAgeMs` after the first attempt. The event (and so its `event_id`) is the same on
 * every attempt.
 */
export async function deliverWithRetry(sink: Sink, event: OutgoingEvent, opts: DeliverWithRetryOptions): Promise<DeliveryOutcome> {
  const clock = opts.clock ?? Date.now;
  const baseDelayMs = opts.baseDelayMs ?? 500;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const random = opts.random ?? Math.random;
  const first =
    opts.firstAttemptAt === undefined
      ? clock()
      : typeof opts.firstAttemptAt === 'number'
        ? opts.firstAttemptAt
        : opts.firstAttemptAt.getTime();

  for (let attemptNo = 0; ; attemptNo++) {
    const outcome = await sink.deliver(event);
    if (outcome.kind !== 'retry') return outcome;
    const wait = retryWait(outcome, attemptNo, baseDelayMs, maxDelayMs, random);
    if (clock() + wait - first > opts.maxAgeMs) {
      return {
        kind: 'permanent',
        reason: 'max age exceeded',
        response: { lastReason: outcome.reason, attempts: attemptNo + 1 },
      };
    }
    if (opts.signal?.aborted) return outcome;
    opts.onRetry?.(outcome, attemptNo + 1, wait);
    try {
      await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : undefined);
    } catch {
      return outcome;
    }
  }
}
