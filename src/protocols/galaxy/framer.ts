/**
 * Stream framer for Galaxy blocks over TCP (docs/sia-dcs.md §4): each block's length is in its header byte, so a
 * block is complete once `(header & 0x3F) + 3` bytes have arrived. The `05 01` hello some modules send first is
 * recognised and skipped; any other byte that cannot open a block is dropped and counted. Holds at most one
 * unfinished block (66 bytes), so a peer cannot grow memory.
 */
import { galaxyBlockLength, isGalaxyHeader } from './block.js';

export interface GalaxyFramerOutput {
  /** Complete blocks in arrival order (parity not yet checked). */
  blocks: Buffer[];
  /** `05 01` hellos seen (docs/sia-dcs.md §4: sent before the account block by some modules). */
  hellos: number;
  /** Bytes dropped because they could not open a block. */
  junkBytes: number;
}

const HELLO_FIRST = 0x05;
const HELLO_SECOND = 0x01;

export class GalaxyFramer {
  private pending: Buffer = Buffer.alloc(0);

  /** Bytes held while waiting for the rest of a block. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Feeds a chunk; returns the blocks it completed, in order. */
  push(chunk: Uint8Array): GalaxyFramerOutput {
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.pending.length === 0 ? incoming : Buffer.concat([this.pending, incoming]);
    const out: GalaxyFramerOutput = { blocks: [], hellos: 0, junkBytes: 0 };
    let at = 0;
    while (at < buf.length) {
      const byte = buf[at]!;
      if (isGalaxyHeader(byte)) {
        const end = at + galaxyBlockLength(byte);
        if (end > buf.length) break;
        out.blocks.push(Buffer.from(buf.subarray(at, end)));
        at = end;
      } else if (byte === HELLO_FIRST && at + 1 >= buf.length) {
        break; // the hello's second byte may be in the next chunk
      } else if (byte === HELLO_FIRST && buf[at + 1] === HELLO_SECOND) {
        out.hellos++;
        at += 2;
      } else {
        out.junkBytes++;
        at++;
      }
    }
    // Copied: the caller may reuse the chunk's memory.
    this.pending = Buffer.from(buf.subarray(at));
    return out;
  }

  /** Drops everything held, e.g. when the connection closes. */
  reset(): void {
    this.pending = Buffer.alloc(0);
  }
}
