/**
 * The journal on real files (issues #6, #15): framing, reopen, group commit, torn tails, damage skipped and quarantined,
 * older formats, rotation, file modes and what a failed write leaves behind.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, copyFile, cp, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultFileOps,
  encodeRecord,
  Journal,
  QUARANTINE_DIR,
  RECORD_HEADER_BYTES,
  SEGMENT_MAGIC,
  segmentFileName,
  type JournalFileOps,
  type JournalRecord,
  type ScannedRecord,
} from '../../../src/sink/outbox/journal.js';
import { capturingLogger, countingFileOps, silentLogger, tempDir } from './helpers.js';

/** A commit marker's frame: header and a 9-byte body. */
const COMMIT_BYTES = RECORD_HEADER_BYTES + 9;

function eventRecord(seq: number, account = '1234'): JournalRecord {
  const payload = Buffer.from(JSON.stringify({ account, body: { event_id: `evt-${seq}`, text: 'ä "q"\n' } }));
  return { type: 'event', seq, acceptedAt: 1_700_000_000_000 + seq, account, id: `evt-${seq}`, payload };
}

interface Seen {
  record: ScannedRecord;
  segment: number;
  offset: number;
}

async function openJournal(dir: string, extra: Partial<Parameters<typeof Journal.open>[1]> = {}) {
  const seen: Seen[] = [];
  const journal = await Journal.open(dir, {
    logger: silentLogger,
    onRecord: (record, segment, _file, offset) => seen.push({ record, segment, offset }),
    ...extra,
  });
  return { journal, seen };
}

describe('Journal', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('journal-'));
  });
  afterEach(async () => cleanup());

  it('creates segment 1 with its magic and reads appended records back in order after a reopen', async () => {
    const { journal } = await openJournal(dir);
    expect(await readdir(dir)).toEqual([segmentFileName(1)]);
    await journal.append([eventRecord(1), eventRecord(2, 'ABC')]);
    await journal.append([{ type: 'outcome', seq: 1, outcome: 'delivered', detail: { id: 'evt-1' } }]);
    await journal.append([{ type: 'outcome', seq: 2, outcome: 'dead', detail: { id: 'evt-2', reason: 'permanent' } }]);
    await journal.close();

    const { journal: again, seen } = await openJournal(dir);
    expect(seen.map((s) => s.record.type)).toEqual(['event', 'event', 'outcome', 'outcome']);
    const first = seen[0]!.record;
    expect(first).toMatchObject({ type: 'event', seq: 1, account: '1234', id: 'evt-1', acceptedAt: 1_700_000_000_001 });
    expect(JSON.parse((first as { payload: Buffer }).payload.toString('utf8'))).toEqual({
      account: '1234',
      body: { event_id: 'evt-1', text: 'ä "q"\n' },
    });
    expect(seen[1]!.record).toMatchObject({ account: 'ABC', id: 'evt-2' });
    expect(seen[3]!.record).toEqual({ type: 'outcome', seq: 2, outcome: 'dead' });
    expect(seen[0]!.offset).toBe(SEGMENT_MAGIC.length);
    expect(again.bytes).toBe((await stat(join(dir, segmentFileName(1)))).size);
    await again.close();
  });

  it("appendFrames says where each caller's records went; readEvent reads one back through the record checks", async () => {
    const { journal } = await openJournal(dir);
    const [f0, ...frames] = [eventRecord(9), eventRecord(1), eventRecord(2, 'ABC'), eventRecord(3)].map(encodeRecord);
    // Three appends made in one turn share one write (the flush starts at the end of the turn): each caller gets
    // the positions of its own records. One made while that flush runs goes out in the next write, after its marker.
    const [first, a, b] = await Promise.all([
      journal.appendFrames([f0!]),
      journal.appendFrames(frames.slice(0, 2)),
      journal.appendFrames(frames.slice(2)),
    ]);
    const at = SEGMENT_MAGIC.length;
    expect(first).toEqual({ segment: 1, positions: [at] });
    expect(a).toEqual({ segment: 1, positions: [at + f0!.length, at + f0!.length + frames[0]!.length] });
    expect(b).toEqual({ segment: 1, positions: [at + f0!.length + frames[0]!.length + frames[1]!.length] });
    expect(journal.stats()).toMatchObject({ appends: 3, records: 4, syncs: 1 });
    const end = at + f0!.length + frames[0]!.length + frames[1]!.length + frames[2]!.length + COMMIT_BYTES;
    expect(await journal.appendFrames([encodeRecord(eventRecord(4))])).toEqual({ segment: 1, positions: [end] });

    // A flipped byte on disk after the write, before anything was read back (what is read back stays as read).
    const file = join(dir, segmentFileName(1));
    const bytes = await readFile(file);
    bytes[b.positions[0]! + 30]! ^= 1;
    await writeFile(file, bytes);
    expect(await journal.readEvent(1, b.positions[0]!, frames[2]!.length)).toBe('checksum mismatch');

    const second = await journal.readEvent(1, a.positions[1]!, frames[1]!.length);
    expect(second).toMatchObject({ type: 'event', seq: 2, account: 'ABC', id: 'evt-2' });
    expect(JSON.parse((second as { payload: Buffer }).payload.toString('utf8'))).toEqual({
      account: 'ABC',
      body: { event_id: 'evt-2', text: 'ä "q"\n' },
    });
    // Wrong size, past the end, a segment that is not there: reasons, never a throw.
    expect(await journal.readEvent(1, a.positions[1]!, frames[1]!.length - 1)).toBe(
      `incomplete record (${frames[1]!.length - RECORD_HEADER_BYTES} byte body, ${frames[1]!.length - 1 - RECORD_HEADER_BYTES} present)`,
    );
    expect(await journal.readEvent(1, 1_000_000, 40)).toMatch(/only 0 of 40 bytes/);
    expect(await journal.readEvent(9, 8, 40)).toMatch(/ENOENT/);
    await journal.close();
  });

  it('group-commits: 500 concurrent appends share a handful of fsyncs', async () => {
    const { fileOps, fsyncs: countOf } = countingFileOps();
    const { journal } = await openJournal(dir, { fileOps });
    await Promise.all(Array.from({ length: 500 }, (_, i) => journal.append([eventRecord(i + 1)])));
    const stats = journal.stats();
    const fsyncs = countOf();
    console.log(`journal group commit: 500 appends, ${stats.records} records, ${fsyncs} fsyncs`);
    expect(stats.appends).toBe(500);
    expect(stats.records).toBe(500);
    expect(stats.syncs).toBe(fsyncs);
    expect(fsyncs).toBeLessThanOrEqual(5);
    await journal.close();
    const { seen } = await openJournal(dir, { readOnly: true });
    expect(seen.map((s) => s.record.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it("reports each batch's write + fdatasync time, and logs a round slow enough to have stalled the bridge", async () => {
    const { logger, lines } = capturingLogger();
    let slow = false;
    const fileOps: JournalFileOps = {
      ...defaultFileOps,
      async sync(fh) {
        await defaultFileOps.sync(fh);
        if (slow) await new Promise((r) => setTimeout(r, 60));
      },
    };
    const { journal } = await openJournal(dir, { logger, fileOps, slowRoundMs: 50 });
    const rounds: number[] = [];
    journal.onRound((seconds) => rounds.push(seconds));
    await Promise.all([journal.append([eventRecord(1)]), journal.append([eventRecord(2)])]);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toBeGreaterThan(0);
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
    slow = true;
    await journal.append([eventRecord(3)]);
    expect(rounds).toHaveLength(2);
    expect(rounds[1]).toBeGreaterThanOrEqual(0.05);
    const warned = lines.filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ dir, msg: expect.stringMatching(/write \+ fdatasync was slow/) });
    expect(warned[0]!.ms).toBeGreaterThanOrEqual(50);
    await journal.close();
  });

  it('rotates to a new segment at segmentBytes and keeps reading across segments', async () => {
    const { journal } = await openJournal(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 40; i++) await journal.append([eventRecord(i)]);
    expect(journal.segments().length).toBeGreaterThan(3);
    expect(journal.activeSegment).toBe(journal.segments().at(-1));
    await journal.close();
    const { seen } = await openJournal(dir, { segmentBytes: 1024, readOnly: true });
    expect(seen.map((s) => s.record.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(seen.map((s) => s.segment)).size).toBeGreaterThan(3);
  });

  describe('torn tail', () => {
    async function threeRecords(): Promise<{ file: string; ends: number[] }> {
      const { journal } = await openJournal(dir);
      const ends: number[] = [];
      for (let i = 1; i <= 3; i++) {
        await journal.append([eventRecord(i)]);
        ends.push(journal.bytes);
      }
      await journal.close();
      return { file: join(dir, segmentFileName(1)), ends };
    }

    it('cuts a record truncated mid-body, keeps the earlier ones and logs the cut', async () => {
      const { file, ends } = await threeRecords();
      await truncate(file, ends[1]! + 20);
      const { logger, lines } = capturingLogger();
      const { journal, seen } = await openJournal(dir, { logger });
      expect(seen.map((s) => s.record.seq)).toEqual([1, 2]);
      expect((await stat(file)).size).toBe(ends[1]);
      const warning = lines.find((l) => l.msg === 'outbox journal: torn tail from an interrupted write cut off');
      expect(warning).toMatchObject({ file, offset: ends[1], bytesCut: 20 });
      // Appending after the cut yields a clean journal.
      await journal.append([eventRecord(4)]);
      await journal.close();
      const { seen: after } = await openJournal(dir, { readOnly: true });
      expect(after.map((s) => s.record.seq)).toEqual([1, 2, 4]);
    });

    it('cuts a truncated record header', async () => {
      const { file, ends } = await threeRecords();
      await truncate(file, ends[1]! + 5);
      const { journal, seen } = await openJournal(dir);
      expect(seen.map((s) => s.record.seq)).toEqual([1, 2]);
      await journal.close();
    });

    it('cuts a last record whose checksum fails, and a zero-filled tail', async () => {
      const { file, ends } = await threeRecords();
      const handle = await open(file, 'r+');
      await handle.write(Buffer.from([0xff]), 0, 1, ends[2]! - 1);
      await handle.close();
      const first = await openJournal(dir);
      expect(first.seen.map((s) => s.record.seq)).toEqual([1, 2]);
      await first.journal.close();
      expect((await stat(file)).size).toBe(ends[1]);

      await appendFile(file, Buffer.alloc(300));
      const second = await openJournal(dir);
      expect(second.seen.map((s) => s.record.seq)).toEqual([1, 2]);
      await second.journal.close();
      expect((await stat(file)).size).toBe(ends[1]);
    });

    it('rewrites the magic of a newest segment torn during its creation', async () => {
      const { journal } = await openJournal(dir);
      await journal.append([eventRecord(1)]);
      await journal.close();
      await writeFile(join(dir, segmentFileName(2)), SEGMENT_MAGIC.subarray(0, 3));
      const { journal: again, seen } = await openJournal(dir);
      expect(seen.map((s) => s.record.seq)).toEqual([1]);
      expect(await readFile(join(dir, segmentFileName(2)))).toEqual(SEGMENT_MAGIC);
      await again.append([eventRecord(2)]);
      expect(again.activeSegment).toBe(2);
      await again.close();
    });

    it('read-only opening neither cuts nor writes', async () => {
      const { file, ends } = await threeRecords();
      await truncate(file, ends[1]! + 20);
      const { seen } = await openJournal(dir, { readOnly: true });
      expect(seen.map((s) => s.record.seq)).toEqual([1, 2]);
      expect((await stat(file)).size).toBe(ends[1]! + 20);
    });
  });

  describe('corruption', () => {
    async function records(count: number, segmentBytes?: number): Promise<number[]> {
      const { journal } = await openJournal(dir, segmentBytes ? { segmentBytes } : {});
      const starts: number[] = [];
      for (let i = 1; i <= count; i++) {
        starts.push(journal.segmentSize(journal.activeSegment)!);
        await journal.append([eventRecord(i)]);
      }
      await journal.close();
      return starts;
    }

    async function flip(file: string, at: number): Promise<void> {
      const handle = await open(file, 'r+');
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ 0x04;
      await handle.write(byte, 0, 1, at);
      await handle.close();
    }

    const damageLog = 'outbox journal: damaged bytes skipped; the events in them cannot be delivered';

    it('skips a checksum failure in the middle: the record is counted lost, copied to quarantine, the rest is read', async () => {
      const starts = await records(3);
      const file = join(dir, segmentFileName(1));
      await flip(file, starts[1]! + RECORD_HEADER_BYTES + 10);
      const damaged = await readFile(file);
      const { logger, lines } = capturingLogger();
      const { journal, seen } = await openJournal(dir, { logger });
      expect(seen.map((s) => (s.record as { seq: number }).seq)).toEqual([1, 3]);
      // Record 2 is the damaged range; its batch's commit marker, intact, tells one event was lost.
      const end = starts[2]! - COMMIT_BYTES;
      expect(journal.damage).toEqual([
        {
          segment: 1,
          file,
          start: starts[1],
          end,
          reason: 'checksum mismatch',
          lostEvents: 1,
          quarantine: join(dir, QUARANTINE_DIR, `${segmentFileName(1)}.${starts[1]}-${end}.bin`),
        },
      ]);
      expect(await readFile(journal.damage[0]!.quarantine!)).toEqual(damaged.subarray(starts[1], end));
      expect(lines.find((l) => l.msg === damageLog)).toMatchObject({ level: 50, file, start: starts[1], end, lostEvents: 1 });
      // Nothing was cut, and new records go to a new segment (compaction deletes the damaged one once delivered).
      expect((await stat(file)).size).toBe(damaged.length);
      await journal.append([eventRecord(4)]);
      expect(journal.activeSegment).toBe(2);
      await journal.close();
      const { seen: after } = await openJournal(dir, { readOnly: true });
      expect(after.map((s) => (s.record as { seq: number }).seq)).toEqual([1, 3, 4]);
    });

    it('skips a damaged length field in the middle instead of treating the rest as a torn tail', async () => {
      const starts = await records(3);
      await flip(join(dir, segmentFileName(1)), starts[1]! + 1);
      const { journal, seen } = await openJournal(dir);
      expect(seen.map((s) => (s.record as { seq: number }).seq)).toEqual([1, 3]);
      expect(journal.damage).toMatchObject([
        { start: starts[1], end: starts[2]! - COMMIT_BYTES, reason: 'bad record length', lostEvents: 1 },
      ]);
      await journal.close();
    });

    it('a zeroed 4 KiB page with intact records after it: those are read, the page is reported with the events it held', async () => {
      const count = 200;
      const starts = await records(count);
      const file = join(dir, segmentFileName(1));
      const size = (await stat(file)).size;
      // A page among the last ten records.
      const pageAt = Math.floor((size - 4096 - 10 * 100) / 4096) * 4096;
      expect(pageAt).toBeGreaterThan(0);
      const handle = await open(file, 'r+');
      await handle.write(Buffer.alloc(4096), 0, 4096, pageAt);
      await handle.close();
      const { journal, seen } = await openJournal(dir);
      // Each record ends where its batch's commit marker starts.
      const lost = starts
        .map((at, i) => ({ at, end: (starts[i + 1] ?? size) - COMMIT_BYTES, seq: i + 1 }))
        .filter((r) => r.end > pageAt && r.at < pageAt + 4096);
      const read = seen.map((s) => (s.record as { seq: number }).seq);
      expect(lost.length).toBeGreaterThan(10);
      expect(read).toEqual(Array.from({ length: count }, (_, i) => i + 1).filter((seq) => !lost.some((l) => l.seq === seq)));
      expect(read.at(-1)).toBe(count);
      expect(journal.damage).toHaveLength(1);
      expect(journal.damage[0]!.start).toBeLessThanOrEqual(pageAt);
      expect(journal.damage[0]!.end).toBeGreaterThanOrEqual(pageAt + 4096);
      expect(journal.damage[0]!.lostEvents).toBe(lost.length);
      await journal.close();
    });

    it('1,000 random bytes after the last record are an unfinished batch: cut, not damage', async () => {
      const starts = await records(3);
      const file = join(dir, segmentFileName(1));
      const size = (await stat(file)).size;
      await appendFile(file, randomBytes(1000));
      const { journal, seen } = await openJournal(dir);
      expect(seen).toHaveLength(3);
      expect(journal.damage).toEqual([]);
      expect((await stat(file)).size).toBe(size);
      expect(starts).toHaveLength(3);
      await journal.close();
    });

    it('skips a torn record at the end of a segment that is not the last one, reporting an unknown loss', async () => {
      await records(30, 1024);
      const names = (await readdir(dir)).filter((n) => n.endsWith('.journal')).sort();
      expect(names.length).toBeGreaterThan(2);
      const first = join(dir, names[0]!);
      const size = (await stat(first)).size;
      await truncate(first, size - 7);
      const { journal, seen } = await openJournal(dir);
      expect(journal.damage).toMatchObject([{ file: first, end: size - 7, lostEvents: null }]);
      expect(seen.length).toBeGreaterThanOrEqual(29);
      expect(seen.at(-1)!.record).toMatchObject({ seq: 30 });
      await journal.close();
    });

    it('a file that is not a journal segment is copied to quarantine and replaced by an empty segment', async () => {
      await writeFile(join(dir, segmentFileName(1)), 'hello, not a journal');
      const { journal, seen } = await openJournal(dir);
      expect(seen).toEqual([]);
      await journal.append([eventRecord(1)]);
      await journal.close();
      const { seen: after } = await openJournal(dir, { readOnly: true });
      expect(after.map((s) => (s.record as { seq: number }).seq)).toEqual([1]);
    });

    it('read-only opening reports damage without copying or cutting anything', async () => {
      const starts = await records(3);
      await flip(join(dir, segmentFileName(1)), starts[1]! + RECORD_HEADER_BYTES + 10);
      const { journal } = await openJournal(dir, { readOnly: true });
      expect(journal.damage).toMatchObject([{ start: starts[1], lostEvents: 1, quarantine: null }]);
      expect(await readdir(dir)).toEqual([segmentFileName(1)]);
    });
  });

  it('reads a segment written by format version 1 and appends to a new segment after it', async () => {
    await copyFile(new URL('../../fixtures/outbox/00000001.journal-v1', import.meta.url), join(dir, segmentFileName(1)));
    const { journal, seen } = await openJournal(dir);
    expect(seen.map((s) => [s.record.type, s.record.seq])).toEqual([
      ['event', 1],
      ['event', 2],
      ['outcome', 1],
      ['event', 3],
    ]);
    expect(seen[3]!.record).toMatchObject({ account: 'ABCD', id: 'evt-v1-3' });
    expect(journal.damage).toEqual([]);
    await journal.append([eventRecord(4)]);
    expect(journal.activeSegment).toBe(2);
    await journal.close();
    const { seen: after } = await openJournal(dir, { readOnly: true });
    expect(after.map((s) => s.record.seq)).toEqual([1, 2, 1, 3, 4]);
  });

  it('creates its files 0600 in a 0700 directory, and makes an existing 0755 directory private', async () => {
    await chmod(dir, 0o755);
    const { journal } = await openJournal(dir);
    await journal.append([eventRecord(1)]);
    await journal.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, segmentFileName(1)))).mode & 0o777).toBe(0o600);
    const created = join(dir, 'sub', 'outbox');
    const { journal: nested } = await openJournal(created);
    await nested.close();
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
    expect((await stat(created)).mode & 0o777).toBe(0o700);
  });

  it(
    'power cut: writes interrupted at random points before their fsync never refuse a start nor lose an acknowledged record',
    { timeout: 120_000 },
    async () => {
      const powerOff = Object.assign(new Error('power cut'), { code: 'EIO' });
      let runs = 0;
      let damaged = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
          fc.option(
            fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 4096 }), zeros: fc.boolean() }),
          ),
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 5, maxLength: 15 }),
          async (crashAt, reached, hole, groups) => {
            const live = join(dir, `live-${crashAt}-${Math.random().toString(36).slice(2)}`);
            const image = `${live}-image`;
            let writes = 0;
            let off = false;
            const fileOps: JournalFileOps = {
              async write(fh, data, position) {
                if (off) throw powerOff;
                if (++writes !== crashAt) return defaultFileOps.write(fh, data, position);
                // What of this write reached the platters before the power went: a prefix, maybe with a hole in it
                // (pages written out of order) holding zeros or garbage.
                const landed = Buffer.from(data.subarray(0, Math.floor(data.length * reached)));
                if (hole && landed.length > 0) {
                  const from = Math.floor(landed.length * hole.at);
                  const to = Math.min(landed.length, from + hole.length);
                  landed.fill(hole.zeros ? 0 : 0xa5, from, to);
                }
                await defaultFileOps.write(fh, landed, position);
                off = true;
                await cp(live, image, { recursive: true });
                throw powerOff;
              },
              async sync(fh) {
                if (off) throw powerOff;
                return defaultFileOps.sync(fh);
              },
            };
            const acked: number[] = [];
            let seq = 0;
            runs++;
            try {
              const { journal } = await openJournal(live, { fileOps, segmentBytes: 1024 });
              for (const size of groups) {
                const batch = Array.from({ length: size }, () => ++seq);
                const results = await Promise.allSettled(batch.map((n) => journal.append([eventRecord(n)]).then(() => n)));
                for (const r of results) if (r.status === 'fulfilled') acked.push(r.value);
                if (off) break;
              }
              await journal.close().catch(() => undefined);
            } catch (err) {
              if (err !== powerOff) throw err;
            }
            if (!off) await cp(live, image, { recursive: true });

            const { journal, seen } = await openJournal(image);
            const read = seen.filter((s) => s.record.type === 'event').map((s) => s.record.seq);
            for (const n of acked) expect(read).toContain(n);
            // Recovery leaves a journal that takes appends and reads back cleanly.
            await journal.append([eventRecord(1000)]);
            await journal.close();
            const { seen: after, journal: reread } = await openJournal(image, { readOnly: true });
            expect(after.map((s) => s.record.seq)).toEqual([...seen.map((s) => s.record.seq), 1000]);
            const ranges = (damage: typeof journal.damage) =>
              damage.map(({ segment, start, end, lostEvents }) => ({ segment, start, end, lostEvents }));
            expect(ranges(reread.damage)).toEqual(ranges(journal.damage));
            damaged += journal.damage.length > 0 ? 1 : 0;
          },
        ),
        { numRuns: 40 },
      );
      console.log(`power cut: ${runs} runs, ${damaged} with damage before the last commit marker`);
    },
  );

  it('cuts the fragment of a write that failed with ENOSPC, so later records follow good ones', async () => {
    let failNext = false;
    const flaky: JournalFileOps = {
      async write(fh, data, position) {
        if (failNext) {
          failNext = false;
          // Half of the batch reaches the file, then the disk is full.
          await defaultFileOps.write(fh, data.subarray(0, data.length >> 1), position);
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        await defaultFileOps.write(fh, data, position);
      },
      sync: defaultFileOps.sync,
    };
    const { journal } = await openJournal(dir, { fileOps: flaky });
    await journal.append([eventRecord(1)]);
    failNext = true;
    await expect(journal.append([eventRecord(2), eventRecord(3)])).rejects.toMatchObject({ code: 'ENOSPC' });
    await journal.append([eventRecord(4)]);
    await journal.close();
    const { seen } = await openJournal(dir, { readOnly: true });
    expect(seen.map((s) => s.record.seq)).toEqual([1, 4]);
  });
});
