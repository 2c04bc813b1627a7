/**
 * The outbox journal (issue #6): append-only segment files `00000001.journal`, `00000002.journal`, … in the outbox
 * directory. Every accepted event and every final delivery outcome is one record; a batch of records and its commit
 * marker are written and `fdatasync`ed before the callers' promises resolve, and batches are group-committed (see
 * `GroupCommit`). The byte layout and the reading rules are in `journal-format.ts`.
 *
 * Recovery (issue #15: it never refuses to start): the unfinished batch at the end of the newest segment is cut and
 * logged. Damage before it is skipped: the damaged bytes are copied to `quarantine/<segment>.<start>-<end>.bin`,
 * logged at error with their offsets and the events they held, and kept in `damage` for the outbox's status; every
 * readable record is still handed on. A newest segment that was damaged, or is of an older format, is not appended
 * to: a new segment starts, and compaction deletes the old one once its readable events are delivered.
 */
import { fdatasyncSync, writeSync } from 'node:fs';
import { chmod, mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describeError, type Logger } from '../../log.js';
import { OutboxClosedError, OutboxWriteError } from './errors.js';
import { GroupCommit, type SubmitOptions } from './group-commit.js';
import { ReadAhead } from './read-ahead.js';
import {
  decodeEventFrame,
  encodeCommit,
  encodeRecord,
  isEventFrame,
  scanSegment,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_MAGIC,
  type DamagedRange,
  type EventRecord,
  type JournalRecord,
  type ScannedRecord,
} from './journal-format.js';

export {
  decodeEventFrame,
  encodeEventRecord,
  encodeRecord,
  RECORD_HEADER_BYTES,
  scanSegment,
  SEGMENT_MAGIC,
  SEGMENT_MAGIC_V1,
  type DamagedRange,
  type EventRecord,
  type JournalRecord,
  type OutcomeKind,
  type OutcomeRecord,
  type ScannedRecord,
  type SegmentScan,
} from './journal-format.js';

/** Rotate to a new segment once the active one has reached this size. */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/** Files at rest (issue #15): readable by the bridge's user only, in directories only that user can enter. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
/** Where damaged journal bytes are copied before recovery skips them. */
export const QUARANTINE_DIR = 'quarantine';

/**
 * Segment size for an outbox of `maxBytes`: at most an eighth of it, so that the segment being written (which
 * compaction never deletes) cannot hold the whole budget; 16 MiB at most, 4 KiB at least.
 */
export function segmentBytesFor(maxBytes: number): number {
  return Math.min(DEFAULT_SEGMENT_BYTES, Math.max(4096, Math.floor(maxBytes / 8)));
}
const SEGMENT_NAME = /^(\d{8,})\.journal$/;

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.journal`;
}

/** A damaged byte range found on open, with where its copy went. */
export interface JournalDamage extends DamagedRange {
  segment: number;
  file: string;
  /** The copy under `quarantine/` (null when opened read-only, or when the copy failed). */
  quarantine: string | null;
}

/** The two file operations whose cost and failures matter; tests inject failures (ENOSPC, power cuts) and count fsyncs. */
export interface JournalFileOps {
  write(fh: FileHandle, data: Buffer, position: number): Promise<void>;
  sync(fh: FileHandle): Promise<void>;
}

/**
 * A batch's write and fdatasync run on the receiving thread, synchronously (docs/performance.md §4): two thread-pool
 * round trips per batch cost more latency than the fdatasync itself, and nothing else of the receiving path can
 * proceed before the batch is durable anyway. The functions stay async so that tests can inject slow or failing
 * operations.
 */
export const defaultFileOps: JournalFileOps = {
  async write(fh, data, position) {
    let done = 0;
    while (done < data.length) {
      const bytesWritten = writeSync(fh.fd, data, done, data.length - done, position + done);
      if (bytesWritten <= 0) throw new OutboxWriteError('journal write made no progress');
      done += bytesWritten;
    }
  },
  // fdatasync also persists the file size, which is all the metadata an append needs.
  async sync(fh) {
    fdatasyncSync(fh.fd);
  },
};

/** A batch's write + fdatasync that blocks the receiving thread this long is logged as slow (a disk stalling). */
export const SLOW_ROUND_MS = 1000;

export interface JournalOptions {
  logger: Logger;
  /** Scan only: no truncation, no lock on the active file, `append` refuses. */
  readOnly?: boolean;
  segmentBytes?: number;
  fileOps?: JournalFileOps;
  /** A batch's write + fdatasync taking this long or longer is logged (default SLOW_ROUND_MS). */
  slowRoundMs?: number;
  /**
   * Every record found on open, in journal order, with the segment it is in and its byte position and size. An
   * event's payload is a view of a buffer the next segment is read into: copy what is kept.
   */
  onRecord: (record: ScannedRecord, segment: number, file: string, offset: number, size: number) => void;
}

/** Where appended records went: their segment, and each record's byte position in it. */
export interface Placement {
  segment: number;
  positions: readonly number[];
}

export interface JournalStats {
  /** `append` calls. */
  appends: number;
  /** Records written. */
  records: number;
  /** Write + fdatasync rounds (one per group-committed batch). */
  syncs: number;
  /** Directory fsyncs (one per new or deleted segment). */
  dirSyncs: number;
}

/** fsyncs a directory, so that a file created, renamed or deleted in it stays so after a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `dir` (and missing parents) so that it survives a crash: each new directory's parent is fsynced. */
export async function makeDurableDir(dir: string): Promise<void> {
  const target = resolve(dir);
  const first = await mkdir(target, { recursive: true, mode: DIR_MODE });
  if (first === undefined) return;
  for (let created = target; ; created = dirname(created)) {
    await syncDir(dirname(created));
    if (created === resolve(first) || dirname(created) === created) break;
  }
}

/** Makes the outbox directory private to the bridge's user (one created by an earlier version may be 0755). */
export async function makePrivateDir(dir: string): Promise<void> {
  await makeDurableDir(dir);
  await chmod(dir, DIR_MODE);
}

/** Copies damaged bytes aside before recovery skips them; returns the copy's path. */
async function quarantine(dir: string, segment: number, range: DamagedRange, bytes: Buffer): Promise<string> {
  const qdir = join(dir, QUARANTINE_DIR);
  await makeDurableDir(qdir);
  const path = join(qdir, `${segmentFileName(segment)}.${range.start}-${range.end}.bin`);
  const handle = await open(path, 'w', FILE_MODE);
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await syncDir(qdir);
  return path;
}

/** The whole file, in `scratch` when it fits (else in a new buffer, which becomes the scratch). */
async function readSegment(file: string, scratch: Buffer | null): Promise<{ buf: Buffer; scratch: Buffer }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const target = scratch && scratch.length >= size ? scratch : Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(target, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { buf: target.subarray(0, done), scratch: target };
  } finally {
    await handle.close();
  }
}

/** Journal damage found on open, summed up. */
export interface JournalDamageReport {
  ranges: number;
  bytes: number;
  /** Events the damaged ranges held, as far as a commit marker after them tells. */
  lostEvents: number;
  /** Ranges no commit marker follows (the end of an older segment, a version 1 segment): their loss is not known. */
  uncountedRanges: number;
  details: readonly JournalDamage[];
}

export class Journal {
  private readonly sizes = new Map<number, number>();
  private readonly found: JournalDamage[] = [];
  private active = 0;
  /** Event records and records in the active segment: what its next commit marker counts. */
  private activeEvents = 0;
  private activeRecords = 0;
  private fh: FileHandle | null = null;
  private diskBytes = 0;
  private rotateRequested = false;
  private queuedBytes = 0;
  private broken: Error | null = null;
  private closed = false;
  private readonly commit: GroupCommit<Buffer, Placement>;
  /** Read handles of segments whose events are read back for delivery (`readEvent`), opened on first use. */
  private readonly readers = new Map<number, Promise<FileHandle>>();
  private readonly readAhead = new ReadAhead(async (segment, buf, position) => {
    const handle = await this.reader(segment);
    return (await handle.read(buf, 0, buf.length, position)).bytesRead;
  });
  private readonly counters: JournalStats = { appends: 0, records: 0, syncs: 0, dirSyncs: 0 };
  private readonly segmentBytes: number;
  private readonly ops: JournalFileOps;
  private readonly slowRoundMs: number;
  private readonly roundListeners: Array<(seconds: number) => void> = [];

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
    options: JournalOptions,
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.ops = options.fileOps ?? defaultFileOps;
    this.slowRoundMs = options.slowRoundMs ?? SLOW_ROUND_MS;
    this.commit = new GroupCommit((frames) => this.flush(frames), {
      part: (placement, from, count) => ({ segment: placement.segment, positions: placement.positions.slice(from, from + count) }),
      gatherTurn: true,
    });
  }

  /**
   * Scans every segment (calling `onRecord`), copies damaged ranges aside, cuts an unfinished batch at the end, and
   * opens the newest segment for appending (a new one when the newest is damaged or of an older format).
   */
  static async open(dir: string, options: JournalOptions): Promise<Journal> {
    const journal = new Journal(dir, options.logger, options);
    const readOnly = options.readOnly ?? false;
    if (!readOnly) await makePrivateDir(dir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (readOnly && (err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw err;
    }
    const segments = names
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number.parseInt(m[1]!, 10))
      .sort((a, b) => a - b);

    let appendToLast = true;
    // One buffer read into for every segment: a backlog of many 16 MiB segments costs one allocation, not one
    // each left to the allocator (which keeps freed ones and the process's RSS with them).
    let scratch: Buffer | null = null;
    for (const [i, segment] of segments.entries()) {
      const file = join(dir, segmentFileName(segment));
      const read = await readSegment(file, scratch);
      scratch = read.scratch;
      const buf = read.buf;
      // A segment written by an earlier version may be readable by others.
      if (!readOnly) await chmod(file, FILE_MODE);
      const isLast = i === segments.length - 1;
      const scan = scanSegment(buf, isLast, (record, offset, size) => options.onRecord(record, segment, file, offset, size));
      for (const range of scan.damage) await journal.noteDamage(segment, file, range, buf, readOnly);
      let size = buf.length;
      if (scan.tornReason !== null) {
        size = scan.validEnd;
        if (!readOnly) {
          size = await journal.cutTornTail(file, scan.validEnd, scan.badMagic);
          options.logger.warn(
            { file, offset: scan.validEnd, bytesCut: buf.length - scan.validEnd, reason: scan.tornReason },
            'outbox journal: torn tail from an interrupted write cut off',
          );
        }
      }
      journal.sizes.set(segment, size);
      journal.diskBytes += size;
      if (isLast) {
        appendToLast = scan.version === SEGMENT_FORMAT_VERSION && scan.damage.length === 0 && !scan.badMagic;
        journal.activeEvents = scan.events;
        journal.activeRecords = scan.records;
      }
    }

    if (!readOnly) {
      const last = segments.at(-1);
      if (last === undefined || !appendToLast) {
        await journal.createSegment((last ?? 0) + 1);
      } else {
        journal.active = last;
        journal.fh = await open(join(dir, segmentFileName(last)), 'r+');
      }
    } else {
      journal.active = segments.at(-1) ?? 0;
      journal.closed = true;
    }
    return journal;
  }

  /** Keeps, copies aside (unless read-only) and logs one damaged range. */
  private async noteDamage(segment: number, file: string, range: DamagedRange, buf: Buffer, readOnly: boolean): Promise<void> {
    let copy: string | null = null;
    if (!readOnly) {
      try {
        copy = await quarantine(this.dir, segment, range, buf.subarray(range.start, range.end));
      } catch (err) {
        this.logger.error({ file, err: describeError(err) }, 'outbox journal: damaged bytes could not be copied to quarantine');
      }
    }
    this.found.push({ ...range, segment, file, quarantine: copy });
    this.logger.error(
      {
        file,
        start: range.start,
        end: range.end,
        bytes: range.end - range.start,
        lostEvents: range.lostEvents,
        reason: range.reason,
        quarantine: copy,
      },
      'outbox journal: damaged bytes skipped; the events in them cannot be delivered',
    );
  }

  /** Damaged ranges found on open (media damage: the events in them were lost). */
  get damage(): readonly JournalDamage[] {
    return this.found;
  }

  /** What the outbox's status and `/readyz` say about `damage`. */
  damageReport(): JournalDamageReport {
    let lostEvents = 0;
    let bytes = 0;
    let uncounted = 0;
    for (const d of this.found) {
      bytes += d.end - d.start;
      if (d.lostEvents === null) uncounted++;
      else lostEvents += d.lostEvents;
    }
    return { ranges: this.found.length, bytes, lostEvents, uncountedRanges: uncounted, details: this.found };
  }

  /** Truncates to `validEnd` (re-writing the magic when even that was torn) and makes the cut durable. */
  private async cutTornTail(file: string, validEnd: number, badMagic: boolean): Promise<number> {
    const handle = await open(file, 'r+');
    try {
      let size = validEnd;
      if (badMagic) {
        size = Math.max(validEnd, SEGMENT_MAGIC.length);
        await handle.truncate(size);
        await handle.write(SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
      } else if (validEnd < SEGMENT_MAGIC.length) {
        await handle.truncate(0);
        await handle.write(SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
        size = SEGMENT_MAGIC.length;
      } else {
        await handle.truncate(validEnd);
      }
      await handle.datasync();
      return size;
    } finally {
      await handle.close();
    }
  }

  private async createSegment(segment: number): Promise<void> {
    const file = join(this.dir, segmentFileName(segment));
    const handle = await open(file, 'wx', FILE_MODE);
    try {
      await this.ops.write(handle, SEGMENT_MAGIC, 0);
      // The file's name must survive a crash before any record in it counts as durable.
      await syncDir(this.dir);
      this.counters.dirSyncs++;
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
      throw err;
    }
    const previous = this.fh;
    this.fh = handle;
    this.active = segment;
    this.activeEvents = 0;
    this.activeRecords = 0;
    this.sizes.set(segment, SEGMENT_MAGIC.length);
    this.diskBytes += SEGMENT_MAGIC.length;
    await previous?.close();
  }

  /** The segment new records go to; never deleted. */
  get activeSegment(): number {
    return this.active;
  }

  /** Bytes of every segment on disk plus those queued for the next write. */
  get bytes(): number {
    return this.diskBytes + this.queuedBytes;
  }

  /** Segment numbers, oldest first. */
  segments(): number[] {
    return [...this.sizes.keys()].sort((a, b) => a - b);
  }

  segmentSize(segment: number): number | undefined {
    return this.sizes.get(segment);
  }

  stats(): JournalStats {
    return { ...this.counters };
  }

  /**
   * Writes the records (in order, all in one segment) and resolves with that segment's number once they are
   * fdatasynced. Records of concurrent calls share one write and one fdatasync; with `holdMs` the records wait up
   * to that long for another call's write to join (`GroupCommit`).
   */
  async append(records: readonly JournalRecord[], options?: SubmitOptions): Promise<number> {
    return (await this.appendFrames(records.map(encodeRecord), options)).segment;
  }

  /**
   * Starts a new segment (after the queued appends) unless the active one holds no record yet, so that the
   * records in the current one can be compacted away once nothing in it is pending. Resolves with the active
   * segment's number.
   */
  async rotate(): Promise<number> {
    if (this.closed) throw new OutboxClosedError('the outbox journal is closed');
    this.rotateRequested = true;
    return (await this.commit.submit([])).segment;
  }

  /** Records appended with `holdMs` and still held go out now. */
  flushHeld(): void {
    this.commit.flushHeld();
  }

  /** `append` for records already framed (`encodeEventRecord`, `encodeRecord`), resolving with where they went. */
  appendFrames(frames: Buffer[], options?: SubmitOptions): Promise<Placement> {
    if (this.closed) return Promise.reject(new OutboxClosedError('the outbox journal is closed'));
    this.counters.appends++;
    for (const frame of frames) this.queuedBytes += frame.length;
    return this.commit.submit(frames, options);
  }

  /** Calls `listener` with the seconds each batch's write + fdatasync took. */
  onRound(listener: (seconds: number) => void): void {
    this.roundListeners.push(listener);
  }

  /**
   * The receiving thread waited `ms` for the disk (docs/performance.md §4): a slow round is said, since nothing
   * else in the process ran meanwhile.
   */
  private roundTook(ms: number, bytes: number): void {
    for (const listener of this.roundListeners) listener(ms / 1000);
    if (ms >= this.slowRoundMs) {
      this.logger.warn(
        { ms: Math.round(ms), bytes, dir: this.dir },
        'outbox journal: a write + fdatasync was slow; the bridge waited for the disk and answered nothing meanwhile',
      );
    }
  }

  private async flush(frames: Buffer[]): Promise<Placement> {
    let size = 0;
    for (const frame of frames) size += frame.length;
    try {
      if (this.broken) throw this.broken;
      if (!this.fh) throw new OutboxClosedError('the outbox journal is closed');
      const activeSize = this.sizes.get(this.active) ?? 0;
      if (activeSize >= this.segmentBytes || (this.rotateRequested && activeSize > SEGMENT_MAGIC.length)) {
        await this.createSegment(this.active + 1);
      }
      this.rotateRequested = false;
      if (frames.length === 0) return { segment: this.active, positions: [] };
      const fh = this.fh;
      const start = this.sizes.get(this.active) ?? 0;
      let events = this.activeEvents;
      const positions: number[] = new Array<number>(frames.length);
      let position = start;
      for (const [i, frame] of frames.entries()) {
        if (isEventFrame(frame)) events++;
        positions[i] = position;
        position += frame.length;
      }
      const records = this.activeRecords + frames.length;
      const marker = encodeCommit(events, records);
      const data = Buffer.concat([...frames, marker], size + marker.length);
      const began = performance.now();
      try {
        await this.ops.write(fh, data, start);
        this.counters.syncs++;
        await this.ops.sync(fh);
      } catch (err) {
        await this.undoPartialWrite(fh, start, err);
        throw err;
      }
      this.roundTook(performance.now() - began, data.length);
      this.sizes.set(this.active, start + data.length);
      this.diskBytes += data.length;
      this.activeEvents = events;
      this.activeRecords = records;
      this.counters.records += frames.length;
      return { segment: this.active, positions };
    } finally {
      this.queuedBytes -= size;
    }
  }

  /**
   * A failed write may have left part of a batch behind. Records appended after it would make that fragment
   * "corruption in the middle", so it is cut now; if even that fails, the journal refuses further appends (the
   * fragment then stays a torn tail, which the next start cuts).
   */
  private async undoPartialWrite(fh: FileHandle, start: number, cause: unknown): Promise<void> {
    try {
      await fh.truncate(start);
      await fh.datasync();
    } catch (err) {
      this.broken = new OutboxWriteError(
        `outbox journal cannot be appended to after a failed write (${describeError(cause)}; then ${describeError(err)}); restart needed`,
      );
      this.logger.error({ segment: this.active, offset: start }, this.broken.message);
    }
  }

  /**
   * Reads back the event record of `size` bytes at `position` in `segment`, through the same checks as recovery.
   * Resolves with the record (its payload a fresh buffer of its own) or with why it cannot be read (the file was
   * damaged or removed since it was written); never rejects.
   */
  async readEvent(segment: number, position: number, size: number): Promise<EventRecord | string> {
    const committed = this.sizes.get(segment);
    const ahead = committed === undefined ? null : await this.readAhead.get(segment, position, size, committed);
    if (ahead) return decodeEventFrame(ahead);
    const frame = Buffer.allocUnsafe(size);
    try {
      const handle = await this.reader(segment);
      const { bytesRead } = await handle.read(frame, 0, size, position);
      if (bytesRead < size) return `only ${bytesRead} of ${size} bytes at byte ${position} (the file was cut short)`;
    } catch (err) {
      return describeError(err);
    }
    return decodeEventFrame(frame);
  }

  private reader(segment: number): Promise<FileHandle> {
    let handle = this.readers.get(segment);
    if (!handle) {
      handle = open(join(this.dir, segmentFileName(segment)), 'r');
      // A failed open is not cached: the next read tries again.
      handle.catch(() => this.readers.delete(segment));
      this.readers.set(segment, handle);
    }
    return handle;
  }

  private async closeReader(segment: number): Promise<void> {
    this.readAhead.forget(segment);
    const handle = this.readers.get(segment);
    if (!handle) return;
    this.readers.delete(segment);
    await handle.then((h) => h.close()).catch(() => undefined);
  }

  /** Deletes a segment that holds nothing live (compaction). The active segment is never deleted. */
  async deleteSegment(segment: number): Promise<void> {
    if (segment === this.active) throw new Error(`cannot delete the active journal segment ${segment}`);
    const size = this.sizes.get(segment);
    if (size === undefined) return;
    await this.closeReader(segment);
    try {
      await unlink(join(this.dir, segmentFileName(segment)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.sizes.delete(segment);
    this.diskBytes -= size;
    // A deleted segment that reappeared after a power loss would deliver its events again.
    await syncDir(this.dir);
    this.counters.dirSyncs++;
  }

  /** Waits for queued appends, then closes the active file. Later appends reject. */
  async close(): Promise<void> {
    if (!this.closed || this.fh) {
      this.closed = true;
      await this.commit.idle();
      const fh = this.fh;
      this.fh = null;
      await fh?.close();
    }
    for (const segment of [...this.readers.keys()]) await this.closeReader(segment);
  }
}
