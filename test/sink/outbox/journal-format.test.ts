/**
 * The journal's byte layout (pinned by fixture files: a format change is a deliberate, visible change) and the
 * reading rules of issue #15: a scan never throws, reads every record outside the damage, and counts what is lost.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeEventFrame,
  encodeCommit,
  encodeEventRecord,
  encodeRecord,
  scanSegment,
  SEGMENT_MAGIC,
  SEGMENT_MAGIC_V1,
  type JournalRecord,
  type ScannedRecord,
} from '../../../src/sink/outbox/journal-format.js';
import { Journal, segmentFileName } from '../../../src/sink/outbox/journal.js';
import { silentLogger, tempDir } from './helpers.js';

const fixture = (name: string) => readFile(new URL(`../../fixtures/outbox/${name}`, import.meta.url));

/** The records of the version 2 fixture: two events in one batch, then an outcome. */
const FIXTURE_BATCHES: JournalRecord[][] = [
  [
    {
      type: 'event',
      seq: 1,
      acceptedAt: Date.UTC(2026, 0, 15, 10, 0, 1),
      account: '1234',
      id: 'evt-v2-1',
      payload: Buffer.from('{"body":{"event_id":"evt-v2-1"},"account":"1234"}'),
    },
    {
      type: 'event',
      seq: 2,
      acceptedAt: Date.UTC(2026, 0, 15, 10, 0, 2),
      account: 'ÄBC',
      id: 'evt-v2-2',
      payload: Buffer.from('{"body":{"event_id":"evt-v2-2"},"account":"ÄBC"}'),
    },
  ],
  [{ type: 'outcome', seq: 1, outcome: 'delivered', detail: { id: 'evt-v2-1', at: '2026-01-15T10:00:05.000Z' } }],
];

function scanAll(buf: Buffer, isLast = true): { records: ScannedRecord[]; scan: ReturnType<typeof scanSegment> } {
  const records: ScannedRecord[] = [];
  const scan = scanSegment(buf, isLast, (r) => records.push(r.type === 'event' ? { ...r, payload: Buffer.from(r.payload) } : r));
  return { records, scan };
}

/** A version 2 segment of `batches`, with the offsets where each record starts. */
function segmentOf(batches: JournalRecord[][]): { buf: Buffer; starts: number[]; committedAt: number[] } {
  const parts: Buffer[] = [SEGMENT_MAGIC];
  const starts: number[] = [];
  /** Per record: where the commit marker of its batch ends. */
  const committedAt: number[] = [];
  let at = SEGMENT_MAGIC.length;
  let events = 0;
  let records = 0;
  for (const batch of batches) {
    for (const record of batch) {
      const frame = encodeRecord(record);
      starts.push(at);
      at += frame.length;
      parts.push(frame);
      records++;
      if (record.type === 'event') events++;
    }
    const marker = encodeCommit(events, records);
    at += marker.length;
    parts.push(marker);
    for (const _ of batch) committedAt.push(at);
  }
  return { buf: Buffer.concat(parts), starts, committedAt };
}

describe('journal format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('journal-format-'));
  });
  afterEach(async () => cleanup());

  it('version 2 byte layout: known records encode to the fixture, and the journal writes exactly those bytes', async () => {
    const expected = await fixture('00000001.journal-v2');
    expect(segmentOf(FIXTURE_BATCHES).buf).toEqual(expected);
    expect(expected.subarray(0, 8).toString('latin1')).toBe('ABOXJNL2');
    const journal = await Journal.open(dir, { logger: silentLogger, onRecord: () => undefined });
    for (const batch of FIXTURE_BATCHES) await journal.append(batch);
    await journal.close();
    expect(await readFile(join(dir, segmentFileName(1)))).toEqual(expected);
    const { records, scan } = scanAll(expected);
    expect(records.map((r) => [r.type, r.seq])).toEqual([
      ['event', 1],
      ['event', 2],
      ['outcome', 1],
    ]);
    expect(records[1]).toMatchObject({ account: 'ÄBC', id: 'evt-v2-2', acceptedAt: Date.UTC(2026, 0, 15, 10, 0, 2) });
    expect(scan).toMatchObject({ version: 2, validEnd: expected.length, tornReason: null, damage: [], events: 2, records: 3 });
  });

  it('reads the version 1 fixture (no commit markers): a journal written by the previous version', async () => {
    const v1 = await fixture('00000001.journal-v1');
    expect(v1.subarray(0, 8)).toEqual(SEGMENT_MAGIC_V1);
    const { records, scan } = scanAll(v1);
    expect(records.map((r) => [r.type, r.seq])).toEqual([
      ['event', 1],
      ['event', 2],
      ['outcome', 1],
      ['event', 3],
    ]);
    expect(scan).toMatchObject({ version: 1, validEnd: v1.length, tornReason: null, damage: [] });
    // A torn tail in a version 1 segment is cut as before.
    const torn = scanAll(v1.subarray(0, v1.length - 5));
    expect(torn.records).toHaveLength(3);
    expect(torn.scan.tornReason).toMatch(/incomplete record/);
  });

  it("decodeEventFrame: one event record read back on its own, with the scan's checks; anything else is a reason", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.string(), fc.string(), fc.string(), (seq, account, id, json) => {
        const { frame } = encodeEventRecord(seq, 1_700_000_000_123, account, id, json);
        expect(decodeEventFrame(frame)).toEqual({
          type: 'event',
          seq,
          acceptedAt: 1_700_000_000_123,
          account,
          id,
          payload: Buffer.from(json, 'utf8'),
        });
        expect(decodeEventFrame(frame.subarray(0, frame.length - 1))).toMatch(/^incomplete record/);
        expect(decodeEventFrame(Buffer.concat([frame, Buffer.alloc(1)]))).toMatch(/^record length/);
        const flipped = Buffer.from(frame);
        flipped[frame.length - 1]! ^= 0x80;
        expect(decodeEventFrame(flipped)).toBe('checksum mismatch');
      }),
    );
    expect(decodeEventFrame(encodeRecord({ type: 'outcome', seq: 1, outcome: 'delivered', detail: {} }))).toBe(
      'outcome record where an event record was expected',
    );
    expect(decodeEventFrame(Buffer.alloc(30))).toBe('bad record length');
  });

  it('in the newest segment, records after the last commit marker are an unfinished batch and are cut', () => {
    const { buf } = segmentOf(FIXTURE_BATCHES);
    const unfinished = Buffer.concat([buf, encodeRecord({ type: 'outcome', seq: 2, outcome: 'dead', detail: {} })]);
    const { records, scan } = scanAll(unfinished);
    expect(records).toHaveLength(3);
    expect(scan).toMatchObject({
      validEnd: buf.length,
      tornReason: 'records after the last commit marker (a batch whose write did not finish)',
      damage: [],
    });
    // In an older segment the same record is read (a later segment proves the batch was finished).
    expect(scanAll(unfinished, false).records).toHaveLength(4);
  });

  it('never throws, and reads every record outside a damaged range; a commit marker after the damage counts the lost events', () => {
    const batches: JournalRecord[][] = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 1 + (b % 3) }, (_, i) => {
        const seq = b * 3 + i + 1;
        return {
          type: 'event',
          seq,
          acceptedAt: seq,
          account: `A${b % 4}`,
          id: `e${seq}`,
          payload: Buffer.from(JSON.stringify({ seq, pad: 'x'.repeat(seq * 7) })),
        };
      }),
    );
    const { buf, starts, committedAt } = segmentOf(batches);
    const seqs = batches.flat().map((r) => r.seq);
    fc.assert(
      fc.property(
        fc.integer({ min: SEGMENT_MAGIC.length, max: buf.length - 1 }),
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom('zero', 'random', 'flip'),
        fc.boolean(),
        fc.uint8Array({ minLength: 600, maxLength: 600 }),
        (at, length, kind, isLast, noise) => {
          const damaged = Buffer.from(buf);
          const end = Math.min(buf.length, at + length);
          for (let i = at; i < end; i++) damaged[i] = kind === 'zero' ? 0 : kind === 'random' ? noise[i - at]! : damaged[i]! ^ 0x5a;
          const { records, scan } = scanAll(damaged, isLast);
          const read = new Set(records.map((r) => r.seq));
          // Records before the damage are read: in the newest segment, those of batches whose commit marker is intact.
          const untouched = seqs.filter((_, i) => (isLast ? committedAt[i]! : (starts[i + 1] ?? buf.length)) <= at);
          for (const seq of untouched) expect(read.has(seq)).toBe(true);
          if (!isLast) {
            const after = seqs.filter((_, i) => starts[i]! >= end);
            for (const seq of after) expect(read.has(seq)).toBe(true);
          }
          for (const r of records) expect(seqs).toContain(r.seq);
          // What the markers say was lost is what was not read before the last marker kept.
          const counted = scan.damage.reduce((n, d) => n + (d.lostEvents ?? 0), 0);
          const unknown = scan.damage.some((d) => d.lostEvents === null);
          if (!unknown) expect(counted).toBe(scan.events - records.filter((r) => r.type === 'event').length);
        },
      ),
      { numRuns: 400 },
    );
  });
});
