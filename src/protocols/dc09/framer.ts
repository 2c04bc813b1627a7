/**
 * Stream framer for DC-09 over TCP (docs/dc09.md §1): TCP is a byte stream, frames are LF … CR, several
 * per segment or split across segments. Length-based with a CR fallback; junk before LF and stray NULs are
 * dropped; the buffer is capped so a peer that never sends CR cannot grow memory.
 */
import { checkFrameCrc } from './crc.js';
import { detectHeader, type FrameHeaderShape } from './parse.js';

const LF = 0x0a;
const CR = 0x0d;
/** LF + 4 CRC + 4 length + the opening quote: enough to detect the header shape. */
const HEADER_PROBE = 10;

export interface FramerOutput {
  frames: Buffer[];
  /** Bytes dropped because they were not part of a frame (NULs and whitespace not counted). */
  junkBytes: number;
  /** True when the buffer passed the cap without a complete frame and was discarded. */
  overflowed: boolean;
}

export interface FramerOptions {
  /** Largest frame accepted, LF to CR inclusive (default 4096). */
  maxFrameBytes?: number;
}

function countJunk(bytes: Uint8Array, start: number, end: number): number {
  let junk = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b !== 0 && b !== CR && b !== LF && b !== 0x20) junk++;
  }
  return junk;
}

/** Whether the frame's CRC (either coverage, docs/dc09.md §3) matches the body ending at `cr`. */
function crcEndsAt(buf: Buffer, shape: FrameHeaderShape, cr: number): boolean {
  return shape.declaredCrc >= 0 && checkFrameCrc(buf, shape.bodyStart, cr, shape.declaredCrc).ok;
}

/** Only NULs up to the end of the buffer or up to the next LF. */
function atBoundary(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] === LF) return true;
    if (buf[i] !== 0) return false;
  }
  return true;
}

/**
 * What a framer holds between frames, shared: a panel sends a frame every few seconds, so an empty buffer made per
 * chunk would outlive a few garbage collections on each of a thousand connections (docs/performance.md §3).
 */
const NOTHING_PENDING = Buffer.alloc(0);

export class Dc09Framer {
  private pending: Buffer = NOTHING_PENDING;
  private readonly maxFrameBytes: number;

  constructor(options: FramerOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 4096;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Feeds a chunk; returns the complete frames it finished, in order. */
  push(chunk: Uint8Array): FramerOutput {
    const buf: Buffer =
      this.pending.length === 0
        ? Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
        : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let junkBytes = 0;
    let overflowed = false;
    let at = 0;
    for (;;) {
      const lf = buf.indexOf(LF, at);
      if (lf < 0) {
        junkBytes += countJunk(buf, at, buf.length);
        at = buf.length;
        break;
      }
      junkBytes += countJunk(buf, at, lf);
      at = lf;
      const end = this.frameEnd(buf, lf);
      if (end === 'junk') {
        at = lf + 1; // a stray LF: not counted as junk, like every LF
        continue;
      }
      if (end === 'wait') {
        if (buf.length - lf > this.maxFrameBytes) {
          // docs/dc09.md §1 step 4: cap the buffer; resynchronise on the next LF.
          overflowed = true;
          const next = buf.indexOf(LF, lf + 1);
          const dropTo = next < 0 ? buf.length : next;
          junkBytes += countJunk(buf, lf, dropTo);
          at = dropTo;
          continue;
        }
        break;
      }
      frames.push(buf.subarray(lf, end + 1));
      at = end + 1;
    }
    this.pending = at >= buf.length ? NOTHING_PENDING : Buffer.from(buf.subarray(at));
    return { frames, junkBytes, overflowed };
  }

  /**
   * Index of the frame's CR, 'wait' for more bytes, or 'junk' when the bytes after this LF cannot start a frame.
   * docs/dc09.md §1 step 3: the length says where the CR sits (Eldes: one byte earlier); if it does not, or the length
   * does not parse, the frame ends at the next CR.
   */
  private frameEnd(buf: Buffer, lf: number): number | 'wait' | 'junk' {
    // Binary CRC bytes may themselves be CR or LF (docs/dc09.md §3), so nothing is decided before the header is in.
    if (buf.length - lf < HEADER_PROBE) return 'wait';
    const shape = detectHeader(buf, lf);
    if (!shape) return 'junk';
    if (shape.declaredLength >= 0) {
      const end = shape.bodyStart + shape.declaredLength;
      if (end - 1 < buf.length && buf[end - 1] === CR && end - 1 > shape.bodyStart) return end - 1; // Eldes: length counts the CR
      if (end < buf.length && buf[end] === CR) return end;
      if (end >= buf.length) {
        // Not all there yet — unless a CR already ended a frame whose length field is wrong. Win-1252 xdata may hold
        // a CR (docs/dc09.md §1), so a CR before the declared end ends the frame only when the CRC up to it checks out, or when
        // nothing but NULs or the next frame's LF follows it (the panel stopped sending and waits for a reply).
        const cr = buf.indexOf(CR, shape.bodyStart);
        return cr >= 0 && (crcEndsAt(buf, shape, cr) || atBoundary(buf, cr + 1)) ? cr : 'wait';
      }
    }
    const cr = buf.indexOf(CR, shape.bodyStart);
    return cr >= 0 ? cr : 'wait';
  }

  reset(): void {
    this.pending = NOTHING_PENDING;
  }
}
