import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../src/server/sources/token-buckets.js';

function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const takeN = (buckets: TokenBuckets, source: string, n: number) =>
  Array.from({ length: n }, () => buckets.take(source)).filter(Boolean).length;

describe('TokenBuckets', () => {
  it('lets a burst through at once, then refuses until tokens come back at the rate', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perSecond: 10, burst: 5, now: c.now });
    expect(takeN(buckets, 'a', 8)).toBe(5);
    c.advance(100); // one token back at 10/s
    expect(takeN(buckets, 'a', 3)).toBe(1);
    c.advance(10_000); // refills to the burst, not beyond
    expect(takeN(buckets, 'a', 20)).toBe(5);
  });

  it('keeps one bucket per source: a flooding source does not use up another one', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 3, now: c.now });
    expect(takeN(buckets, '192.0.2.1', 100)).toBe(3);
    expect(takeN(buckets, '192.0.2.2', 2)).toBe(2);
    expect(buckets.trackedSources).toBe(2);
  });

  it('stays bounded: past maxSources new sources share one overflow bucket until refilled sources are forgotten', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2, maxSources: 3, now: c.now });
    for (const s of ['s1', 's2', 's3']) expect(buckets.take(s)).toBe(true);
    // Three sources are tracked and none has refilled: s4, s5 and s6 draw on the same overflow bucket.
    expect([buckets.take('s4'), buckets.take('s5'), buckets.take('s6')]).toEqual([true, true, false]);
    expect(buckets.trackedSources).toBe(3);
    c.advance(2_000); // every tracked bucket is full again: they are forgotten when room is needed
    expect(buckets.take('s7')).toBe(true);
    expect(buckets.trackedSources).toBe(1);
  });

  const schedules = fc.array(
    fc.record({ waitMs: fc.integer({ min: 0, max: 500 }), source: fc.constantFrom('a', 'b', 'c'), tries: fc.integer({ min: 1, max: 30 }) }),
    { maxLength: 40 },
  );

  /** Tokens granted per source over the schedule, and the time it took. */
  function run(perSecond: number, burst: number, maxSources: number, schedule: { waitMs: number; source: string; tries: number }[]) {
    const c = clock();
    const buckets = new TokenBuckets({ perSecond, burst, maxSources, now: c.now });
    const granted = new Map<string, number>();
    let elapsedMs = 0;
    for (const step of schedule) {
      c.advance(step.waitMs);
      elapsedMs += step.waitMs;
      granted.set(step.source, (granted.get(step.source) ?? 0) + takeN(buckets, step.source, step.tries));
    }
    return { granted: [...granted.values()], allowance: burst + (perSecond * elapsedMs) / 1000 };
  }

  it('property: over any schedule, a source gets at most burst + rate × elapsed tokens', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), schedules, (perSecond, burst, schedule) => {
        const { granted, allowance } = run(perSecond, burst, 10, schedule);
        for (const n of granted) expect(n).toBeLessThanOrEqual(allowance + 1e-9);
      }),
    );
  });

  it('property: past maxSources the sources together get at most (maxSources + 1) allowances', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }), schedules, (perSecond, burst, schedule) => {
        const { granted, allowance } = run(perSecond, burst, 2, schedule);
        expect(granted.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * allowance + 1e-9);
      }),
    );
  });

  it('refuses a rate or burst that would never let anything through', () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 5 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ perSecond: 5, burst: 0 })).toThrow(RangeError);
  });
});
