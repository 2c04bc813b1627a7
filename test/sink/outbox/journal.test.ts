/**
 * The journal on real files (issue #6): framing, reopen, group commit, torn tails, corruption refusal, rotation and
 * what a failed write leaves behind.
 */
import { appendFile, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxCorruptError } from '../../../src/sink/outbox/errors.js';
import {
  defaultFileOps,
  Journal,
  RECORD_HEADER_BYTES,
  SEGMENT_MAGIC,
  segmentFileName,
  type JournalFileOps,
  type JournalRecord,
  type ScannedRecord,
} from '../../../src/sink/outbox/journal.js';
import { capturingLogger, countingFileOps, silentLogger, tempDir } from './helpers.js';

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

    it('refuses a checksum failure in the middle with the file and the byte offset', async () => {
      const starts = await records(3);
      const file = join(dir, segmentFileName(1));
      await flip(file, starts[1]! + RECORD_HEADER_BYTES + 10);
      const err = await openJournal(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboxCorruptError);
      expect(err).toMatchObject({ file, offset: starts[1], reason: 'checksum mismatch' });
      expect((err as Error).message).toContain(`${file} is corrupt at byte ${starts[1]}`);
      // Nothing was cut.
      expect((await stat(file)).size).toBeGreaterThan(starts[2]!);
    });

    it('refuses a damaged length field in the middle instead of treating the rest as a torn tail', async () => {
      const starts = await records(3);
      const file = join(dir, segmentFileName(1));
      await flip(file, starts[1]! + 1);
      await expect(openJournal(dir)).rejects.toMatchObject({ name: 'OutboxCorruptError', offset: starts[1], reason: 'bad record length' });
    });

    it('refuses a torn record at the end of a segment that is not the last one', async () => {
      await records(30, 1024);
      const names = (await readdir(dir)).sort();
      expect(names.length).toBeGreaterThan(2);
      const first = join(dir, names[0]!);
      const size = (await stat(first)).size;
      await truncate(first, size - 7);
      await expect(openJournal(dir)).rejects.toMatchObject({ name: 'OutboxCorruptError', file: first });
    });

    it('refuses a file that is not a journal segment', async () => {
      await writeFile(join(dir, segmentFileName(1)), 'hello, not a journal');
      await expect(openJournal(dir)).rejects.toMatchObject({ name: 'OutboxCorruptError', offset: 0 });
    });
  });

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
