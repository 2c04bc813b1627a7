/**
 * The byte layout of outbox journal segments and how a segment is read back (issue #6, hardened by issue #15).
 * `docs/outbox-format.md` describes it for operators; `test/fixtures/outbox/` pins it.
 *
 * Segment file: an 8-byte magic naming the format version, then records:
 *
 *   `ABOXJNL1` (version 1, still read): records only.
 *   `ABOXJNL2` (version 2, written): records, and after every batch written by one write + fdatasync a commit
 *                                    marker, so recovery knows where the last complete batch ends.
 *
 * Record framing:
 *
 *   u32 LE  body length
 *   u32 LE  body length XOR 0xFFFFFFFF   (a flipped bit in the length is caught before the length is trusted)
 *   u32 LE  CRC-32 of the body
 *   body:   u8 type, then
 *     type 1 (event):   u48 seq, f64 acceptedAt (epoch ms), u16 + UTF-8 account, u16 + UTF-8 event id,
 *                       JSON of the stored event (the rest of the body)
 *     type 2 (outcome): u48 seq, u8 outcome (1 delivered, 2 discarded, 3 dead), JSON details (id, time, reason)
 *     type 3 (commit):  u32 event records and u32 event + outcome records in this segment up to here (version 2)
 *
 * The fields recovery needs (seq, account, id, outcome) sit in fixed binary fields so that a restart scan only
 * checks CRCs and slices buffers: the JSON is parsed when an event is delivered, not when 100,000 of them are
 * reloaded (issue #6: resume within 2 s).
 *
 * Reading never throws (issue #15: recovery never refuses to start). A record that does not check out starts a
 * damaged range, which ends where the next valid record starts (resynchronisation). In the newest segment,
 * whatever follows the last commit marker is an unfinished batch (a crash before its fdatasync returned, so nothing
 * in it was acknowledged) and is cut; damage before it is media corruption: reported, never cut. The commit
 * markers' counts tell how many events a damaged range held.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC_V1 = Buffer.from('ABOXJNL1', 'latin1');
export const SEGMENT_MAGIC_V2 = Buffer.from('ABOXJNL2', 'latin1');
/** The magic of the segments this version writes. */
export const SEGMENT_MAGIC = SEGMENT_MAGIC_V2;
export const SEGMENT_FORMAT_VERSION = 2;
export const RECORD_HEADER_BYTES = 12;
/** Larger bodies are never written, so a larger length read back is damage, not data. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_SEQ = 2 ** 48 - 1;

const TYPE_EVENT = 1;
const TYPE_OUTCOME = 2;
const TYPE_COMMIT = 3;
const COMMIT_BODY_BYTES = 9;

const MAGIC_VERSIONS: ReadonlyArray<{ magic: Buffer; version: 1 | 2 }> = [
  { magic: SEGMENT_MAGIC_V1, version: 1 },
  { magic: SEGMENT_MAGIC_V2, version: 2 },
];

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
  /** UTF-8 JSON of the stored event. On a scan this is a view into the segment buffer: copy it to keep it. */
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
function eventFrame(
  seq: number,
  acceptedAt: number,
  account: string,
  id: string,
  payloadBytes: number,
): { frame: Buffer; payloadAt: number } {
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
export function encodeEventRecord(
  seq: number,
  acceptedAt: number,
  account: string,
  id: string,
  json: string,
): { frame: Buffer; payload: Buffer } {
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

/** The commit marker closing a batch: how many event records and records the segment holds up to it. */
export function encodeCommit(events: number, records: number): Buffer {
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + COMMIT_BODY_BYTES);
  frame.writeUInt8(TYPE_COMMIT, RECORD_HEADER_BYTES);
  frame.writeUInt32LE(events >>> 0, RECORD_HEADER_BYTES + 1);
  frame.writeUInt32LE(records >>> 0, RECORD_HEADER_BYTES + 5);
  return seal(frame);
}

/** True for a framed event record (what the commit marker counts apart). */
export function isEventFrame(frame: Buffer): boolean {
  return frame[RECORD_HEADER_BYTES] === TYPE_EVENT;
}

interface Commit {
  type: 'commit';
  events: number;
  records: number;
}

/** Decodes a body whose checksum passed; returns a reason string when its structure is wrong. */
function decodeBody(body: Buffer, version: 1 | 2): ScannedRecord | Commit | string {
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
  if (type === TYPE_COMMIT && version >= 2) {
    if (body.length !== COMMIT_BODY_BYTES) return 'commit marker of the wrong size';
    return { type: 'commit', events: body.readUInt32LE(1), records: body.readUInt32LE(5) };
  }
  return `unknown record type ${type}`;
}

/** The record at `offset` and where it ends, or why there is none. */
function readRecord(buf: Buffer, offset: number, version: 1 | 2): { item: ScannedRecord | Commit; end: number } | string {
  if (buf.length - offset < RECORD_HEADER_BYTES) return 'incomplete record header';
  const length = buf.readUInt32LE(offset);
  if ((length ^ buf.readUInt32LE(offset + 4)) >>> 0 !== 0xffffffff || length < 1 || length > MAX_BODY_BYTES) return 'bad record length';
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > buf.length) return `incomplete record (${length} byte body, ${buf.length - offset - RECORD_HEADER_BYTES} present)`;
  const body = buf.subarray(offset + RECORD_HEADER_BYTES, end);
  if (crc32(body) !== buf.readUInt32LE(offset + 8)) return 'checksum mismatch';
  const item = decodeBody(body, version);
  return typeof item === 'string' ? item : { item, end };
}

/**
 * One event record read back on its own (the outbox keeps pending events as positions, issue #15): the same checks
 * as a scan (length and its complement, CRC, structure), and the frame must be exactly one event record.
 */
export function decodeEventFrame(frame: Buffer): EventRecord | string {
  const read = readRecord(frame, 0, SEGMENT_FORMAT_VERSION);
  if (typeof read === 'string') return read;
  if (read.end !== frame.length) return `record length ${read.end} where ${frame.length} was expected`;
  return read.item.type === 'event' ? read.item : `${read.item.type} record where an event record was expected`;
}

function zeroFrom(buf: Buffer, offset: number): boolean {
  for (let i = offset; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Bytes that could not be read, before the end of the last complete batch (media damage, not a crash). */
export interface DamagedRange {
  start: number;
  end: number;
  /** Why the first record of the range did not check out. */
  reason: string;
  /** Event records the range held (from the next commit marker's count); null when no marker follows it. */
  lostEvents: number | null;
}

export interface SegmentScan {
  version: 1 | 2;
  /** The magic did not name a known format (damage at byte 0; read as the current version). */
  badMagic: boolean;
  /** Bytes up to the end of the last kept record. */
  validEnd: number;
  /** Set when an unfinished batch (or a torn write) starts at `validEnd`: the newest segment only. */
  tornReason: string | null;
  damage: DamagedRange[];
  /** The commit counts at `validEnd` (version 2): where the writer's counts continue. */
  events: number;
  records: number;
}

type Item =
  | { kind: 'record'; record: ScannedRecord; offset: number; end: number }
  | { kind: 'commit'; commit: Commit; end: number }
  | { kind: 'damage'; start: number; end: number; reason: string };

/**
 * Hands records, commit markers and damaged ranges to `visit` in file order (every unreadable byte range
 * resynchronised past) until it returns false. Nothing is collected: a 16 MiB segment of small records leaves no
 * array of them behind (issue #15: start-up with a million pending events).
 */
function walk(buf: Buffer, from: number, version: 1 | 2, damagedFrom: number | null, visit: (item: Item) => boolean | void): void {
  let damage: { start: number; reason: string } | null =
    damagedFrom === null ? null : { start: damagedFrom, reason: 'not an outbox journal segment (bad magic)' };
  let offset = from;
  while (offset < buf.length) {
    const read = readRecord(buf, offset, version);
    if (typeof read === 'string') {
      damage ??= { start: offset, reason: read };
      offset++;
      continue;
    }
    if (damage && visit({ kind: 'damage', start: damage.start, end: offset, reason: damage.reason }) === false) return;
    damage = null;
    if (
      visit(
        read.item.type === 'commit'
          ? { kind: 'commit', commit: read.item, end: read.end }
          : { kind: 'record', record: read.item, offset, end: read.end },
      ) === false
    )
      return;
    offset = read.end;
  }
  if (damage) visit({ kind: 'damage', start: damage.start, end: buf.length, reason: damage.reason });
}

function tornReasonOf(cut: Item): string {
  return cut.kind === 'damage' ? cut.reason : 'records after the last commit marker (a batch whose write did not finish)';
}

/**
 * Reads one segment, handing each readable record to `onRecord` in file order. Never throws: damage is reported in
 * the result; in the newest segment (`isLast`) an unfinished batch at the end is reported as `tornReason`.
 */
export function scanSegment(
  buf: Buffer,
  isLast: boolean,
  onRecord: (record: ScannedRecord, offset: number, size: number) => void,
): SegmentScan {
  const empty = (tornReason: string | null, damage: DamagedRange[] = []): SegmentScan => ({
    version: SEGMENT_FORMAT_VERSION,
    badMagic: false,
    validEnd: 0,
    tornReason,
    damage,
    events: 0,
    records: 0,
  });
  if (buf.length < SEGMENT_MAGIC.length) {
    // A crash right after the file was created: only the newest segment can be caught like that.
    if (isLast)
      return empty(
        buf.length === 0 || SEGMENT_MAGIC.subarray(0, buf.length).equals(buf) ? 'incomplete segment header' : 'short segment header',
      );
    return empty(null, [{ start: 0, end: buf.length, reason: 'not an outbox journal segment (short header)', lostEvents: null }]);
  }
  const head = buf.subarray(0, SEGMENT_MAGIC.length);
  const known = MAGIC_VERSIONS.find((m) => m.magic.equals(head));
  if (!known && isLast && zeroFrom(buf, 0)) return empty('zero-filled segment');
  const version = known?.version ?? SEGMENT_FORMAT_VERSION;
  const damagedFrom = known ? null : 0;

  // Where the kept part of the segment ends: in the newest segment, after the last complete batch (a first pass).
  let keepEnd = Number.POSITIVE_INFINITY;
  if (isLast) {
    const closesBatch = (item: Item) => (version === 1 ? item.kind === 'record' : item.kind === 'commit');
    keepEnd = SEGMENT_MAGIC.length;
    walk(buf, SEGMENT_MAGIC.length, version, damagedFrom, (item) => {
      if (closesBatch(item)) keepEnd = item.end;
    });
  }
  const damage: DamagedRange[] = [];
  let unaccounted: DamagedRange[] = [];
  let events = 0;
  let records = 0;
  let validEnd = SEGMENT_MAGIC.length;
  let cut: Item | null = null;
  walk(buf, SEGMENT_MAGIC.length, version, damagedFrom, (item) => {
    if (item.end > keepEnd) {
      cut = item;
      return false;
    }
    validEnd = item.end;
    if (item.kind === 'record') {
      records++;
      if (item.record.type === 'event') events++;
      onRecord(item.record, item.offset, item.end - item.offset);
    } else if (item.kind === 'damage') {
      const range: DamagedRange = { start: item.start, end: item.end, reason: item.reason, lostEvents: null };
      damage.push(range);
      unaccounted.push(range);
    } else {
      // What the marker counted and the scan did not read was in the damaged ranges since the previous marker.
      const first = unaccounted[0];
      if (first) first.lostEvents = Math.max(0, item.commit.events - events);
      for (const range of unaccounted.slice(1)) range.lostEvents = 0;
      unaccounted = [];
      events = item.commit.events;
      records = item.commit.records;
    }
    return true;
  });
  const tornReason = cut === null ? null : tornReasonOf(cut);
  return { version, badMagic: !known, validEnd, tornReason, damage, events, records };
}
