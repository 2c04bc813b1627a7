/**
 * What the operator sees of a delivery outage at the default log level: failed attempts at warn, rate-limited per
 * account and reason (an API outage must not write a line per retry), each with the next attempt's time; the end
 * of the outage at info, with how many events were delivered since it began. Fed by the delivery scheduler, so
 * the outbox and the in-memory queue log alike.
 */
import type { Logger } from '../log.js';
import { RateLimitedWarn } from '../server/ops/rate-limited-log.js';

/** At most one warning per account and reason in this window (the rest are counted and reported with the next). */
const WARN_WINDOW_MS = 60_000;

export class DeliveryAlerts {
  private readonly warn: RateLimitedWarn;
  /** Accounts whose last attempt failed. */
  private readonly failing = new Set<string>();
  /** Set while an outage lasts: when it began, failed attempts and events delivered since. */
  private outage: { since: number; failedAttempts: number; delivered: number } | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.warn = new RateLimitedWarn(logger, 1, WARN_WINDOW_MS, now);
  }

  /** An attempt failed; the account's head event is tried again at `nextAttemptAt` (ms). */
  failed(account: string, reason: string, attempts: number, nextAttemptAt: number): void {
    this.outage ??= { since: this.now(), failedAttempts: 0, delivered: 0 };
    this.outage.failedAttempts++;
    this.failing.add(account);
    this.warn.warn(
      `account ${account}: ${reason}`,
      { account, reason, attempts, nextAttemptAt: new Date(nextAttemptAt).toISOString() },
      `delivery failed for account ${account} (${reason}): will retry`,
    );
  }

  /**
   * An account's head event is done (`delivered`, or given up on). The outage ends once no account is failing and
   * nothing waits (`pending` events left over all accounts).
   */
  done(account: string, delivered: boolean, pending: number): void {
    const outage = this.outage;
    if (!outage) return;
    if (delivered) outage.delivered++;
    this.failing.delete(account);
    if (this.failing.size > 0 || pending > 0) return;
    this.outage = null;
    this.logger.info(
      { delivered: outage.delivered, failedAttempts: outage.failedAttempts, outageSeconds: Math.round((this.now() - outage.since) / 1000) },
      `deliveries recovered: ${outage.delivered} event(s) delivered after ${outage.failedAttempts} failed attempt(s)`,
    );
  }
}
