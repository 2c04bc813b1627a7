/** The shared backoff (sink/retry.ts): full jitter, Retry-After honoured, an hour at most, max age. */
import { describe, expect, it } from 'vitest';
import { deliverWithRetry, fullJitterDelay, MAX_RETRY_AFTER_MS, nextRetryIn, retryWait } from '../../src/sink/retry.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../src/sink/types.js';

const event = { account: 'A', body: { event_id: 'evt-1' } } as OutgoingEvent;

describe('backoff', () => {
  it('retryWait: the backoff, or Retry-After when longer, never more than an hour', () => {
    const half = () => 0.5;
    expect(retryWait({ kind: 'retry', reason: 'HTTP 503' }, 2, 100, 10_000, half)).toBe(200);
    expect(retryWait({ kind: 'retry', afterMs: 5_000, reason: 'HTTP 429' }, 2, 100, 10_000, half)).toBe(5_000);
    expect(retryWait({ kind: 'retry', afterMs: 10, reason: 'HTTP 429' }, 2, 100, 10_000, half)).toBe(200);
    expect(retryWait({ kind: 'retry', afterMs: 1e12, reason: 'HTTP 429' }, 0, 100, 10_000, half)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('full jitter stays below the exponential ceiling', () => {
    expect(fullJitterDelay(0, 500, 60_000, () => 0.999)).toBe(499);
    expect(fullJitterDelay(3, 500, 60_000, () => 0.5)).toBe(2000);
    expect(fullJitterDelay(20, 500, 60_000, () => 0.5)).toBe(30_000);
    expect(fullJitterDelay(5, 500, 60_000, () => 0)).toBe(0);
  });
  it('nextRetryIn: the wait, or null once the next attempt would come at or past maxAgeMs', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 10_000, maxAgeMs: 1_000, random: () => 0.5 };
    const busy = { kind: 'retry', reason: 'HTTP 503' } as const;
    expect(nextRetryIn(policy, busy, 1, 5_000, 5_000)).toBe(50);
    expect(nextRetryIn(policy, busy, 3, 5_000, 5_000)).toBe(200);
    expect(nextRetryIn(policy, busy, 3, 5_799, 5_000)).toBe(200);
    expect(nextRetryIn(policy, busy, 3, 5_800, 5_000)).toBeNull();
    expect(nextRetryIn(policy, { kind: 'retry', afterMs: 2_000, reason: 'HTTP 429' }, 1, 5_000, 5_000)).toBeNull();
  });
});

describe('deliverWithRetry', () => {
  it('calls the sink again with the same event until the outcome is final', async () => {
    const outcomes: DeliveryOutcome[] = [
      { kind: 'retry', reason: 'HTTP 503' },
      { kind: 'retry', reason: 'HTTP 503' },
      { kind: 'accepted' },
    ];
    const seen: string[] = [];
    const sink: Sink = {
      name: 'scripted',
      deliver: async (e) => (seen.push(e.body.event_id), outcomes.shift()!),
      close: async () => undefined,
    };
    expect(await deliverWithRetry(sink, event, { maxAgeMs: 10_000, baseDelayMs: 2 })).toEqual({ kind: 'accepted' });
    expect(seen).toEqual(['evt-1', 'evt-1', 'evt-1']);
  });
});
