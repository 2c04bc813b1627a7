/**
 * The delivery lease (docs/cluster.md §5): the key `delivery-lease` in the state bucket names the one instance that
 * delivers. Every change is revision-checked, so of two instances racing for it exactly one wins:
 *
 * - free (absent or deleted): `kv.create`;
 * - held by someone who stopped renewing: `kv.update` against the revision this instance saw unchanged for the lease
 *   time, measured on its own clock (no clock is compared with another machine's);
 * - held by this instance: renewed every `renewMs` with `kv.update` against its own last revision; a renewal refused
 *   because the revision moved means someone took it: delivery stops at once;
 * - a holder that could not renew for `stopAfterMs` (2/3 of the lease time) stops delivering before any standby can
 *   take over, and resumes if a later renewal still finds its revision.
 *
 * The lease sets the instance's ClusterRole; delivery follows the role.
 */
import type { KV, KvEntry } from '@nats-io/kv';

import { describeError, type Logger } from '../../log.js';
import { systemTimers, type Timers } from '../scheduler.js';
import type { ClusterRole } from './role.js';

export const LEASE_KEY = 'delivery-lease';
/** A standby takes over once the holder's revision stood still this long: takeover within 15 s of a death. */
export const LEASE_MS = 9_000;
export const RENEW_MS = 2_000;
/** How often the lease is looked at (renewal due, deadline passed, a standby's watch). */
export const CHECK_MS = 500;

/** JetStream's "wrong last sequence": the revision moved since it was read. */
const WRONG_LAST_SEQUENCE = 10071;

export interface LeaseValue {
  instance: string;
  /** ISO 8601, this holder's clock: for the operator only, never compared. */
  renewedAt: string;
}

export interface LeaseOptions {
  kv: KV;
  instance: string;
  role: ClusterRole;
  logger: Logger;
  leaseMs?: number;
  renewMs?: number;
  checkMs?: number;
  timers?: Timers;
}

/** The lease's holder as stored, or null when free. */
export async function readLease(kv: KV): Promise<(LeaseValue & { revision: number }) | null> {
  const entry = await kv.get(LEASE_KEY);
  const value = entry ? leaseValue(entry) : null;
  return value && entry ? { ...value, revision: entry.revision } : null;
}

function leaseValue(entry: KvEntry): LeaseValue | null {
  if (entry.operation !== 'PUT') return null;
  try {
    const value = entry.json<LeaseValue>();
    return typeof value?.instance === 'string' ? value : null;
  } catch {
    return null;
  }
}

const isWrongRevision = (err: unknown) => (err as { code?: unknown }).code === WRONG_LAST_SEQUENCE;

export class DeliveryLease {
  private readonly timers: Timers;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly stopAfterMs: number;
  private readonly checkMs: number;
  private timer: unknown = null;
  private stopped = false;
  /** The look at the lease under way, if any. */
  private looking: Promise<void> | null = null;
  /** The last check failed (NATS unreachable): logged once per outage. */
  private failing = false;

  /** This instance's revision of the key while it holds it (even while its deliveries are suspended). */
  private revision: number | null = null;
  /** When the last successful renewal was sent (its time of sending, the conservative end). */
  private renewedSentAt = 0;
  /** The last value this instance wrote or tried to: a renewal whose reply was lost is recognised by it. */
  private lastWritten: LeaseValue | null = null;
  /** A standby's watch: the holder's revision and since when it has not moved. */
  private seen: { revision: number; since: number } | null = null;

  constructor(private readonly options: LeaseOptions) {
    this.timers = options.timers ?? systemTimers;
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.renewMs = options.renewMs ?? RENEW_MS;
    this.stopAfterMs = Math.floor((this.leaseMs * 2) / 3);
    this.checkMs = options.checkMs ?? CHECK_MS;
  }

  /** True while this instance holds the key (it delivers unless it is past its renewal deadline). */
  get holding(): boolean {
    return this.revision !== null;
  }

  /** Starts watching (and competing for) the lease. */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.schedule(0);
  }

  /** One look at the lease: exposed for tests with injected timers; the timer calls it every `checkMs`. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.looking ??= this.look().finally(() => (this.looking = null));
    return this.looking;
  }

  private async look(): Promise<void> {
    try {
      if (this.revision !== null) await this.renewIfDue();
      else await this.watch();
      if (this.failing) this.options.logger.info({ instance: this.options.instance }, 'cluster: delivery lease reachable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.options.logger.warn(
          { err: describeError(err), instance: this.options.instance },
          'cluster: delivery lease unreachable; a holder stops delivering once its lease could expire',
        );
      }
      this.failing = true;
    }
  }

  /** Stops competing; a holder gives the lease up (a revision-checked delete) so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    // A renewal or take-over under way ends first: its revision is the one to release.
    await this.looking;
    const revision = this.revision;
    this.lose();
    if (revision === null) return;
    try {
      await this.options.kv.delete(LEASE_KEY, { previousSeq: revision });
      this.options.logger.info({ instance: this.options.instance }, 'cluster: delivery lease released');
    } catch (err) {
      this.options.logger.warn(
        { err: describeError(err) },
        'cluster: delivery lease not released; another instance takes over once it expires',
      );
    }
  }

  private schedule(ms: number): void {
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.check().finally(() => {
        if (!this.stopped) this.schedule(this.checkMs);
      });
    }, ms);
  }

  private value(): LeaseValue {
    this.lastWritten = { instance: this.options.instance, renewedAt: new Date(this.timers.now()).toISOString() };
    return this.lastWritten;
  }

  private async renewIfDue(): Promise<void> {
    const now = this.timers.now();
    const overdue = now - this.renewedSentAt >= this.stopAfterMs;
    // Past the deadline nobody may think this instance still delivers: a standby could take over soon.
    if (overdue) this.setDelivering(false);
    if (!overdue && now - this.renewedSentAt < this.renewMs) return;
    const sentAt = now;
    try {
      this.revision = await this.options.kv.update(LEASE_KEY, JSON.stringify(this.value()), this.revision!);
      this.renewedSentAt = sentAt;
      if (this.timers.now() - sentAt < this.stopAfterMs) this.setDelivering(true);
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
      // A renewal whose reply was lost moved the revision itself: the value tells.
      const current = await this.options.kv.get(LEASE_KEY);
      const value = current ? leaseValue(current) : null;
      if (
        current &&
        value &&
        this.lastWritten &&
        value.instance === this.lastWritten.instance &&
        value.renewedAt === this.lastWritten.renewedAt
      ) {
        this.revision = current.revision;
        return;
      }
      this.options.logger.warn({ instance: this.options.instance, holder: value?.instance ?? null }, 'cluster: delivery lease lost');
      this.lose();
    }
  }

  private async watch(): Promise<void> {
    const { kv, instance } = this.options;
    const entry = await kv.get(LEASE_KEY);
    const now = this.timers.now();
    const holder = entry ? leaseValue(entry) : null;
    if (entry === null || holder === null) {
      // Free (never taken, released, or unreadable and so nobody's): the first create wins.
      await this.take(
        () =>
          entry === null
            ? kv.create(LEASE_KEY, JSON.stringify(this.value()))
            : kv.update(LEASE_KEY, JSON.stringify(this.value()), entry.revision),
        null,
      );
      return;
    }
    if (this.seen === null || this.seen.revision !== entry.revision) {
      this.seen = { revision: entry.revision, since: now };
      return;
    }
    if (now - this.seen.since < this.leaseMs) return;
    this.options.logger.warn(
      { instance, holder: holder.instance, silentMs: now - this.seen.since },
      'cluster: the delivering instance stopped renewing its lease; taking delivery over',
    );
    await this.take(() => kv.update(LEASE_KEY, JSON.stringify(this.value()), entry.revision), holder.instance);
  }

  private async take(write: () => Promise<number>, from: string | null): Promise<void> {
    const sentAt = this.timers.now();
    try {
      this.revision = await write();
    } catch (err) {
      // Another standby was quicker: watch the new holder.
      if (isWrongRevision(err)) return void (this.seen = null);
      throw err;
    }
    this.renewedSentAt = sentAt;
    this.seen = null;
    this.options.logger.info({ instance: this.options.instance, from }, 'cluster: delivery lease taken; this instance delivers');
    this.setDelivering(true);
  }

  private lose(): void {
    this.revision = null;
    this.seen = null;
    this.setDelivering(false);
  }

  private setDelivering(delivering: boolean): void {
    this.options.role.set(delivering ? 'delivering' : 'standby');
  }
}
