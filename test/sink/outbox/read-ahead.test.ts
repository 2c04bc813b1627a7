/**
 * ReadAhead on its own (src/sink/outbox/read-ahead.ts): the reads go to a buffer standing in for a segment file,
 * and every read is recorded.
 */
import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../../../src/sink/outbox/read-ahead.js';

const SEGMENT = Buffer.from(Array.from({ length: 4000 }, (_, i) => i % 251));

function reading(file: Buffer = SEGMENT, chunkBytes = 1000) {
  const reads: Array<{ segment: number; position: number; length: number }> = [];
  const fail = { now: false };
  const ahead = new ReadAhead(async (segment, buf, position) => {
    reads.push({ segment, position, length: buf.length });
    if (fail.now) throw new Error('EIO');
    return file.copy(buf, 0, position, Math.min(file.length, position + buf.length));
  }, chunkBytes);
  return { ahead, reads, fail };
}

describe('ReadAhead', () => {
  it('serves records near each other from one read, each as a copy of its own', async () => {
    const { ahead, reads } = reading();
    const got = await Promise.all([
      ahead.get(1, 100, 50, 4000),
      ahead.get(1, 150, 60, 4000),
      ahead.get(1, 1000, 99, 4000),
      ahead.get(1, 120, 10, 4000),
    ]);
    expect(got.map((b) => b?.length)).toEqual([50, 60, 99, 10]);
    expect(got[0]).toEqual(SEGMENT.subarray(100, 150));
    expect(got[1]).toEqual(SEGMENT.subarray(150, 210));
    expect(got[2]).toEqual(SEGMENT.subarray(1000, 1099));
    expect(reads).toEqual([{ segment: 1, position: 100, length: 1000 }]);
    got[0]![0] = 255;
    expect(await ahead.get(1, 100, 1, 4000)).toEqual(SEGMENT.subarray(100, 101));
  });

  it('never reads past the committed size, and leaves a record beyond it to the caller', async () => {
    const { ahead, reads } = reading();
    expect(await ahead.get(1, 3500, 100, 3700)).toEqual(SEGMENT.subarray(3500, 3600));
    expect(reads).toEqual([{ segment: 1, position: 3500, length: 200 }]);
    // Committed since: a record past what the chunk holds needs a read of its own.
    expect(await ahead.get(1, 3650, 100, 4000)).toEqual(SEGMENT.subarray(3650, 3750));
    expect(reads).toHaveLength(2);
    expect(await ahead.get(1, 3900, 200, 4000)).toBeNull();
  });

  it('keeps segments apart and forgets a deleted one', async () => {
    const { ahead, reads } = reading();
    await ahead.get(1, 0, 10, 4000);
    await ahead.get(2, 0, 10, 4000);
    await ahead.get(1, 5, 10, 4000);
    expect(reads.map((r) => r.segment)).toEqual([1, 2]);
    ahead.forget(1);
    await ahead.get(1, 5, 10, 4000);
    await ahead.get(2, 5, 10, 4000);
    expect(reads.map((r) => r.segment)).toEqual([1, 2, 1]);
  });

  it('leaves a record larger than a chunk, or one a failed or short read did not bring, to the caller', async () => {
    const { ahead, fail } = reading(SEGMENT.subarray(0, 500));
    expect(await ahead.get(1, 0, 1001, 4000)).toBeNull();
    // The file is shorter than the committed size says (cut since): the short read is reported by the caller.
    expect(await ahead.get(1, 400, 200, 4000)).toBeNull();
    fail.now = true;
    expect(await ahead.get(3, 0, 10, 4000)).toBeNull();
  });

  it('keeps no failed read: the next record asked for in its range is read again', async () => {
    const { ahead, reads, fail } = reading();
    fail.now = true;
    expect(await ahead.get(1, 0, 10, 4000)).toBeNull();
    fail.now = false;
    expect(await ahead.get(1, 20, 10, 4000)).toEqual(SEGMENT.subarray(20, 30));
    expect(reads.map((r) => r.position)).toEqual([0, 20]);
  });
});
