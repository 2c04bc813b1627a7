/**
 * Stream framer for Lupusec Contact ID over TCP (docs/contact-id.md §5): a message runs from `[` to `]`. Blank bytes
 * between messages (space, CR, LF, NUL) are skipped, anything else outside brackets is dropped and counted. A
 * message growing past the cap without its `]` is cut there (it will not parse: the listener answers NAK) and the
 * rest of it dropped up to its `]`, so a peer cannot grow memory.
 */

export interface LupusecFramerOutput {
  /** Messages in arrival order, brackets included. */
  messages: Buffer[];
  /** Bytes dropped because they were outside a message (blanks not counted). */
  junkBytes: number;
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const isBlank = (b: number): boolean => b === 0x20 || b === 0x0d || b === 0x0a || b === 0x00;

/** Subscriber (16) + space + 12 digits + brackets is 31 bytes; room for extra spaces. */
export const LUPUSEC_MAX_MESSAGE = 64;

export class LupusecFramer {
  private pending: Buffer = Buffer.alloc(0);
  /** After a cut: the rest of the oversized message is dropped up to its `]`. */
  private discarding = false;

  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): LupusecFramerOutput {
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.pending.length === 0 ? incoming : Buffer.concat([this.pending, incoming]);
    const out: LupusecFramerOutput = { messages: [], junkBytes: 0 };
    // `pending` only ever holds an unfinished message, so a held buffer starts with its `[`.
    let start = -1;
    for (let at = 0; at < buf.length; at++) {
      const b = buf[at]!;
      if (b === OPEN) {
        if (start >= 0) out.junkBytes += at - start; // an unfinished message restarted
        this.discarding = false;
        start = at;
      } else if (this.discarding) {
        if (b === CLOSE) this.discarding = false;
        out.junkBytes++;
      } else if (start >= 0 && (b === CLOSE || at - start + 1 >= LUPUSEC_MAX_MESSAGE)) {
        out.messages.push(Buffer.from(buf.subarray(start, at + 1)));
        this.discarding = b !== CLOSE;
        start = -1;
      } else if (start < 0 && !isBlank(b)) {
        out.junkBytes++;
      }
    }
    // Copied: the caller may reuse the chunk's memory.
    this.pending = start >= 0 ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
    return out;
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
  }
}
