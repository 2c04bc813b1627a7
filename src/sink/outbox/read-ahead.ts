/**
 * Read-ahead for events read back from the journal (docs/performance.md §5). A backlog is delivered roughly in
 * journal order, many accounts at once, so the records asked for lie close together: one read of a chunk serves
 * hundreds of them, where a read per record cost a thread-pool round trip and a promise chain each. Only bytes
 * that were committed (fdatasynced) when the chunk was read are kept: bytes past that point may still be cut off
 * and written again.
 */

/** Bytes read at once. */
export const READ_AHEAD_BYTES = 256 * 1024;
/** Chunks kept (the most recently started ones): requests straddle a chunk boundary while accounts drain unevenly. */
const CHUNKS_KEPT = 4;

/** Reads into `buf` from byte `position` of the segment; resolves with the bytes read. */
export type ReadAt = (segment: number, buf: Buffer, position: number) => Promise<number>;

interface Chunk {
  segment: number;
  start: number;
  /** Where the bytes asked for end (committed bytes only). */
  end: number;
  /** Bytes read, once the read finished; 0 when it failed. */
  data: Promise<{ buf: Buffer; length: number }>;
}

export class ReadAhead {
  private chunks: Chunk[] = [];

  constructor(
    private readonly readAt: ReadAt,
    private readonly chunkBytes = READ_AHEAD_BYTES,
  ) {}

  /**
   * A copy of bytes [position, position + size) of the segment, or null when no chunk could hold them (a record
   * larger than a chunk, bytes not committed, a failed or short read): the caller then reads the record itself
   * and reports what it finds.
   */
  async get(segment: number, position: number, size: number, committed: number): Promise<Buffer | null> {
    const end = position + size;
    let chunk = this.chunks.find((c) => c.segment === segment && c.start <= position && end <= c.end);
    if (!chunk) {
      const length = Math.min(this.chunkBytes, committed - position);
      if (length < size) return null;
      chunk = { segment, start: position, end: position + length, data: this.read(segment, position, length) };
      this.chunks.push(chunk);
      if (this.chunks.length > CHUNKS_KEPT) this.chunks.shift();
    }
    const { buf, length } = await chunk.data;
    // A failed read is not kept: the next record asked for tries again.
    if (length === 0) this.chunks = this.chunks.filter((c) => c !== chunk);
    const from = position - chunk.start;
    if (from + size > length) return null;
    const copy = Buffer.allocUnsafe(size);
    buf.copy(copy, 0, from, from + size);
    return copy;
  }

  /** The segment was deleted: its chunks go. */
  forget(segment: number): void {
    this.chunks = this.chunks.filter((c) => c.segment !== segment);
  }

  private async read(segment: number, position: number, length: number): Promise<{ buf: Buffer; length: number }> {
    const buf = Buffer.allocUnsafeSlow(length);
    try {
      return { buf, length: await this.readAt(segment, buf, position) };
    } catch {
      // The caller's own read reports the error.
      return { buf, length: 0 };
    }
  }
}
