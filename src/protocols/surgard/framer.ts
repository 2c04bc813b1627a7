/**
 * Stream framer for Sur-Gard automation output over TCP (docs/surgard.md §1): records end with DC4
 * (0x14) or, in some emulations, CR; glued copies without terminators are split on the record pattern. The
 * records come out in the order they were sent, since each one is answered (ACK/NAK) in turn. The buffer is
 * capped so that a peer that never sends a terminator cannot grow memory.
 */
import { CR, DC4, isFill } from './fields.js';
import { retryCopyStarts, splitGlued } from './glued.js';

export interface SurgardFramerOutput {
  /** Complete records in arrival order, terminator and leading fill (LF, space, NUL) removed. */
  records: Buffer[];
  /** Bytes dropped because they were not part of a record (NUL, CR, LF, space and DC4 not counted). */
  junkBytes: number;
  /** True when a record grew past `maxRecordBytes`; it is dropped up to its terminator. */
  overflowed: boolean;
}

export interface SurgardFramerOptions {
  /** Longest record accepted, terminator excluded (default 1024). */
  maxRecordBytes?: number;
}

const isTerminator = (b: number): boolean => b === DC4 || b === CR;

function countJunk(bytes: Uint8Array, start: number, end: number): number {
  let junk = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (!isFill(b) && !isTerminator(b)) junk++;
  }
  return junk;
}

function indexOfTerminator(bytes: Buffer, from: number): number {
  for (let i = from; i < bytes.length; i++) if (isTerminator(bytes[i]!)) return i;
  return -1;
}

export class SurgardFramer {
  private pending: Buffer = Buffer.alloc(0);
  /** After an overflow: the rest of the oversized record is dropped up to its terminator. */
  private discarding = false;
  private readonly maxRecordBytes: number;

  constructor(options: SurgardFramerOptions = {}) {
    const max = options.maxRecordBytes ?? 1024;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxRecordBytes must be a positive integer, got ${max}`);
    this.maxRecordBytes = max;
  }

  /** Bytes held while waiting for the rest of a record. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Feeds a chunk; returns the records it completed, in order. */
  push(chunk: Uint8Array): SurgardFramerOutput {
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.pending.length === 0 ? incoming : Buffer.concat([this.pending, incoming]);
    const out: SurgardFramerOutput = { records: [], junkBytes: 0, overflowed: false };
    let at = 0;

    if (this.discarding) {
      const end = indexOfTerminator(buf, 0);
      out.junkBytes += countJunk(buf, 0, end < 0 ? buf.length : end);
      if (end < 0) {
        this.pending = Buffer.alloc(0);
        return out;
      }
      this.discarding = false;
      at = end + 1;
    }

    for (;;) {
      // docs/surgard.md §2: strip a leading LF/space some emulators add. An LF right after a CR terminator
      // lands here too, so CR LF ends one record rather than starting an empty one.
      while (at < buf.length && isFill(buf[at]!)) at++;
      const end = indexOfTerminator(buf, at);
      if (end < 0) break;
      if (end > at) {
        if (end - at > this.maxRecordBytes) {
          out.overflowed = true;
          out.junkBytes += countJunk(buf, at, end);
        } else {
          this.emit(buf, at, end, out.records);
        }
      }
      at = end + 1;
    }

    // docs/surgard.md §1: retry copies glued without any terminator. Once the held text is two or more whole
    // copies, every copy but the last is complete; the last waits for its terminator or the next copy.
    // (Records of different kinds are only split at a terminator, when the text is known to be complete.)
    let rest = buf.subarray(at);
    if (rest.length > 0) {
      const starts = retryCopyStarts(rest.toString('latin1'));
      if (starts !== null && starts.length > 1) {
        const last = starts[starts.length - 1]!;
        this.emitPieces(rest, starts.slice(0, -1), last, out.records);
        rest = rest.subarray(last);
      }
    }
    if (rest.length > this.maxRecordBytes) {
      out.overflowed = true;
      out.junkBytes += countJunk(rest, 0, rest.length);
      rest = Buffer.alloc(0);
      this.discarding = true;
    }
    // Copied: the caller may reuse the chunk's memory.
    this.pending = Buffer.from(rest);
    return out;
  }

  /** Drops everything held, e.g. when the connection closes. */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
  }

  /** One terminated record, cut into its glued copies when there are several. */
  private emit(buf: Buffer, start: number, end: number, records: Buffer[]): void {
    const record = buf.subarray(start, end);
    const pieces = splitGlued(record.toString('latin1'));
    if (pieces.length < 2) {
      records.push(Buffer.from(record));
      return;
    }
    // latin-1 is one byte per character, so the pieces' offsets are byte offsets.
    let offset = 0;
    const starts = pieces.map((piece) => {
      const pieceStart = offset;
      offset += piece.length;
      return pieceStart;
    });
    this.emitPieces(record, starts, record.length, records);
  }

  private emitPieces(bytes: Buffer, starts: number[], end: number, records: Buffer[]): void {
    starts.forEach((start, i) => records.push(Buffer.from(bytes.subarray(start, starts[i + 1] ?? end))));
  }
}
