/**
 * The outbox journal (issue #6): append-only segment files `00000001.journal`, `00000002.journal`, … in the outbox
 * directory. Every accepted event and every final delivery outcome is one record; a batch of records is written
 * and `fdatasync`ed before the callers' promises resolve, and batches are group-committed (see `GroupCommit`).
 *
 * Segment file: the 8-byte magic `ABOXJNL1`, then records. Record framing:
 *
 *   u32 LE  body length
 *   u32 LE  body length XOR 0xFFFFFFFF   (a flipped bit in the length is caught before the length is trusted)
 *   u32 LE  CRC-32 of the body
 *   body:   u8 type, then
 *     type 1 (event):   u48 seq, f64 acceptedAt (epoch ms), u16 + UTF-8 account, u16 + UTF-8 event id,
 *                       JSON of the OutgoingEvent (the rest of the body)
 *     type 2 (outcome): u48 seq, u8 outcome (1 delivered, 2 discarded, 3 dead), JSON details (id, time, reason)
 *
 * The fields recovery needs (seq, account, id, outcome) sit in fixed binary fields so that a restart scan only
 * checks CRCs and slices buffers: the JSON is parsed when an event is delivered, not when 100,000 of them are
 * reloaded (issue #6: resume within 2 s).
 *
 * Recovery rules: in the LAST segment, a last record that is incomplete, fails its checksum, or is followed only
 * by zero bytes (a crash mid-write) is a torn tail: it is cut off and logged. Anything else that does not check out
 * throws `OutboxCorruptError` with the file and byte offset; start-up stops.
 */
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { describeError, type Logger } from '../../log.js';
import { OutboxClosedError, OutboxCorruptError, OutboxWriteError } from './errors.js';
import { GroupCommit } from './group-commit.js';

export const SEGMENT_MAGIC = Buffer.from('ABOXJNL1', 'latin1');
export const RECORD_HEADER_BYTES = 12;
/** Rotate to a new segment once the active one has reached this size. */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

/**
 * Segment size for an outbox of `maxBytes`: at most an eighth of it, so that the segment being written (which
 * compaction never deletes) cannot hold the whole budget; 16 MiB at most, 4 KiB at least.
 */
export function segmentBytesFor(maxBytes: number): number {
  return Math.min(DEFAULT_SEGMENT_BYTES, Math.max(4096, Math.floor(maxBytes / 8)));
}
/** Larger bodies are never written, so a larger length read back is damage, not data. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_SEQ = 2 ** 48 - 1;
const SEGMENT_NAME = /^(\d{8,})\.journal$/;

const TYPE_EVENT = 1;
const TYPE_OUTCOME = 2;

export type OutcomeKind = 'delivered' | 'discarded' | 'dead';
const OUTCOME_CODE: Record<OutcomeKind, number> = { delivered: 1, discarded: 2, dead: 3 };
const OUTCOME_BY_CODE: readonly (OutcomeKind | undefined)[] = [undefined, 'delivered', 'discarded', 'dead'];

export interface EventRecord {
  type: 'event';
  /** Journal-wide sequence number: the identity outcomes refer to (an event id can be accepted twice). */
  seq: number;
  acceptedAt: number;
  account: string;
  id: string;
  /** UTF-8 JSON of the OutgoingEvent. On a scan this is a view into the segment buffer: copy it to keep it. */
  payload: Buffer;
}

export interface OutcomeRecord {
  type: 'outcome';
  seq: number;
  outcome: OutcomeKind;
  /** Written for people reading the journal; not read back on a scan. */
  detail: Record<string, unknown>;
}

export type JournalRecord = EventRecord | OutcomeRecord;

/** What a scan hands back: outcome details are not parsed. */
export type ScannedRecord = EventRecord | { type: 'outcome'; seq: number; outcome: OutcomeKind };

export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.journal`;
}

/** Writes the length, its complement and the body's CRC-32 in front of a filled-in body. */
function seal(frame: Buffer): Buffer {
  const bodyLength = frame.length - RECORD_HEADER_BYTES;
  if (bodyLength > MAX_BODY_BYTES) throw new RangeError(`journal record too large: ${bodyLength} bytes`);
  frame.writeUInt32LE(bodyLength, 0);
  frame.writeUInt32LE(~bodyLength >>> 0, 4);
  frame.writeUInt32LE(crc32(frame.subarray(RECORD_HEADER_BYTES)), 8);
  return frame;
}

function checkSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new RangeError(`journal sequence out of range: ${seq}`);
}

/** An event record's frame with everything but the payload filled in; the payload goes at `payloadAt`. */
function eventFrame(seq: number, acceptedAt: number, account: string, id: string, payloadBytes: number): { frame: Buffer; payloadAt: number } {
  checkSeq(seq);
  const accountBytes = Buffer.byteLength(account, 'utf8');
  const idBytes = Buffer.byteLength(id, 'utf8');
  if (accountBytes > 0xffff || idBytes > 0xffff) throw new RangeError('account or event id too long');
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 1 + 6 + 8 + 2 + accountBytes + 2 + idBytes + payloadBytes);
  let p = RECORD_HEADER_BYTES;
  p = frame.writeUInt8(TYPE_EVENT, p);
  p = frame.writeUIntLE(seq, p, 6);
  p = frame.writeDoubleLE(acceptedAt, p);
  p = frame.writeUInt16LE(accountBytes, p);
  p += frame.write(account, p, 'utf8');
  p = frame.writeUInt16LE(idBytes, p);
  p += frame.write(id, p, 'utf8');
  return { frame, payloadAt: p };
}

/**
 * An event record built straight from the event's JSON text: the text is encoded once, into the frame, and the
 * returned `payload` is a view of those bytes (what the outbox keeps for later attempts).
 */
export function encodeEventRecord(seq: number, acceptedAt: number, account: string, id: string, json: string): { frame: Buffer; payload: Buffer } {
  const { frame, payloadAt } = eventFrame(seq, acceptedAt, account, id, Buffer.byteLength(json, 'utf8'));
  frame.write(json, payloadAt, 'utf8');
  return { frame: seal(frame), payload: frame.subarray(payloadAt) };
}

/** One framed record, ready to be written. */
export function encodeRecord(record: JournalRecord): Buffer {
  if (record.type === 'event') {
    const { frame, payloadAt } = eventFrame(record.seq, record.acceptedAt, record.account, record.id, record.payload.length);
    record.payload.copy(frame, payloadAt);
    return seal(frame);
  }
  checkSeq(record.seq);
  const detail = JSON.stringify(record.detail);
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 1 + 6 + 1 + Buffer.byteLength(detail, 'utf8'));
  let p = RECORD_HEADER_BYTES;
  p = frame.writeUInt8(TYPE_OUTCOME, p);
  p = frame.writeUIntLE(record.seq, p, 6);
  p = frame.writeUInt8(OUTCOME_CODE[record.outcome], p);
  frame.write(detail, p, 'utf8');
  return seal(frame);
}

/** Decodes a body whose checksum passed; returns a reason string when its structure is wrong. */
function decodeBody(body: Buffer): ScannedRecord | string {
  const type = body[0];
  if (type === TYPE_EVENT) {
    if (body.length < 19) return 'event record too short';
    const seq = body.readUIntLE(1, 6);
    const acceptedAt = body.readDoubleLE(7);
    const accountLength = body.readUInt16LE(15);
    const idAt = 17 + accountLength;
    if (idAt + 2 > body.length) return 'event record account overruns the record';
    const idLength = body.readUInt16LE(idAt);
    const payloadAt = idAt + 2 + idLength;
    if (payloadAt > body.length) return 'event record id overruns the record';
    return {
      type: 'event',
      seq,
      acceptedAt,
      account: body.toString('utf8', 17, idAt),
      id: body.toString('utf8', idAt + 2, payloadAt),
      payload: body.subarray(payloadAt),
    };
  }
  if (type === TYPE_OUTCOME) {
    if (body.length < 8) return 'outcome record too short';
    const outcome = OUTCOME_BY_CODE[body[7]!];
    if (!outcome) return `unknown outcome code ${body[7]}`;
    return { type: 'outcome', seq: body.readUIntLE(1, 6), outcome };
  }
  return `unknown record type ${type}`;
}

function zeroFrom(buf: Buffer, offset: number): boolean {
  for (let i = offset; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

export interface SegmentScan {
  /** Bytes up to the end of the last good record. */
  validEnd: number;
  /** Set when a torn tail starts at `validEnd` (only ever for the last segment). */
  tornReason: string | null;
}

/**
 * Checks every record of one segment and hands each to `onRecord`, in file order. Throws `OutboxCorruptError`
 * for damage that is not a torn tail of the last segment.
 */
export function scanSegment(
  buf: Buffer,
  file: string,
  isLast: boolean,
  onRecord: (record: ScannedRecord, offset: number) => void,
): SegmentScan {
  if (buf.length < SEGMENT_MAGIC.length) {
    // A crash right after the file was created: only the newest segment can be caught like that.
    if (isLast && SEGMENT_MAGIC.subarray(0, buf.length).equals(buf)) return { validEnd: 0, tornReason: 'incomplete segment header' };
    throw new OutboxCorruptError(file, 0, 'not an outbox journal segment (short header)');
  }
  if (!buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    throw new OutboxCorruptError(file, 0, 'not an outbox journal segment (bad magic)');
  }
  let offset = SEGMENT_MAGIC.length;
  // `tail` says whether damage at `offset` may be a torn tail: it must be the last record of the last segment.
  const damaged = (reason: string, tail: boolean): SegmentScan => {
    if (isLast && (tail || zeroFrom(buf, offset))) return { validEnd: offset, tornReason: reason };
    throw new OutboxCorruptError(file, offset, reason);
  };
  while (offset < buf.length) {
    if (buf.length - offset < RECORD_HEADER_BYTES) return damaged('incomplete record header', true);
    const length = buf.readUInt32LE(offset);
    if ((length ^ buf.readUInt32LE(offset + 4)) >>> 0 !== 0xffffffff || length < 1 || length > MAX_BODY_BYTES) {
      return damaged('bad record length', false);
    }
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > buf.length) return damaged(`incomplete record (${length} byte body, ${buf.length - offset - RECORD_HEADER_BYTES} present)`, true);
    const body = buf.subarray(offset + RECORD_HEADER_BYTES, end);
    if (crc32(body) !== buf.readUInt32LE(offset + 8)) return damaged('checksum mismatch', end === buf.length);
    const record = decodeBody(body);
    if (typeof record === 'string') throw new OutboxCorruptError(file, offset, record);
    onRecord(record, offset);
    offset = end;
  }
  return { validEnd: offset, tornReason: null };
}

/** The two file operations whose cost and failures matter; tests inject failures (ENOSPC) and count fsyncs. */
export interface JournalFileOps {
  write(fh: FileHandle, data: Buffer, position: number): Promise<void>;
  sync(fh: FileHandle): Promise<void>;
}

export const defaultFileOps: JournalFileOps = {
  async write(fh, data, position) {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
      if (bytesWritten <= 0) throw new OutboxWriteError('journal write made no progress');
      done += bytesWritten;
    }
  },
  // fdatasync also persists the file size, which is all the metadata an append needs.
  sync: (fh) => fh.datasync(),
};

export interface JournalOptions {
  logger: Logger;
  /** Scan only: no truncation, no lock on the active file, `append` refuses. */
  readOnly?: boolean;
  segmentBytes?: number;
  fileOps?: JournalFileOps;
  /** Every record found on open, in journal order, with the segment it is in. */
  onRecord: (record: ScannedRecord, segment: number, file: string, offset: number) => void;
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
  const first = await mkdir(target, { recursive: true });
  if (first === undefined) return;
  for (let created = target; ; created = dirname(created)) {
    await syncDir(dirname(created));
    if (created === resolve(first) || dirname(created) === created) break;
  }
}

export class Journal {
  private readonly sizes = new Map<number, number>();
  private active = 0;
  private fh: FileHandle | null = null;
  private diskBytes = 0;
  private rotateRequested = false;
  private queuedBytes = 0;
  private broken: Error | null = null;
  private closed = false;
  private readonly commit: GroupCommit<Buffer, number>;
  private readonly counters: JournalStats = { appends: 0, records: 0, syncs: 0, dirSyncs: 0 };
  private readonly segmentBytes: number;
  private readonly ops: JournalFileOps;

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
    options: JournalOptions,
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.ops = options.fileOps ?? defaultFileOps;
    this.commit = new GroupCommit((frames) => this.flush(frames));
  }

  /** Scans every segment (calling `onRecord`), cuts a torn tail, and opens the newest segment for appending. */
  static async open(dir: string, options: JournalOptions): Promise<Journal> {
    const journal = new Journal(dir, options.logger, options);
    const readOnly = options.readOnly ?? false;
    if (!readOnly) await makeDurableDir(dir);
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

    for (const [i, segment] of segments.entries()) {
      const file = join(dir, segmentFileName(segment));
      const buf = await readFile(file);
      const isLast = i === segments.length - 1;
      const scan = scanSegment(buf, file, isLast, (record, offset) =>
        options.onRecord(record, segment, file, offset),
      );
      let size = buf.length;
      if (scan.tornReason !== null) {
        size = scan.validEnd;
        if (!readOnly) {
          size = await journal.cutTornTail(file, scan.validEnd);
          options.logger.warn(
            { file, offset: scan.validEnd, bytesCut: buf.length - scan.validEnd, reason: scan.tornReason },
            'outbox journal: torn tail from an interrupted write cut off',
          );
        }
      }
      journal.sizes.set(segment, size);
      journal.diskBytes += size;
    }

    if (!readOnly) {
      const last = segments.at(-1);
      if (last === undefined) {
        await journal.createSegment(1);
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

  /** Truncates to `validEnd` (re-writing the magic when even that was torn) and makes the cut durable. */
  private async cutTornTail(file: string, validEnd: number): Promise<number> {
    const handle = await open(file, 'r+');
    try {
      let size = validEnd;
      if (validEnd < SEGMENT_MAGIC.length) {
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
    const handle = await open(file, 'wx');
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
   * fdatasynced. Records of concurrent calls share one write and one fdatasync.
   */
  append(records: readonly JournalRecord[]): Promise<number> {
    return this.appendFrames(records.map(encodeRecord));
  }

  /**
   * Starts a new segment (after the queued appends) unless the active one holds no record yet, so that the
   * records in the current one can be compacted away once nothing in it is pending. Resolves with the active
   * segment's number.
   */
  rotate(): Promise<number> {
    if (this.closed) return Promise.reject(new OutboxClosedError('the outbox journal is closed'));
    this.rotateRequested = true;
    return this.commit.submit([]);
  }

  /** `append` for records already framed (`encodeEventRecord`, `encodeRecord`). */
  appendFrames(frames: Buffer[]): Promise<number> {
    if (this.closed) return Promise.reject(new OutboxClosedError('the outbox journal is closed'));
    this.counters.appends++;
    for (const frame of frames) this.queuedBytes += frame.length;
    return this.commit.submit(frames);
  }

  private async flush(frames: Buffer[]): Promise<number> {
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
      if (frames.length === 0) return this.active;
      const fh = this.fh;
      const start = this.sizes.get(this.active) ?? 0;
      const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames, size);
      try {
        await this.ops.write(fh, data, start);
        this.counters.syncs++;
        await this.ops.sync(fh);
      } catch (err) {
        await this.undoPartialWrite(fh, start, err);
        throw err;
      }
      this.sizes.set(this.active, start + size);
      this.diskBytes += size;
      this.counters.records += frames.length;
      return this.active;
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

  /** Deletes a segment that holds nothing live (compaction). The active segment is never deleted. */
  async deleteSegment(segment: number): Promise<void> {
    if (segment === this.active) throw new Error(`cannot delete the active journal segment ${segment}`);
    const size = this.sizes.get(segment);
    if (size === undefined) return;
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
    if (this.closed && !this.fh) return;
    this.closed = true;
    await this.commit.idle();
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }
}
