/**
 * The outbox's room (issue #6: the directory does not grow without bound): journal and dead-letter bytes against
 * `maxBytes`, a full disk, and one log line when a full spell starts and one when it ends. Appends ask it before
 * writing; successful writes, failed ones and compaction tell it what happened.
 */
import type { OutboxConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { OutboxFullError } from './errors.js';

/** What takes room: the journal and the dead-letter file. */
interface Sized {
  readonly bytes: number;
}

export class Capacity {
  private diskFull = false;
  /** Journal bytes when an append was last refused for `maxBytes` (null: not refused since the last success). */
  private refusedAtBytes: number | null = null;
  /** Set by a refusal's rotation, cleared by the next accepted frame: one new segment per full spell. */
  rotatedWhileFull = false;
  private fullLogged = false;

  constructor(
    private readonly config: OutboxConfig,
    private readonly journal: Sized,
    private readonly dead: Sized,
    private readonly logger: Logger,
    /** Events pending, for the log line. */
    private readonly depth: () => number,
  ) {}

  /** Bytes that count against `maxBytes`: the journal and the dead-letter file. */
  get usedBytes(): number {
    return this.journal.bytes + this.dead.bytes;
  }

  /** `maxBytes` reached, the disk full, or an append refused since the last success. */
  get full(): boolean {
    return this.diskFull || this.refusedAtBytes !== null || this.usedBytes >= this.config.maxBytes;
  }

  /** Null when `bytes` more fit; else the refusal (remembered until an append succeeds or compaction frees space). */
  refuse(bytes: number): OutboxFullError | null {
    if (this.usedBytes + bytes <= this.config.maxBytes) return null;
    this.refusedAtBytes = this.journal.bytes;
    return this.maxBytesReached();
  }

  maxBytesReached(): OutboxFullError {
    this.noteFull('max-bytes');
    return new OutboxFullError(
      'max-bytes',
      `outbox is full: ${this.journal.bytes} journal bytes + ${this.dead.bytes} dead-letter bytes, maxBytes ${this.config.maxBytes}`,
    );
  }

  /** A write failed with ENOSPC (or EDQUOT). */
  diskIsFull(err: unknown): OutboxFullError {
    this.diskFull = true;
    this.noteFull('disk-full');
    return new OutboxFullError('disk-full', `outbox disk is full (${describeError(err)})`);
  }

  /** An append of events succeeded: the full spell, if any, is over. */
  written(): void {
    this.diskFull = false;
    this.refusedAtBytes = null;
    this.rotatedWhileFull = false;
    if (this.fullLogged) {
      this.fullLogged = false;
      this.logger.info({ dir: this.config.dir, bytes: this.journal.bytes }, 'outbox: accepting again');
    }
  }

  /** Compaction deleted segments: the next frame may fit again (the next append decides). */
  freed(): void {
    if (this.refusedAtBytes !== null && this.journal.bytes < this.refusedAtBytes) this.refusedAtBytes = null;
  }

  /** Logs the transition to `full` once (every NAKed frame would otherwise log it again). */
  private noteFull(kind: 'max-bytes' | 'disk-full'): void {
    if (this.fullLogged) return;
    this.fullLogged = true;
    this.logger.error(
      { dir: this.config.dir, kind, bytes: this.journal.bytes, maxBytes: this.config.maxBytes, depth: this.depth() },
      'outbox full: new frames are NAKed until space is available',
    );
  }
}
