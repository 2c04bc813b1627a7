/**
 * Per-source token buckets: each source address may spend `burst` tokens at once and earns `perSecond` back.
 * The map stays bounded: a source whose bucket has refilled is the same as a new one and is forgotten when the
 * map needs room; when every tracked source is still busy, new sources share one overflow bucket (a flood from
 * ever-changing addresses then gets one source's allowance, not one each).
 */

export interface TokenBucketOptions {
  perSecond: number;
  burst: number;
  /** Sources tracked at most before new ones share the overflow bucket (default 10,000). */
  maxSources?: number;
  /** Milliseconds on a monotonic clock (default `performance.now`). */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly overflow: Bucket;
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  /** Earliest time the next sweep for refilled buckets may run: one sweep per refill period keeps it O(1) amortised. */
  private nextSweepMs = -Infinity;

  constructor(options: TokenBucketOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1))
      throw new RangeError(`perSecond must be > 0 and burst >= 1, got ${options.perSecond} and ${options.burst}`);
    this.perMs = options.perSecond / 1000;
    this.burst = options.burst;
    this.maxSources = options.maxSources ?? 10_000;
    this.now = options.now ?? (() => performance.now());
    this.overflow = { tokens: this.burst, atMs: this.now() };
  }

  /** Sources with a bucket of their own right now. */
  get trackedSources(): number {
    return this.buckets.size;
  }

  /** Spends one token of `source`; false when it has none left. */
  take(source: string): boolean {
    const nowMs = this.now();
    const bucket = this.buckets.get(source) ?? this.newBucket(source, nowMs);
    bucket.tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.atMs) * this.perMs);
    bucket.atMs = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private newBucket(source: string, nowMs: number): Bucket {
    if (this.buckets.size >= this.maxSources) this.sweep(nowMs);
    if (this.buckets.size >= this.maxSources) return this.overflow;
    const bucket = { tokens: this.burst, atMs: nowMs };
    this.buckets.set(source, bucket);
    return bucket;
  }

  /** Forgets the sources whose bucket would be full again (they lose nothing by starting over). */
  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweepMs) return;
    this.nextSweepMs = nowMs + this.burst / this.perMs;
    for (const [source, bucket] of this.buckets) {
      if (bucket.tokens + (nowMs - bucket.atMs) * this.perMs >= this.burst) this.buckets.delete(source);
    }
  }
}
