/**
 * The outbox with real files and a real (in-test) sink (issue #6): durability across reopen, group commit,
 * compaction, the byte limit and a full disk, per-account order, retries, dead letters, re-queueing and
 * `ackAfter: "delivered"`.
 */
import { readdirSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxConfig } from '../../../src/config/types.js';
import {
  DEAD_LETTER_FILE,
  LOCK_FILE,
  DeliveryFailedError,
  DeliveryTimeoutError,
  openOutbox,
  OutboxClosedError,
  OutboxFullError,
  OutboxLockedError,
  type Outbox,
  type OutboxDeps,
} from '../../../src/sink/outbox/index.js';
import { defaultFileOps, Journal, segmentBytesFor, type JournalFileOps } from '../../../src/sink/outbox/journal.js';
import { encodeCommit, scanSegment } from '../../../src/sink/outbox/journal-format.js';
import { MAX_RETRY_AFTER_MS } from '../../../src/sink/retry.js';
import type { SourceFrame } from '../../../src/mapper/index.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';
import { FAILING_ACCOUNTS, otherAccountDelayMs, startFailingApi } from '../failing-api.js';
import {
  capturingLogger,
  countingFileOps,
  fullDiskFileOps,
  makeEvent,
  outboxConfig,
  RecordingSink,
  silentLogger,
  tempDir,
  until,
} from './helpers.js';

describe('Outbox', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const opened: Outbox[] = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await cleanup();
  });

  async function open(sink: RecordingSink | null, config: Partial<OutboxConfig> = {}, deps: Partial<OutboxDeps> = {}): Promise<Outbox> {
    const outbox = await openOutbox(outboxConfig(dir, config), {
      logger: silentLogger,
      ...(sink ? { sink } : { start: false }),
      baseDelayMs: 5,
      maxDelayMs: 50,
      closeGraceMs: 500,
      ...deps,
    });
    opened.push(outbox);
    return outbox;
  }

  async function closeAll(): Promise<void> {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  }

  const ids = (events: readonly OutgoingEvent[]) => events.map((e) => e.body.event_id);

  it('keeps accepted events across a reopen and delivers them then, in order, with their event ids', async () => {
    const idle = await open(null);
    await idle.append([makeEvent('1001', 1), makeEvent('1002', 1)]);
    await idle.append([makeEvent('1001', 2)]);
    expect(idle.status()).toMatchObject({ depth: 3, state: 'running', deadLetters: 0 });
    await closeAll();

    const sink = new RecordingSink();
    const outbox = await open(sink);
    await sink.waitForAccepted(3);
    expect(ids(sink.accepted.filter((e) => e.account === '1001'))).toEqual(['evt-1001-1', 'evt-1001-2']);
    expect(sink.accepted.find((e) => e.account === '1002')).toEqual(makeEvent('1002', 1));
    await until(() => outbox.status().depth === 0, 5_000, 'depth 0');
    await closeAll();

    // Their outcomes were journaled: a third start has nothing to deliver.
    const third = await open(null);
    expect(third.status().depth).toBe(0);
  });

  it('journals an event as the JSON of its body and account, and hands the same body text to its first attempt', async () => {
    const sink = new RecordingSink();
    const outbox = await open(sink);
    const event = makeEvent('1001', 1);
    await outbox.append([event]);
    await sink.waitForAccepted(1);
    const journal = await readFile(join(dir, '00000001.journal'));
    expect(journal.includes(JSON.stringify({ body: event.body, account: event.account }))).toBe(true);
    expect(sink.accepted[0]!.bodyJson).toBe(JSON.stringify(event.body));
    // Read back (after a reopen) the event carries no text: the sink serialises the body itself.
    await outbox.append([makeEvent('1001', 2)]);
    await sink.waitForAccepted(2);
    await closeAll();
    const again = await open(null);
    await again.append([makeEvent('1001', 3)]);
    await closeAll();
    const reader = new RecordingSink();
    await open(reader);
    await reader.waitForAccepted(1);
    expect(reader.accepted[0]).toEqual(makeEvent('1001', 3));
  });

  describe('pending events kept as journal positions (bounded memory, issue #15)', () => {
    /** The journal's only segment, and the byte positions of its event records. */
    async function eventRecords(): Promise<{ file: string; starts: number[] }> {
      const file = join(
        dir,
        (await readdir(dir)).find((n) => n.endsWith('.journal'))!,
      );
      const starts: number[] = [];
      scanSegment(await readFile(file), false, (record, offset) => {
        if (record.type === 'event') starts.push(offset);
      });
      return { file, starts };
    }

    it('reads payloads back from the journal for delivery and for list, after a reopen and with more than MAX_FRESH new events', async () => {
      const idle = await open(null);
      const many = Array.from({ length: 1500 }, (_, i) => makeEvent(`A${i % 3}`, i));
      await idle.append(many);
      expect((await idle.list({ limit: 2 })).map((p) => p.event)).toEqual([many[0], many[1]]);
      await closeAll();

      const reopened = await open(null);
      const listed = await reopened.list();
      expect(listed.map((p) => p.id)).toEqual(ids(many));
      expect(listed.map((p) => p.event)).toEqual(many);
      await closeAll();

      const sink = new RecordingSink();
      await open(sink);
      await sink.waitForAccepted(many.length);
      for (const account of ['A0', 'A1', 'A2']) {
        expect(ids(sink.accepted.filter((e) => e.account === account))).toEqual(ids(many.filter((e) => e.account === account)));
      }
      expect(sink.accepted.find((e) => e.body.event_id === many[7]!.body.event_id)).toEqual(many[7]);
    });

    it('a record damaged after start is not lost silently: logged, counted, dead-lettered with the reason; the others are delivered', async () => {
      const idle = await open(null);
      await idle.append([makeEvent('3001', 1), makeEvent('3001', 2), makeEvent('3001', 3)]);
      await closeAll();

      const { logger, lines } = capturingLogger();
      const outbox = await open(null, {}, { logger });
      // The disk goes bad under the running outbox: a byte of the second event's record flips.
      const { file, starts } = await eventRecords();
      const bytes = await readFile(file);
      bytes[starts[1]! + 40]! ^= 0xff;
      await writeFile(file, bytes);
      expect((await outbox.list()).map((p) => p.unreadable ?? 'ok')).toEqual(['ok', 'checksum mismatch', 'ok']);

      const sink = new RecordingSink();
      outbox.start(sink);
      await sink.waitForAccepted(2);
      expect(ids(sink.accepted)).toEqual(['evt-3001-1', 'evt-3001-3']);
      await until(() => outbox.status().deadLetters === 1 && outbox.status().depth === 0, 5_000, 'dead letter written');
      const [letter] = await outbox.list({ dead: true });
      expect(letter).toMatchObject({ reason: 'unreadable', seq: 2 });
      expect(letter!.detail).toContain('checksum mismatch');
      expect(letter!.event).toBeUndefined();
      expect(outbox.status().damage.unreadableEvents).toBe(1);
      expect(lines.find((l) => String(l.msg).includes('cannot be read back from the journal'))).toMatchObject({
        level: 50,
        reason: 'checksum mismatch',
        offset: starts[1],
      });
    });

    it('an event sequence number recorded twice: start keeps the first, reports the second (file, offset) and delivers every event', async () => {
      const idle = await open(null);
      await idle.append([makeEvent('4001', 1), makeEvent('4001', 2)]);
      await closeAll();
      // The first record again, as a complete batch of its own at the end of the segment.
      const { file, starts } = await eventRecords();
      const bytes = await readFile(file);
      const scan = scanSegment(bytes, true, () => undefined);
      const copy = bytes.subarray(starts[0]!, starts[0]! + 12 + bytes.readUInt32LE(starts[0]!));
      await writeFile(file, Buffer.concat([bytes, copy, encodeCommit(scan.events + 1, scan.records + 1)]));

      const { logger, lines } = capturingLogger();
      const sink = new RecordingSink();
      const outbox = await open(sink, {}, { logger });
      await sink.waitForAccepted(2);
      expect(ids(sink.accepted)).toEqual(['evt-4001-1', 'evt-4001-2']);
      expect(outbox.status().damage).toMatchObject({
        duplicateEvents: 1,
        duplicates: [{ seq: 1, segment: 1, file, offset: bytes.length }],
      });
      expect(lines.find((l) => String(l.msg).includes('sequence number seen before'))).toMatchObject({
        level: 50,
        seq: 1,
        file,
        offset: bytes.length,
      });
      await until(() => outbox.status().depth === 0, 5_000, 'depth 0');
      await sleep(100);
      expect(sink.accepted).toHaveLength(2);
    });
  });

  it('a lost outcome means a redelivery with the same id, never a loss (delivery abandoned at close)', async () => {
    const sink = new RecordingSink();
    sink.delay = () => 400;
    const outbox = await open(sink, {}, { closeGraceMs: 50 });
    await outbox.append([makeEvent('2001', 1)]);
    await until(() => sink.inFlight === 1, 2_000, 'delivery in flight');
    await closeAll();

    const again = new RecordingSink();
    const reopened = await open(again);
    await again.waitForAccepted(1);
    expect(ids(again.accepted)).toEqual(['evt-2001-1']);
    await until(() => reopened.status().depth === 0, 2_000, 'depth 0');
  });

  it('group-commits concurrent accepts: far fewer fsyncs than frames', async () => {
    const { fileOps, fsyncs: countOf } = countingFileOps();
    const outbox = await open(null, {}, { fileOps });
    const frames = 400;
    await Promise.all(Array.from({ length: frames }, (_, i) => outbox.append([makeEvent(`A${i % 40}`, i)])));
    const stats = outbox.journalStats();
    const fsyncs = countOf();
    console.log(`outbox group commit: ${frames} concurrent accepts -> ${stats.records} records, ${fsyncs} fsyncs`);
    expect(stats.records).toBe(frames);
    expect(fsyncs).toBeLessThanOrEqual(10);
    expect(outbox.status().depth).toBe(frames);
  });

  it('journals the outcomes of deliveries that finish together in one append, and they survive a reopen', async () => {
    const sink = new RecordingSink();
    const outbox = await open(sink, {}, { concurrency: 64 });
    const events = Array.from({ length: 64 }, (_, i) => makeEvent(`B${i}`, i));
    await outbox.append(events);
    await sink.waitForAccepted(64);
    await until(() => outbox.journalStats().records === 128, 2_000, 'all outcomes journaled');
    const stats = outbox.journalStats();
    // One append for the 64 events, then outcome appends per turn of the event loop — not one per delivery.
    expect(stats.appends).toBeLessThanOrEqual(4);
    await closeAll();
    const reopened = await open(null);
    expect(reopened.status().depth).toBe(0);
  });

  it("holds delivered outcomes for the next accepted frame's fsync: one fsync per frame, not two", async () => {
    const { fileOps, fsyncs } = countingFileOps();
    const sink = new RecordingSink();
    // A hold that never runs out here: every outcome goes with a frame's fsync, or with close.
    const outbox = await open(sink, {}, { fileOps, outcomeHoldMs: 60_000 });
    const before = fsyncs();
    for (let i = 1; i <= 10; i++) {
      await outbox.append([makeEvent('H1', i)]);
      await sink.waitForAccepted(i);
      await until(() => outbox.status().depth === 0, 2_000, `event ${i} delivered`);
    }
    // Ten frames, ten fsyncs: the outcomes of the first nine rode along, the tenth is still held.
    expect(fsyncs() - before).toBe(10);
    await closeAll();
    expect(fsyncs() - before).toBe(11);
    const reopened = await open(null);
    expect(reopened.status().depth).toBe(0);
  });

  it('close journals the outcomes of deliveries that finished in its last turn', async () => {
    const sink = new RecordingSink();
    const outbox = await open(sink);
    await outbox.append([makeEvent('C1', 1), makeEvent('C2', 1)]);
    await sink.waitForAccepted(2);
    // No waiting for the flush: close itself must write what is still batched.
    await closeAll();
    const reopened = await open(null);
    expect(reopened.status().depth).toBe(0);
  });

  it('refuses a second writer on the same directory', async () => {
    await open(null);
    await expect(open(null)).rejects.toBeInstanceOf(OutboxLockedError);
    // A read-only view is fine next to the writer.
    const view = await open(null, {}, { readOnly: true });
    expect(view.status().state).toBe('read-only');
    await expect(view.append([makeEvent('1', 1)])).rejects.toBeInstanceOf(OutboxClosedError);
  });

  it('takes over the lock of a process that is gone (a crashed bridge restarts unattended)', async () => {
    // Pid 2^22 + 1 is above Linux's pid_max ceiling, so no process has it.
    await writeFile(join(dir, LOCK_FILE), `${2 ** 22 + 1}\n`);
    const outbox = await open(null);
    await outbox.append([makeEvent('L1', 1)]);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await closeAll();
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
  });

  describe('compaction', () => {
    /** An event record as the outbox journals it, written straight to a journal to lay out segments by hand. */
    const journalEvent = (seq: number, account: string, id: string) => ({
      type: 'event' as const,
      seq,
      acceptedAt: Date.now(),
      account,
      id,
      payload: Buffer.from(JSON.stringify({ account, body: { event_id: id } })),
    });
    it('retries a failing compaction on one timer, however many refusals asked for one', async () => {
      const journal = await Journal.open(dir, { logger: silentLogger, segmentBytes: 1, onRecord() {} });
      await journal.append([journalEvent(1, 'STUCK', 'K'), journalEvent(2, 'A', 'A')]);
      await journal.append([{ type: 'outcome', seq: 2, outcome: 'delivered', detail: { id: 'A' } }]);
      await journal.append([{ type: 'outcome', seq: 999, outcome: 'delivered', detail: { id: 'x' } }]);
      await journal.close();
      const fullDisk: JournalFileOps = {
        async write() {
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
        sync: defaultFileOps.sync,
      };
      const { logger, lines } = capturingLogger();
      const outbox = await open(null, {}, { fileOps: fullDisk, writeRetryMs: 100, logger });
      for (let i = 0; i < 50; i++) await outbox.append([makeEvent('F', i)]).catch(() => undefined);
      await sleep(150);
      const failuresBefore = lines.filter((l) => l.msg === 'outbox compaction failed; retried later').length;
      await sleep(500);
      const failures = lines.filter((l) => l.msg === 'outbox compaction failed; retried later').length - failuresBefore;
      expect(failuresBefore).toBeGreaterThan(0);
      expect(failures).toBeGreaterThanOrEqual(1); // still retried…
      expect(failures).toBeLessThanOrEqual(15); // …about every 100 ms (5 in 500 ms), not once per refusal (over 100)
    });

    it('never deletes an outcome before its event: a compaction cut short (no room to copy outcomes) brings nothing back', async () => {
      // Segments: 1 = events K (stuck) and A; 2 = A's outcome and event B; 3 = B's outcome; 4 = filler (active).
      const journal = await Journal.open(dir, { logger: silentLogger, segmentBytes: 1, onRecord() {} });
      const outcome = (seq: number) => ({ type: 'outcome' as const, seq, outcome: 'delivered' as const, detail: { id: 'x' } });
      await journal.append([journalEvent(1, 'STUCK', 'K'), journalEvent(2, 'A', 'A')]);
      await journal.append([outcome(2), journalEvent(3, 'B', 'B')]);
      await journal.append([outcome(3)]);
      await journal.append([outcome(999)]);
      await journal.close();
      const noRoomForCopies: JournalFileOps = {
        async write(fh, data, position) {
          if (data.includes('"carried":true')) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          await defaultFileOps.write(fh, data, position);
        },
        sync: defaultFileOps.sync,
      };
      const first = await open(null, {}, { fileOps: noRoomForCopies, writeRetryMs: 60_000 });
      expect((await first.list()).map((p) => p.id)).toEqual(['K']);
      await sleep(100);
      await first.close();
      const again = await open(null);
      expect((await again.list()).map((p) => p.id)).toEqual(['K']);
    });

    it('deletes segments whose events are all delivered; the directory stays small', async () => {
      const sink = new RecordingSink();
      const outbox = await open(sink, {}, { segmentBytes: 4096 });
      for (let i = 0; i < 200; i++) await outbox.append([makeEvent(`C${i % 5}`, i)]);
      await sink.waitForAccepted(200);
      await until(() => outbox.status().depth === 0, 5_000, 'depth 0');
      // The last outcomes may still be on their way to disk, then compaction runs.
      await until(() => outbox.journalStats().records >= 400 && outbox.status().bytes < 3 * 4096, 5_000, 'compaction');
      const segments = (await readdir(dir)).filter((n) => n.endsWith('.journal'));
      expect(segments.length).toBeLessThanOrEqual(2);
      await closeAll();
      const reopened = await open(null);
      expect(reopened.status().depth).toBe(0);
    });

    it('keeps a segment with an undelivered event, and deleting later segments does not revive finished events', async () => {
      const sink = new RecordingSink();
      // Account STUCK never gets through; everything else does.
      sink.behaviour = (event) => (event.account === 'STUCK' ? { kind: 'retry', reason: 'HTTP 503' } : { kind: 'accepted' });
      const outbox = await open(sink, {}, { segmentBytes: 2048, baseDelayMs: 20, maxDelayMs: 20 });
      await outbox.append([makeEvent('STUCK', 1)]);
      // Events in the first segment whose outcomes land in later ones (those segments get compacted).
      await outbox.append([makeEvent('OK', 1), makeEvent('OK', 2)]);
      for (let i = 3; i < 120; i++) await outbox.append([makeEvent('OK', i)]);
      await sink.waitForAccepted(119);
      await until(() => outbox.status().depth === 1, 5_000, 'only STUCK pending');
      await sleep(100);
      const segments = (await readdir(dir)).filter((n) => n.endsWith('.journal')).sort();
      expect(segments[0]).toBe('00000001.journal');
      expect(segments.length).toBeLessThanOrEqual(3);
      await closeAll();

      const reopened = await open(null);
      expect(reopened.status().depth).toBe(1);
      const pending = await reopened.list();
      expect(pending.map((p) => p.id)).toEqual(['evt-STUCK-1']);
      await closeAll();

      const again = new RecordingSink();
      await open(again);
      await again.waitForAccepted(1);
      expect(ids(again.accepted)).toEqual(['evt-STUCK-1']);
    });
  });

  describe('full', () => {
    it('maxBytes: accept rejects with OutboxFullError, accepted events are still delivered, then it accepts again', async () => {
      const sink = new RecordingSink();
      let open_ = true;
      sink.behaviour = () => (open_ ? { kind: 'retry', reason: 'API down' } : { kind: 'accepted' });
      const outbox = await open(sink, { maxBytes: 6000 }, { segmentBytes: 2048 });
      let accepted = 0;
      let refused: unknown = null;
      for (let i = 0; i < 100 && !refused; i++) {
        try {
          await outbox.append([makeEvent('F1', i)]);
          accepted++;
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toBeInstanceOf(OutboxFullError);
      expect(refused).toMatchObject({ kind: 'max-bytes' });
      expect(accepted).toBeGreaterThan(3);
      expect(outbox.status().state).toBe('full');
      await expect(outbox.append([makeEvent('F2', 1)])).rejects.toBeInstanceOf(OutboxFullError);

      open_ = false;
      await sink.waitForAccepted(accepted);
      expect(ids(sink.accepted)).toEqual(Array.from({ length: accepted }, (_, i) => `evt-F1-${i}`));
      await until(() => outbox.status().state === 'running', 5_000, 'state running after compaction');
      await outbox.append([makeEvent('F2', 2)]);
      await sink.waitForAccepted(accepted + 1);
    });

    it('maxBytes smaller than a segment: once everything is delivered, it accepts again (a new segment lets compaction free the old)', async () => {
      const sink = new RecordingSink();
      const outbox = await open(sink, { maxBytes: 50_000 }, { segmentBytes: 1024 * 1024 });
      let accepted = 0;
      for (let i = 0; i < 1000; i++) {
        try {
          await outbox.append([makeEvent('S1', i)]);
          accepted++;
        } catch (err) {
          expect(err).toMatchObject({ kind: 'max-bytes' });
          break;
        }
      }
      expect(accepted).toBeGreaterThan(10);
      await sink.waitForAccepted(accepted);
      await until(() => outbox.status().depth === 0, 5_000, 'everything delivered');
      // The panel retries its refused frame: it is taken once the delivered segment has been compacted away.
      let retried = false;
      for (const deadline = Date.now() + 5_000; !retried && Date.now() < deadline;) {
        retried = await outbox.append([makeEvent('S1', accepted)]).then(
          () => true,
          () => false,
        );
        if (!retried) await sleep(20);
      }
      expect(retried).toBe(true);
      expect(outbox.status().state).toBe('running');
    });

    it('a compaction that fails (no space for the outcomes it must copy forward) is tried again by itself', async () => {
      let failCarry = false;
      const fileOps: JournalFileOps = {
        async write(fh, data, position) {
          if (failCarry && data.includes('"carried":true')) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          await defaultFileOps.write(fh, data, position);
        },
        sync: defaultFileOps.sync,
      };
      const sink = new RecordingSink();
      let hold = true;
      sink.behaviour = (event) => (event.account === 'STUCK' || hold ? { kind: 'retry', reason: 'API down' } : { kind: 'accepted' });
      // Outcomes fsynced one by one (not held for a frame's fsync), so that they spread over several segments.
      const outbox = await open(sink, {}, { segmentBytes: 1024, writeRetryMs: 20, fileOps, outcomeHoldMs: 0 });
      // The stuck event shares its segment with ten others: their outcomes, written to later segments, must be
      // copied forward before those segments can go.
      await outbox.append([makeEvent('STUCK', 0), ...Array.from({ length: 10 }, (_, i) => makeEvent('A', i))]);
      for (let i = 10; i < 30; i++) await outbox.append([makeEvent('A', i)]);
      // Everything is on disk and pending; now the API comes back while compaction cannot copy outcomes forward.
      failCarry = true;
      sink.delay = () => 3; // outcomes trickle in, one write each, over several segments
      hold = false;
      await sink.waitForAccepted(30);
      await until(() => outbox.status().depth === 1, 5_000, 'only the stuck event pending');
      const segments = () => readdirSync(dir).filter((n) => n.endsWith('.journal')).length;
      await sleep(100);
      const blocked = segments();
      expect(blocked).toBeGreaterThan(3); // delivered segments wait for their outcomes to be copied forward
      failCarry = false;
      // No further frame or delivery comes: only the retry can compact.
      await until(() => segments() <= 3, 5_000, 'compaction retried');
      expect(outbox.status().depth).toBe(1);
    });

    it('honours Retry-After up to an hour: a huge one neither dead-letters a fresh event nor spins', async () => {
      const sink = new RecordingSink();
      sink.behaviour = () => ({ kind: 'retry', afterMs: 100 * 24 * 3600 * 1000, reason: 'come back in 100 days' });
      const outbox = await open(sink, { maxAgeHours: 72 });
      const before = Date.now();
      await outbox.append([makeEvent('R1', 1)]);
      await until(() => outbox.status().depth === 1 && sink.attempts.length === 1, 2_000, 'first attempt');
      await sleep(50);
      expect(sink.attempts).toHaveLength(1);
      const [pending] = await outbox.list();
      expect(outbox.status().deadLetters).toBe(0);
      const next = Date.parse(pending!.nextAttemptAt!);
      expect(next - before).toBeGreaterThan(MAX_RETRY_AFTER_MS - 5_000);
      expect(next - before).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 5_000);
    });

    it('starts at most one new segment per full spell, however many frames it refuses', async () => {
      const sink = new RecordingSink();
      sink.behaviour = (event) =>
        event.account === 'STUCK' ? { kind: 'retry', afterMs: 3_000_000, reason: 'API refuses this one' } : { kind: 'accepted' };
      const outbox = await open(sink, { maxBytes: 50_000 });
      // Stuck events spread over the segments hold the budget; the segment being written ends up with none.
      for (let n = 0; ; n++) {
        const account = n % 4 === 0 && outbox.status().bytes < 40_000 ? 'STUCK' : 'A';
        const ok = await outbox.append([makeEvent(account, n)]).then(
          () => true,
          () => false,
        );
        if (!ok) break;
        await sleep(1);
      }
      await sleep(300);
      const before = outbox.journalStats().dirSyncs;
      let refused = 0;
      for (let i = 0; i < 60; i++) {
        await outbox.append([makeEvent('P', i, { pad: 'y'.repeat(20_000) })]).catch(() => refused++);
        await sleep(2);
      }
      await sleep(100);
      expect(refused).toBe(60);
      // One rotation (a new segment, then the old one deleted): a few directory fsyncs, not a few per refusal.
      expect(outbox.journalStats().dirSyncs - before).toBeLessThanOrEqual(6);
    });

    it('sizes segments from maxBytes: an eighth of it, between 4 KiB and 16 MiB', () => {
      expect(segmentBytesFor(1024 * 1024 * 1024)).toBe(16 * 1024 * 1024);
      expect(segmentBytesFor(80 * 1024 * 1024)).toBe(10 * 1024 * 1024);
      expect(segmentBytesFor(200_000)).toBe(25_000);
      expect(segmentBytesFor(2000)).toBe(4096);
    });

    it('disk full (ENOSPC): accept rejects with OutboxFullError and state is full until space is back', async () => {
      const { fileOps, disk } = fullDiskFileOps();
      const sink = new RecordingSink();
      sink.behaviour = () => ({ kind: 'retry', reason: 'API down' });
      const outbox = await open(sink, {}, { fileOps });
      await outbox.append([makeEvent('D1', 1)]);
      disk.full = true;
      const err = await outbox.append([makeEvent('D1', 2)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboxFullError);
      expect(err).toMatchObject({ kind: 'disk-full' });
      expect(outbox.status().state).toBe('full');
      expect(outbox.status().depth).toBe(1);

      disk.full = false;
      await outbox.append([makeEvent('D1', 3)]);
      expect(outbox.status().state).toBe('running');
      sink.behaviour = () => ({ kind: 'accepted' });
      await sink.waitForAccepted(2);
      expect(ids(sink.accepted)).toEqual(['evt-D1-1', 'evt-D1-3']);
    });
  });

  it('disk full: delivered events free their segments although no outcome can be written; nothing is lost or redelivered', async () => {
    const { fileOps, disk } = fullDiskFileOps();
    const sink = new RecordingSink();
    sink.behaviour = () => ({ kind: 'retry', reason: 'API down' });
    const outbox = await open(sink, {}, { fileOps, segmentBytes: 2048, baseDelayMs: 10, maxDelayMs: 20, writeRetryMs: 50 });
    for (let n = 1; n <= 24; n++) await outbox.append([makeEvent(`F${n % 3}`, n)]);
    const before = outbox.status().bytes;
    expect(readdirSync(dir).filter((f) => f.endsWith('.journal')).length).toBeGreaterThan(3);

    // The disk fills up, then the API comes back: every outcome write fails, yet the old segments go.
    disk.full = true;
    sink.behaviour = () => ({ kind: 'accepted' });
    await sink.waitForAccepted(24);
    const journalFiles = () => readdirSync(dir).filter((f) => f.endsWith('.journal')).length;
    await until(() => journalFiles() === 1, 5_000, 'only the active segment left');
    expect(outbox.status().bytes).toBeLessThan(before / 2);
    expect(outbox.status().depth).toBe(0);

    // Space is back: the outcomes still owed are written, a new frame is accepted, a restart redelivers nothing.
    disk.full = false;
    await outbox.append([makeEvent('F9', 99)]);
    await sink.waitForAccepted(25);
    await until(() => outbox.journalStats().records >= 24 + 1 + 25, 5_000, 'outcomes written');
    await closeAll();
    const again = new RecordingSink();
    const reopened = await open(again);
    await sleep(100);
    expect(reopened.status().depth).toBe(0);
    expect(again.accepted).toHaveLength(0);
    expect(ids(sink.accepted).sort()).toEqual(
      [...Array.from({ length: 24 }, (_, i) => `evt-F${(i + 1) % 3}-${i + 1}`), 'evt-F9-99'].sort(),
    );
  });

  it('delivers per account in order while accounts run in parallel up to the cap (random delays and retries)', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sink = new RecordingSink();
    sink.delay = () => Math.floor(random() * 6);
    sink.behaviour = () => (random() < 0.2 ? { kind: 'retry', reason: 'HTTP 503' } : { kind: 'accepted' });
    const outbox = await open(sink, {}, { concurrency: 4, baseDelayMs: 2, maxDelayMs: 10 });
    const accounts = Array.from({ length: 12 }, (_, i) => `P${i}`);
    const perAccount = 25;
    const sends: Promise<void>[] = [];
    for (let n = 0; n < perAccount; n++) {
      for (const account of accounts) sends.push(outbox.append([makeEvent(account, n)]));
      if (n % 5 === 0) await sleep(1);
    }
    await Promise.all(sends);
    await sink.waitForAccepted(accounts.length * perAccount, 20_000);
    for (const account of accounts) {
      const got = ids(sink.accepted.filter((e) => e.account === account));
      expect(got).toEqual(Array.from({ length: perAccount }, (_, n) => `evt-${account}-${n}`));
    }
    // An account's next event is only tried after the previous one's outcome: attempts are in order too.
    for (const account of accounts) {
      const tried = sink.attempts.filter((a) => a.account === account).map((a) => Number(a.id.split('-').at(-1)));
      expect(tried).toEqual([...tried].sort((a, b) => a - b));
    }
    expect(sink.maxInFlight).toBeLessThanOrEqual(4);
    expect(sink.maxInFlight).toBeGreaterThan(1);
  });

  it('retries with backoff, honouring afterMs, then succeeds', async () => {
    const sink = new RecordingSink();
    sink.behaviour = (_event, attempt) =>
      attempt < 3 ? { kind: 'retry', reason: 'HTTP 429', afterMs: 60 } : { kind: 'accepted', responseId: 'r1' };
    const outbox = await open(sink);
    await outbox.append([makeEvent('R1', 1)]);
    await sink.waitForAccepted(1);
    const times = sink.attempts.map((a) => a.at);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(55);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(55);
    await until(() => outbox.status().depth === 0, 2_000, 'depth 0');
  });

  it('8 accounts whose events keep getting 503 do not delay another account: its event arrives within a second', async () => {
    const api = await startFailingApi(new Set(FAILING_ACCOUNTS));
    try {
      const outbox = await openOutbox(outboxConfig(dir), { logger: silentLogger, sink: api.sink, concurrency: 8, closeGraceMs: 100 });
      opened.push(outbox);
      expect(await otherAccountDelayMs(api, outbox)).toBeLessThan(1_000);
      await until(() => outbox.status().depth === 16);
      await closeAll();
    } finally {
      await api.close();
    }
  });

  it('shows the retry state of a pending event', async () => {
    const sink = new RecordingSink();
    sink.behaviour = () => ({ kind: 'retry', reason: 'HTTP 503', afterMs: 10_000 });
    let clock = Date.parse('2026-01-15T10:00:00Z');
    const outbox = await open(sink, {}, { now: () => new Date(clock) });
    await outbox.append([makeEvent('S1', 1)]);
    await until(() => sink.attempts.length === 1, 2_000, 'first attempt');
    await sleep(10);
    const [pending] = await outbox.list();
    expect(pending).toMatchObject({ id: 'evt-S1-1', account: 'S1', attempts: 1, lastReason: 'HTTP 503' });
    expect(pending!.nextAttemptAt).not.toBeNull();
    expect(pending!.event).toEqual(makeEvent('S1', 1));
    expect(outbox.status().oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    clock += 42_000;
    expect(outbox.status().oldestAgeSeconds).toBe(42);
  });

  describe('camera credentials at rest', () => {
    const PASSWORD = 'Cam-Pa55word-6f1d';
    const TOKEN = 'X-Amz-Signature=9b2c77aa51e0d3f4';
    const withMedia = (n: number, account = 'M1'): OutgoingEvent => ({
      ...makeEvent(account, n),
      media: { snapshotUrl: `https://cam.example/snap.jpg?${TOKEN}&n=${n}`, username: 'viewer', password: PASSWORD },
    });

    /** Every file under the outbox directory, as bytes. */
    async function everyFile(root: string): Promise<Array<{ name: string; bytes: Buffer }>> {
      const out: Array<{ name: string; bytes: Buffer }> = [];
      for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
        if (entry.isFile())
          out.push({ name: join(entry.parentPath, entry.name), bytes: await readFile(join(entry.parentPath, entry.name)) });
      }
      return out;
    }

    it('no camera password or URL token is found in the outbox directory; delivery after a restart still gets them', async () => {
      const refusing = new RecordingSink();
      refusing.behaviour = (event) =>
        event.body.event_id === 'evt-M2-3' ? { kind: 'permanent', status: 400, reason: 'HTTP 400' } : { kind: 'retry', reason: 'API down' };
      const outbox = await open(refusing, {}, { maxDelayMs: 60_000, baseDelayMs: 60_000 });
      await outbox.append([withMedia(1), withMedia(2)]);
      await outbox.append([withMedia(3, 'M2')]);
      await until(() => outbox.status().deadLetters === 1, 5_000, 'dead letter');
      // The first attempt got the credentials it needs.
      expect(refusing.attempts.length).toBeGreaterThan(0);
      const pending = await outbox.list();
      expect(pending[0]!.event).not.toHaveProperty('media');
      expect((pending[0]!.event as { sealedMedia?: string }).sealedMedia).toMatch(/^m1\./);
      await closeAll();

      const files = await everyFile(dir);
      expect(files.map((f) => f.name)).toEqual(
        expect.arrayContaining([join(dir, DEAD_LETTER_FILE), join(dir, '00000001.journal'), join(dir, 'media.key')]),
      );
      for (const { name, bytes } of files) {
        expect(bytes.includes(PASSWORD), name).toBe(false);
        expect(bytes.includes(TOKEN), name).toBe(false);
        expect(bytes.includes('cam.example'), name).toBe(false);
      }
      expect((await stat(join(dir, 'media.key'))).mode & 0o777).toBe(0o600);

      const sink = new RecordingSink();
      await open(sink);
      await sink.waitForAccepted(1);
      const delivered = sink.accepted.find((e) => e.body.event_id === 'evt-M1-1')!;
      expect(delivered.media).toEqual(withMedia(1).media);
      expect(delivered).not.toHaveProperty('sealedMedia');
    });

    it('a replaced key file costs the stored events their snapshot source, not their delivery', async () => {
      const outbox = await open(null);
      await outbox.append([withMedia(1)]);
      await closeAll();
      await writeFile(join(dir, 'media.key'), `${'ab'.repeat(32)}\n`);
      const { logger, lines } = capturingLogger();
      const sink = new RecordingSink();
      await open(sink, {}, { logger });
      await sink.waitForAccepted(1);
      expect(sink.accepted[0]).toMatchObject({ body: { event_id: 'evt-M1-1' } });
      expect(sink.accepted[0]).not.toHaveProperty('media');
      expect(lines.some((l) => String(l.msg).includes('cannot be decrypted'))).toBe(true);
    });

    it('outbox.keyFile: a key kept outside the directory; a malformed one names the file and the key', async () => {
      const keyDir = await tempDir('outbox-key-');
      try {
        const keyFile = join(keyDir.dir, 'outbox.key');
        const outbox = await open(null, { keyFile });
        await outbox.append([withMedia(1)]);
        await closeAll();
        expect(await readdir(dir)).not.toContain('media.key');
        expect((await readFile(keyFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
        await writeFile(keyFile, 'not a key');
        await expect(open(null, { keyFile })).rejects.toThrow(`${keyFile} (outbox.keyFile): expected 32 bytes written as 64 hex digits`);
      } finally {
        await keyDir.cleanup();
      }
    });
  });

  describe('dead letters', () => {
    it('a permanent outcome goes to the dead letters with reason, status and response, and is final', async () => {
      const sink = new RecordingSink();
      sink.behaviour = (event) =>
        event.body.event_id === 'evt-X1-2'
          ? { kind: 'permanent', status: 400, reason: 'HTTP 400: camera_id unknown', response: { error: 'bad camera' } }
          : { kind: 'accepted' };
      const outbox = await open(sink);
      await outbox.append([makeEvent('X1', 1), makeEvent('X1', 2), makeEvent('X1', 3)]);
      await sink.waitForAccepted(2);
      // The account went on after the dead one.
      expect(ids(sink.accepted)).toEqual(['evt-X1-1', 'evt-X1-3']);
      await until(() => outbox.status().deadLetters === 1, 2_000, 'dead letter written');
      const [letter] = await outbox.list({ dead: true });
      expect(letter).toMatchObject({
        id: 'evt-X1-2',
        account: 'X1',
        reason: 'permanent',
        detail: 'HTTP 400: camera_id unknown',
        status: 400,
        response: { error: 'bad camera' },
        attempts: 1,
        event: makeEvent('X1', 2),
      });
      const line = JSON.parse((await readFile(join(dir, DEAD_LETTER_FILE), 'utf8')).trim()) as Record<string, unknown>;
      expect(line.id).toBe('evt-X1-2');
      await until(() => outbox.status().depth === 0, 2_000, 'depth 0');
      await closeAll();
      const reopened = await open(null);
      expect(reopened.status()).toMatchObject({ depth: 0, deadLetters: 1 });
    });

    it('an event past maxAgeHours goes to the dead letters (reason max-age, with the last failure)', async () => {
      let offset = 0;
      const now = () => new Date(Date.now() + offset);
      const sink = new RecordingSink();
      sink.behaviour = () => ({ kind: 'retry', reason: 'connect ECONNREFUSED' });
      const outbox = await open(sink, { maxAgeHours: 1 }, { now, baseDelayMs: 20, maxDelayMs: 20 });
      await outbox.append([makeEvent('M1', 1)]);
      await until(() => sink.attempts.length >= 2, 2_000, 'retries');
      offset = 3_600_000;
      await until(() => outbox.status().deadLetters === 1, 2_000, 'dead letter');
      const [letter] = await outbox.list({ dead: true });
      expect(letter).toMatchObject({ id: 'evt-M1-1', reason: 'max-age' });
      expect(letter!.detail).toContain('connect ECONNREFUSED');
      expect(outbox.status().depth).toBe(0);
    });

    it('an event already past maxAgeHours at start is dead-lettered without an attempt', async () => {
      const idle = await open(null, { maxAgeHours: 1 });
      await idle.append([makeEvent('M2', 1)]);
      await closeAll();
      const sink = new RecordingSink();
      const later = () => new Date(Date.now() + 2 * 3_600_000);
      const outbox = await open(sink, { maxAgeHours: 1 }, { now: later });
      await until(() => outbox.status().deadLetters === 1, 2_000, 'dead letter');
      expect(sink.attempts).toHaveLength(0);
    });

    it('retryDead re-queues with the original event id and removes the letter', async () => {
      const sink = new RecordingSink();
      let refuse = true;
      sink.behaviour = () => (refuse ? { kind: 'permanent', status: 403, reason: 'HTTP 403' } : { kind: 'accepted' });
      const outbox = await open(sink);
      await outbox.append([makeEvent('Y1', 1), makeEvent('Y2', 1)]);
      await until(() => outbox.status().deadLetters === 2, 2_000, 'two dead letters');
      await until(() => outbox.status().depth === 0, 2_000, 'depth 0');

      refuse = false;
      const result = await outbox.retryDead({ account: 'y1' });
      expect(result).toEqual({ requeued: ['evt-Y1-1'], skipped: [] });
      await sink.waitForAccepted(1);
      // Its first attempt carries the body's text as journaled again, which the sink sends (src/sink/body-json.ts).
      const { bodyJson, ...delivered } = sink.accepted[0]!;
      expect(delivered).toEqual(makeEvent('Y1', 1));
      expect(JSON.parse(bodyJson!)).toEqual(delivered.body);
      const left = await outbox.list({ dead: true });
      expect(left.map((l) => l.id)).toEqual(['evt-Y2-1']);

      const rest = await outbox.retryDead();
      expect(rest.requeued).toEqual(['evt-Y2-1']);
      await sink.waitForAccepted(2);
      expect(outbox.status().deadLetters).toBe(0);
    });

    it('discardDead removes the chosen letters for good, returns them and frees their bytes', async () => {
      const sink = new RecordingSink();
      sink.behaviour = () => ({ kind: 'permanent', status: 400, reason: 'HTTP 400' });
      const outbox = await open(sink);
      await outbox.append([makeEvent('Z1', 1), makeEvent('Z1', 2), makeEvent('Z2', 1)]);
      await until(() => outbox.status().deadLetters === 3, 2_000, 'three dead letters');
      const bytesBefore = (await readFile(join(dir, DEAD_LETTER_FILE))).length;

      const gone = await outbox.discardDead({ account: 'z1', ids: ['evt-Z1-2'] });
      expect(gone.map((l) => [l.id, l.reason, l.status])).toEqual([['evt-Z1-2', 'permanent', 400]]);
      expect(outbox.status().deadLetters).toBe(2);
      expect((await readFile(join(dir, DEAD_LETTER_FILE))).length).toBeLessThan(bytesBefore);
      expect(await outbox.discardDead({ ids: ['evt-Z1-2'] })).toEqual([]);

      expect((await outbox.discardDead({ reason: 'permanent' })).map((l) => l.id).sort()).toEqual(['evt-Z1-1', 'evt-Z2-1']);
      await closeAll();
      const reopened = await open(null);
      expect(reopened.status()).toMatchObject({ deadLetters: 0, depth: 0 });
      expect(sink.accepted).toHaveLength(0);
    });

    it('keepNotForwarded stores unmapped events as dead letters; retryDead maps them again when asked to', async () => {
      const sink = new RecordingSink();
      const outbox = await open(sink);
      const frame: SourceFrame = {
        protocol: 'dc09',
        token: 'SIA-DCS',
        encrypted: false,
        account: 'U1',
        receiver: null,
        line: null,
        sequence: '0001',
        data: '#U1|NBA1',
        xdata: [],
        timestamp: null,
        timestampTrusted: false,
        occurredAt: null,
        receivedAt: new Date(0),
        peer: null,
        transport: 'tcp',
        raw: 'raw',
        events: [],
      };
      await outbox.keepNotForwarded([
        {
          eventId: 'evt-U1-1',
          account: 'U1',
          reason: 'unmapped-account',
          message: 'account U1 has no location',
          configKey: 'accounts["U1"].locationId',
          partial: { event_type: 'alarm' },
          source: frame,
          index: 0,
        },
        { eventId: 'evt-U2-1', account: 'U2', reason: 'unmapped-camera', message: 'no camera' },
      ]);
      const dead = await outbox.list({ dead: true });
      expect(dead).toHaveLength(2);
      expect(dead[0]).toMatchObject({
        id: 'evt-U1-1',
        reason: 'unmapped-account',
        detail: 'account U1 has no location',
        configKey: 'accounts["U1"].locationId',
        source: { frame: expect.objectContaining({ raw: 'raw' }), index: 0 },
      });
      expect(outbox.status().deadLetters).toBe(2);

      // Without a remap there is nothing to deliver: both stay.
      expect((await outbox.retryDead()).skipped).toHaveLength(2);
      const remapped = await outbox.retryDead({
        reason: 'unmapped-account',
        remap: (letter) => makeEvent(letter.account, 1),
      });
      expect(remapped.requeued).toEqual(['evt-U1-1']);
      await sink.waitForAccepted(1);
      expect(sink.accepted[0]!.body.event_id).toBe('evt-U1-1');
      expect((await outbox.list({ dead: true })).map((l) => l.id)).toEqual(['evt-U2-1']);
    });
  });

  describe('ackAfter delivered', () => {
    it('accept resolves only after the sink accepted every event', async () => {
      const sink = new RecordingSink();
      sink.delay = () => 80;
      const outbox = await open(sink, { ackAfter: 'delivered' });
      const started = performance.now();
      await outbox.append([makeEvent('K1', 1), makeEvent('K2', 1)]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
      expect(ids(sink.accepted).sort()).toEqual(['evt-K1-1', 'evt-K2-1']);
    });

    it('rejects with DeliveryTimeoutError after deliveredTimeoutSeconds; the event stays queued and is delivered later', async () => {
      const sink = new RecordingSink();
      let down = true;
      sink.behaviour = () => (down ? { kind: 'retry', reason: 'HTTP 503' } : { kind: 'accepted' });
      const outbox = await open(sink, { ackAfter: 'delivered', deliveredTimeoutSeconds: 0.2 });
      const started = performance.now();
      const err = await outbox.append([makeEvent('T1', 1)]).catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(err).toBeInstanceOf(DeliveryTimeoutError);
      expect((err as DeliveryTimeoutError).eventIds).toEqual(['evt-T1-1']);
      expect(waited).toBeGreaterThanOrEqual(190);
      expect(outbox.status().depth).toBe(1);
      down = false;
      await sink.waitForAccepted(1);
    });

    it('rejects with DeliveryFailedError when the event is dead-lettered instead', async () => {
      const sink = new RecordingSink();
      sink.behaviour = () => ({ kind: 'permanent', status: 404, reason: 'HTTP 404' });
      const outbox = await open(sink, { ackAfter: 'delivered' });
      await expect(outbox.append([makeEvent('T2', 1)])).rejects.toBeInstanceOf(DeliveryFailedError);
    });
  });
});
