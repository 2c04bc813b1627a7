/**
 * Rate-limited warnings: an internet scanner must not be able to flood the log (issue #4). Each reason gets a
 * small burst per window; the rest is counted and reported once when the next window opens.
 */
import type { Logger } from '../../log.js';

export class RateLimitedWarn {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly burst = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(reason: string, fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    let w = this.windows.get(reason);
    if (!w || t - w.start >= this.windowMs) {
      if (w && w.suppressed > 0)
        this.logger.warn({ reason, suppressed: w.suppressed }, `suppressed ${w.suppressed} more "${reason}" warnings in the last window`);
      w = { start: t, count: 0, suppressed: 0 };
      this.windows.set(reason, w);
    }
    if (w.count < this.burst) {
      w.count++;
      this.logger.warn({ reason, ...fields }, message);
    } else {
      w.suppressed++;
    }
  }
}
