/**
 * Whether the events stream stores what this instance publishes, as the last publish found it (docs/cluster.md §3).
 * When it stops, one warning names the NATS servers and what happened; while it stays down, one reminder a minute
 * with the count of refused frames; when a publish is stored again, one line says so.
 */
import { redactUrl, type Logger } from '../../log.js';

export class StoreAvailability {
  private downSince: number | null = null;
  private problem: string | null = null;
  private refusedFrames = 0;
  private lastWarnMs = 0;
  private readonly servers: readonly string[];

  constructor(
    private readonly logger: Logger,
    servers: readonly string[],
    private readonly remindEveryMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    // A server URL may carry a user and password: only its scheme, host and port are logged.
    this.servers = servers.map(redactUrl);
  }

  /** What the last refused publish met, or null while publishes are stored. */
  get unavailable(): string | null {
    return this.problem;
  }

  /** A frame refused because the stream did not store its events (`what`: the reason, no secret in it). */
  refused(what: string): void {
    const t = this.now();
    this.refusedFrames++;
    this.problem = what;
    if (this.downSince === null) {
      this.downSince = t;
      this.lastWarnMs = t;
      this.logger.warn(
        { servers: this.servers, problem: what },
        'cluster: the events stream does not store events; frames are NAKed (the panels retry) until it does',
      );
    } else if (t - this.lastWarnMs >= this.remindEveryMs) {
      this.lastWarnMs = t;
      this.logger.warn(
        { servers: this.servers, problem: what, refusedFrames: this.refusedFrames, downSeconds: Math.round((t - this.downSince) / 1000) },
        'cluster: the events stream still does not store events; frames are NAKed',
      );
    }
  }

  /** A publish was stored: logs the recovery once after an outage. */
  stored(): void {
    if (this.downSince === null) return;
    const t = this.now();
    this.logger.info(
      { servers: this.servers, refusedFrames: this.refusedFrames, downSeconds: Math.round((t - this.downSince) / 1000) },
      'cluster: the events stream stores events again',
    );
    this.downSince = null;
    this.problem = null;
    this.refusedFrames = 0;
  }
}
