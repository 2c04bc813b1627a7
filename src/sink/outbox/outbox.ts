/**
 * The durable outbox (issue #6), the local-journal backend of the durable log. `append(events)` resolves once the
 * events are fdatasynced in the journal (the receiver ACKs then, issue #4). Delivery runs behind it through the
 * shared per-account scheduler (`../scheduler.ts`: per account in order, accounts in parallel, a backoff frees the
 * slot) with the shared backoff (`../retry.ts`):
 *
 * - `permanent` outcomes and events older than `maxAgeHours` go to `dead-letters.ndjson` with the reason, and an
 *   `outcome: dead` record;
 * - on start every event without a final outcome is delivered again, per account in the original order, with its
 *   original event id.
 *
 * What recovery rebuilds and what compaction may delete is the ledger's (`ledger.ts`); the operator's actions on
 * dead letters are `dead-letter-actions.ts`. Compaction: a segment that is not the active one and whose events all
 * have final outcomes is deleted, after the outcomes it carries for events of older, still kept segments were
 * copied to the active segment, so deleting it never brings a finished event back to life.
 */
import { join } from 'node:path';
import type { OutboxConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import type { DurableLog, LogState, LogStatus, NotForwarded } from '../durable-log.js';
import { nextRetryIn, type RetryPolicy } from '../retry.js';
import { AccountScheduler, type Step } from '../scheduler.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../types.js';
import { DeadLetterActions, letterOf, type DeadLetterFilter, type RetryDeadOptions, type RetryDeadResult } from './dead-letter-actions.js';
import { DeadLetterStore, type DeadLetter, type StoredDeadLetter } from './dead-letters.js';
import { Capacity } from './capacity.js';
import { DeliveryFailedError, DeliveryTimeoutError, isNoSpace, OutboxClosedError, OutboxWriteError } from './errors.js';
import {
  encodeEventRecord,
  makeDurableDir,
  segmentBytesFor,
  Journal,
  type JournalDamageReport,
  type JournalFileOps,
  type JournalStats,
  type OutcomeKind,
  type Placement,
} from './journal.js';
import { Ledger, type CarriedOutcome, type DuplicateEvent } from './ledger.js';
import { lockDir, type DirLock } from './lock.js';
import { Entry } from './entry.js';
import { MEDIA_KEY_FILE, MediaSeal, storedEvent } from './media-seal.js';
import type { SeqIndex } from './seq-index.js';

export type { DeadLetterFilter, RetryDeadOptions, RetryDeadResult } from './dead-letter-actions.js';

export interface OutboxDeps {
  /** Where events go. Required unless the outbox is opened read-only or with `start: false`. */
  sink?: Sink;
  logger: Logger;
  /** Clock for acceptance times and ages (tests). */
  now?: () => Date;
  /** Uniform [0, 1) for the backoff jitter (tests). */
  random?: () => number;
  /** Deliveries in flight at once, over all accounts (default 8). */
  concurrency?: number;
  /** Deliveries started per turn of the event loop beyond the events added in it (default: no limit; `AccountScheduler`). */
  startsPerTurn?: number;
  /** Backoff base and cap (defaults 500 ms and 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Journal segment rotation size (default 16 MiB). */
  segmentBytes?: number;
  /** How long `close` lets in-flight deliveries finish before abandoning them to the next start (default 5 s). */
  closeGraceMs?: number;
  /** How long delivered outcomes wait for a frame's fsync to carry them (default OUTCOME_HOLD_MS; 0: fsync at once). */
  outcomeHoldMs?: number;
  /** How soon a failed outcome or dead-letter write is tried again (default 5 s). */
  writeRetryMs?: number;
  /** Inspect only (`outbox status|list` next to a running bridge): no lock, no truncation, no writes. */
  readOnly?: boolean;
  /** Open without delivering (`outbox retry` re-queues and leaves delivery to the bridge). Default true. */
  start?: boolean;
  /** File operations of the journal (tests count fsyncs and inject ENOSPC). */
  fileOps?: JournalFileOps;
}

export type OutboxState = LogState;

export interface OutboxStatus extends LogStatus {
  /** Journal bytes on disk (what `maxBytes` limits). */
  bytes: number;
  /** Lines in the dead-letter file. */
  deadLetters: number;
  /** Damaged journal bytes skipped at start (issue #15): the outbox runs degraded, the events in them are lost. */
  damage: OutboxDamageReport;
}

/** The journal's damage report, plus what recovery and delivery found record by record (issue #15). */
export interface OutboxDamageReport extends JournalDamageReport {
  /** Event records skipped at start because an earlier record had the same sequence number (the first is kept). */
  duplicateEvents: number;
  duplicates: readonly DuplicateEvent[];
  /** Pending events whose record could not be read back for delivery (the file was damaged after start): dead-lettered. */
  unreadableEvents: number;
}

export interface PendingEvent {
  seq: number;
  id: string;
  account: string;
  /** ISO 8601. */
  acceptedAt: string;
  attempts: number;
  lastReason: string | null;
  /** ISO 8601, while waiting out a backoff. */
  nextAttemptAt: string | null;
  /** The event as stored (media sealed), read back from the journal; null when its record cannot be read (`unreadable` says why). */
  event: OutgoingEvent | null;
  unreadable?: string;
}

interface NewEntry {
  entry: Entry;
  /** Its journal record, written once by `persist`. */
  frame: Buffer;
}

/** A final outcome waiting for its journal append. */
interface PendingOutcome {
  entry: Entry;
  outcome: OutcomeKind;
  detail: Readonly<Record<string, unknown>>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const DONE: Step = { kind: 'done' };
const DELIVERED: Step = { kind: 'done', delivered: true };
/** Fresh event objects held at once (a healthy but slower sink): past this, new events are read back like old ones. */
const MAX_FRESH = 1024;
/** Duplicate event records logged one by one at start; the rest are summed up in one line. */
const DUPLICATES_LOGGED = 100;
/**
 * How long delivered outcomes wait for accepted frames' fsync to carry them before they are fsynced alone: while
 * frames arrive they add no fsync of their own; a crash in the window costs a redelivery, never a loss.
 */
export const OUTCOME_HOLD_MS = 100;

/** Builds recovered entries: journaled events not attempted yet in this process, their payload left on disk. */
function reviver(): (record: { seq: number; account: string; acceptedAt: number }, segment: number, at: number, size: number) => Entry {
  // A few accounts have many events each: one string per account, not per event.
  const accounts = new Map<string, string>();
  return (record, segment, at, size) => {
    let account = accounts.get(record.account);
    if (account === undefined) {
      account = record.account;
      accounts.set(account, account);
    }
    return new Entry(record.seq, account, record.acceptedAt, segment, at, size);
  };
}

/** Opens (creating) the outbox in `config.dir`, reloads what is pending and starts delivering it. */
export async function openOutbox(config: OutboxConfig, deps: OutboxDeps): Promise<Outbox> {
  const readOnly = deps.readOnly ?? false;
  const start = !readOnly && (deps.start ?? true);
  if (start && !deps.sink) throw new TypeError('openOutbox: a sink is needed to deliver');
  const started = performance.now();
  let lock: DirLock | null = null;
  if (!readOnly) {
    await makeDurableDir(config.dir);
    lock = await lockDir(config.dir);
  }
  try {
    const ledger = new Ledger<Entry>(reviver());
    const journal = await Journal.open(config.dir, {
      logger: deps.logger,
      readOnly,
      segmentBytes: deps.segmentBytes ?? segmentBytesFor(config.maxBytes),
      ...(deps.fileOps ? { fileOps: deps.fileOps } : {}),
      onRecord: (record, segment, file, offset, size) => {
        const duplicate = ledger.add(record, segment, file, offset, size);
        if (duplicate && ledger.duplicates.length <= DUPLICATES_LOGGED) {
          deps.logger.error(
            { ...duplicate },
            'outbox journal: event record with a sequence number seen before skipped (the first one is kept)',
          );
        }
      },
    });
    ledger.recovered();
    if (ledger.duplicates.length > DUPLICATES_LOGGED) {
      deps.logger.error(
        { duplicates: ledger.duplicates.length, logged: DUPLICATES_LOGGED },
        'outbox journal: more event records with a sequence number seen before were skipped',
      );
    }
    const dead = await DeadLetterStore.open(config.dir, readOnly, deps.logger);
    // Camera credentials are stored encrypted; a read-only view shows them sealed and needs no key.
    const seal = readOnly ? null : await MediaSeal.open(config.keyFile ?? join(config.dir, MEDIA_KEY_FILE), deps.logger);
    const outbox = new Outbox(config, deps, journal, dead, lock, ledger, readOnly, seal);
    deps.logger.info(
      {
        dir: config.dir,
        pending: ledger.live.size,
        segments: journal.segments().length,
        bytes: journal.bytes,
        deadLetters: dead.count,
        ms: Math.round(performance.now() - started),
      },
      'outbox opened',
    );
    if (start) outbox.start();
    return outbox;
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

/** The outcome detail of a delivery the API gave no response id for (shared: only read, to journal it). */
const NO_DETAIL: Readonly<Record<string, unknown>> = Object.freeze({});

export class Outbox implements DurableLog {
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly retry: RetryPolicy;
  private readonly closeGraceMs: number;
  private readonly outcomeHoldMs: number;
  private readonly writeRetryMs: number;
  private sink: Sink | null;

  private readonly live: SeqIndex<Entry>;
  /** Entries holding their event object (`fresh`). */
  private freshHeld = 0;
  private unreadableEvents = 0;
  private nextSeq: number;
  private lastSegment: number;
  private readonly scheduler: AccountScheduler<Entry>;
  private readonly letters: DeadLetterActions;

  /** Final outcomes of this turn of the event loop, journaled together (see `flushOutcomes`). */
  private outcomeBatch: PendingOutcome[] = [];
  private outcomeFlushScheduled = false;
  /** Outcome and dead-letter writes in progress, and those waiting to be tried again after a failure. */
  private readonly writes = new Set<Promise<void>>();
  private deferred: Array<Array<() => Promise<void>>> = [];
  private retryTimer: NodeJS.Timeout | null = null;

  private readonly waiters = new Set<(err: Error) => void>();
  private compacting: Promise<void> | null = null;
  private compactAgain = false;

  private readonly capacity: Capacity;
  private rotating: Promise<void> | null = null;
  private compactionRetry: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Set once the journal is being closed: late delivery results are no longer recorded. */
  private finished = false;
  private closing: Promise<void> | null = null;

  /** @internal Use `openOutbox`. */
  constructor(
    private readonly config: OutboxConfig,
    deps: OutboxDeps,
    private readonly journal: Journal,
    private readonly dead: DeadLetterStore,
    private readonly lock: DirLock | null,
    private readonly ledger: Ledger<Entry>,
    private readonly readOnly: boolean,
    /** Seals media sources for the journal; null when read-only (nothing is written or delivered then). */
    private readonly seal: MediaSeal | null,
  ) {
    this.logger = deps.logger;
    const now = deps.now;
    this.clock = now ? () => now().getTime() : Date.now;
    this.retry = {
      baseDelayMs: deps.baseDelayMs ?? 500,
      maxDelayMs: deps.maxDelayMs ?? 60_000,
      maxAgeMs: config.maxAgeHours * 3_600_000,
      random: deps.random ?? Math.random,
    };
    this.closeGraceMs = deps.closeGraceMs ?? 5_000;
    this.outcomeHoldMs = deps.outcomeHoldMs ?? OUTCOME_HOLD_MS;
    this.writeRetryMs = deps.writeRetryMs ?? 5_000;
    this.sink = deps.sink ?? null;
    this.live = ledger.live;
    this.nextSeq = ledger.maxSeq + 1;
    this.lastSegment = journal.activeSegment;
    this.capacity = new Capacity(config, journal, dead, this.logger, () => this.live.size);
    this.scheduler = new AccountScheduler<Entry>({
      concurrency: deps.concurrency ?? 8,
      ...(deps.startsPerTurn !== undefined ? { startsPerTurn: deps.startsPerTurn } : {}),
      account: (entry) => entry.account,
      attempt: (entry) => this.attempt(entry),
      crashed: (entry, err) => {
        // attempt() handles the sink's failures; this is a bug guard that keeps the account moving.
        this.logger.error({ account: entry.account, event_id: entry.id, err: describeError(err) }, 'outbox delivery worker failed');
        return this.live.has(entry.seq) ? this.backoff(entry, { kind: 'retry', reason: describeError(err) }) : DONE;
      },
      timers: { now: this.clock, set: (fire, ms) => setTimeout(fire, ms), clear: (t) => clearTimeout(t as NodeJS.Timeout) },
      logger: this.logger,
    });
    this.letters = new DeadLetterActions(
      dead,
      this.logger,
      () => this.assertWritable(),
      (events) => {
        const at = this.clock();
        return this.persist(events.map((event) => this.newEntry(event, at)));
      },
    );
    // Reloaded events go back in their original order, per account.
    for (const entry of this.live.values()) this.enqueue(entry);
    if (!readOnly) this.scheduleCompaction();
  }

  /** Starts (or resumes) delivery; `openOutbox` calls it unless `start: false`. */
  start(sink?: Sink): void {
    if (this.readOnly || this.stopping) return;
    if (sink) this.sink = sink;
    if (!this.sink) throw new TypeError('Outbox.start: no sink');
    this.scheduler.start();
  }

  // ---- appending -------------------------------------------------------------------------------------------------

  /**
   * Journals the events (fdatasync, group-committed) and schedules their delivery. Resolves when they are durable;
   * with `ackAfter: "delivered"` only once the sink accepted every one of them (a `DeliveryTimeoutError` after
   * `deliveredTimeoutSeconds`, a `DeliveryFailedError` if one is dead-lettered; either way nothing is dropped).
   * Rejects with `OutboxFullError` when `maxBytes` is reached or the disk is full: the receiver NAKs.
   */
  async append(events: readonly OutgoingEvent[]): Promise<void> {
    this.assertWritable();
    if (events.length === 0) return;
    const at = this.clock();
    const created = events.map((event) => this.newEntry(event, at));
    const waiter = this.config.ackAfter === 'delivered' ? this.deliveryWaiter(created.map((c) => c.entry)) : null;
    try {
      await this.persist(created);
    } catch (err) {
      waiter?.cancel();
      throw err;
    }
    if (waiter) await waiter.promise;
  }

  /** Stores events the mapper did not forward directly as dead letters, with the mapper's reason. */
  async keepNotForwarded(events: readonly NotForwarded[]): Promise<void> {
    this.assertWritable();
    if (events.length === 0) return;
    // Dead letters share the disk budget (issue #6: the directory does not grow without bound).
    if (this.capacity.usedBytes >= this.config.maxBytes) throw this.capacity.maxBytesReached();
    const deadAt = iso(this.clock());
    try {
      await this.dead.append(events.map((event) => letterOf(event, deadAt)));
    } catch (err) {
      throw this.writeFailed(err);
    }
  }

  private assertWritable(): void {
    if (this.readOnly) throw new OutboxClosedError('the outbox is open read-only');
    if (this.stopping) throw new OutboxClosedError();
  }

  /** A new entry and its journal record (its position is known once written). */
  private newEntry(event: OutgoingEvent, acceptedAt: number): NewEntry {
    const seq = this.nextSeq++;
    const id = event.body.event_id;
    // One serialisation of the body for the record and for the sink's first attempt (docs/performance.md §3).
    const bodyJson = JSON.stringify(event.body);
    const { frame } = encodeEventRecord(seq, acceptedAt, event.account, id, this.seal!.encode(event, bodyJson));
    const entry = new Entry(seq, event.account, acceptedAt, 0, 0, frame.length, id);
    if (this.freshHeld < MAX_FRESH) {
      entry.fresh = { ...event, bodyJson };
      this.freshHeld++;
    }
    return { entry, frame };
  }

  private dropFresh(entry: Entry): void {
    if (entry.fresh === null) return;
    entry.fresh = null;
    this.freshHeld--;
  }

  /** Appends event records and, once durable, makes the events live and schedules them. */
  private async persist(created: readonly NewEntry[]): Promise<void> {
    let size = 0;
    for (const c of created) size += c.frame.length;
    const refused = this.capacity.refuse(size);
    if (refused) {
      this.releaseActiveSegment();
      throw refused;
    }
    let placement: Placement;
    try {
      placement = await this.journal.appendFrames(created.map((c) => c.frame));
    } catch (err) {
      for (const c of created) this.dropFresh(c.entry);
      throw this.writeFailed(err);
    }
    this.capacity.written();
    const { segment, positions } = placement;
    const entries = created.map((c, i) => {
      c.entry.at = positions[i]!;
      return c.entry;
    });
    this.ledger.appended(entries, segment);
    for (const e of entries) this.enqueue(e);
    this.noteSegment(segment);
  }

  /** Maps a failed write to what the receiver needs: `OutboxFullError` for a full disk. */
  private writeFailed(err: unknown): Error {
    if (isNoSpace(err)) {
      const full = this.capacity.diskIsFull(err);
      // Delivered segments may be deletable: that is the only way this outbox can give space back.
      this.scheduleCompaction();
      return full;
    }
    if (err instanceof OutboxClosedError || err instanceof OutboxWriteError) return err;
    this.logger.error({ dir: this.config.dir, err: describeError(err) }, 'outbox write failed');
    return new OutboxWriteError(`outbox write failed: ${describeError(err)}`);
  }

  /**
   * `ackAfter: "delivered"`: a promise that settles when every entry is finally delivered (or one is not), or on
   * the timeout. It is created before the events are scheduled so that a fast sink cannot finish first.
   */
  private deliveryWaiter(entries: Entry[]): { promise: Promise<void>; cancel(): void } {
    const timeoutMs = this.config.deliveredTimeoutSeconds * 1000;
    const open = new Set(entries);
    let timer: NodeJS.Timeout | null = null;
    let fail: (err: Error) => void = () => undefined;
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      for (const e of entries) e.onFinal = null;
      this.waiters.delete(fail);
    };
    const promise = new Promise<void>((resolve, reject) => {
      fail = (err) => {
        cleanup();
        reject(err);
      };
      this.waiters.add(fail);
      for (const e of entries) {
        e.onFinal = (delivered, reason) => {
          if (!delivered) return fail(new DeliveryFailedError(e.id ?? '', reason));
          open.delete(e);
          if (open.size === 0) {
            cleanup();
            resolve();
          }
        };
      }
      timer = setTimeout(
        () =>
          fail(
            new DeliveryTimeoutError(
              [...open].map((e) => e.id ?? ''),
              timeoutMs,
            ),
          ),
        timeoutMs,
      );
    });
    // The timeout can fire before `append` awaits the promise (a slow fsync): never an unhandled rejection.
    promise.catch(() => undefined);
    return { promise, cancel: cleanup };
  }

  // ---- delivery ------------------------------------------------------------------------------------------------

  private enqueue(entry: Entry): void {
    // Behind an account in a backoff the event may wait a while: it is read back when its turn comes.
    if (this.scheduler.isWaiting(entry.account)) this.dropFresh(entry);
    this.scheduler.add(entry);
  }

  /** One delivery attempt of an account's head event. */
  private async attempt(entry: Entry): Promise<Step> {
    if (this.clock() - entry.acceptedAt >= this.retry.maxAgeMs) {
      this.finishDead(entry, 'max-age', this.maxAgeDetail(entry));
      return DONE;
    }
    let event = entry.fresh;
    this.dropFresh(entry);
    if (event === null) {
      const stored = await this.readBack(entry);
      // Closed while reading: the event is redelivered at the next start.
      if (this.finished) return { kind: 'retry', afterMs: 0 };
      if (typeof stored === 'string') {
        this.unreadable(entry, stored);
        this.finishDead(entry, 'unreadable', `journal record at byte ${entry.at} of segment ${entry.home} cannot be read: ${stored}`);
        return DONE;
      }
      event = this.seal!.decode(stored);
    }
    entry.attempts++;
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.sink!.deliver(event);
    } catch (err) {
      outcome = { kind: 'retry', reason: `sink failed: ${describeError(err)}` };
    }
    // Closed meanwhile: the event is redelivered at the next start (the stopped scheduler leaves it in place).
    if (this.finished) return { kind: 'retry', afterMs: 0 };
    switch (outcome.kind) {
      case 'accepted':
        this.finish(entry, 'delivered', outcome.responseId !== undefined ? { responseId: outcome.responseId } : NO_DETAIL);
        return DELIVERED;
      case 'discarded':
        this.finish(entry, 'discarded', { reason: outcome.reason });
        return DONE;
      case 'permanent':
        this.finishDead(entry, 'permanent', outcome.reason, outcome.status, outcome.response);
        return DONE;
      case 'retry':
        return this.backoff(entry, outcome);
    }
  }

  private backoff(entry: Entry, outcome: Extract<DeliveryOutcome, { kind: 'retry' }>): Step {
    entry.lastReason = outcome.reason;
    // The sink is failing: this account's backlog may grow for a while, so its events are read back later. Once
    // is enough: events queued behind a waiting account are enqueued without their object (`enqueue`).
    if (entry.attempts === 1) for (const queued of this.scheduler.pending(entry.account)) this.dropFresh(queued);
    // Giving up now rather than after a wait that would end past maxAgeHours anyway.
    const wait = nextRetryIn(this.retry, outcome, entry.attempts, this.clock(), entry.acceptedAt);
    if (wait === null) {
      this.finishDead(entry, 'max-age', this.maxAgeDetail(entry));
      return DONE;
    }
    this.logger.debug(
      { event_id: entry.id, account: entry.account, attempts: entry.attempts, waitMs: wait, reason: outcome.reason },
      'outbox: delivery will be retried',
    );
    return { kind: 'retry', afterMs: wait, failure: { reason: outcome.reason, attempts: entry.attempts } };
  }

  private maxAgeDetail(entry: Entry): string {
    const last = entry.lastReason ? `; last failure: ${entry.lastReason}` : '';
    return `not delivered within maxAgeHours (${this.config.maxAgeHours} h) after ${entry.attempts} attempt(s)${last}`;
  }

  /** The event has its final outcome: an `ackAfter: "delivered"` append waiting for it learns which. */
  private settle(entry: Entry, delivered: boolean, reason: string): void {
    this.ledger.settled(entry);
    const onFinal = entry.onFinal;
    entry.onFinal = null;
    onFinal?.(delivered, reason);
  }

  private finish(entry: Entry, outcome: 'delivered' | 'discarded', detail: Readonly<Record<string, unknown>>): void {
    this.settle(entry, true, outcome);
    // The API has it: its segment no longer needs to keep it, even before the outcome record is on disk.
    this.release(entry);
    // One per event: the fields are not even built when debug is off.
    if (this.logger.isLevelEnabled('debug'))
      this.logger.debug({ event_id: entry.id, account: entry.account, attempts: entry.attempts, outcome }, 'outbox: event delivered');
    this.outcomeBatch.push({ entry, outcome, detail });
    if (!this.outcomeFlushScheduled) {
      this.outcomeFlushScheduled = true;
      setImmediate(() => this.flushOutcomes());
    }
  }

  /**
   * Journals the outcomes of one turn of the event loop as one append: deliveries finish in bursts (a sink batch,
   * a group of HTTP responses), and one append per event would cost a promise chain each for no gain. An outcome
   * that is not on disk yet only means a redelivery after a crash, unless compaction deleted the event's segment
   * first, which stands for the outcome. So the append is held back: it rides on the next fsync that accepted
   * frames start, or goes alone after OUTCOME_HOLD_MS (docs/performance.md §9).
   */
  private flushOutcomes(): void {
    this.outcomeFlushScheduled = false;
    const batch = this.outcomeBatch;
    if (batch.length === 0) return;
    this.outcomeBatch = [];
    this.durably([() => this.writeOutcomes(batch, true)]);
  }

  private finishDead(
    entry: Entry,
    reason: 'permanent' | 'max-age' | 'unreadable',
    detail: string,
    status?: number,
    response?: unknown,
  ): void {
    this.settle(entry, false, `${reason}: ${detail}`);
    this.dropFresh(entry);
    const letter: DeadLetter = {
      id: entry.id ?? `seq ${entry.seq}`,
      account: entry.account,
      reason,
      detail,
      ...(status !== undefined ? { status } : {}),
      ...(response !== undefined ? { response } : {}),
      deadAt: iso(this.clock()),
      acceptedAt: iso(entry.acceptedAt),
      attempts: entry.attempts,
      seq: entry.seq,
    };
    this.logger.warn(
      { event_id: entry.id, account: entry.account, reason, detail, status, attempts: entry.attempts },
      'outbox: event moved to the dead letters',
    );
    // The letter first: a crash between the two writes repeats the letter rather than losing the event.
    this.durably([
      // Its segment keeps the event until the letter is on disk; the letter carries the event as stored, when readable.
      async () => {
        const stored = reason === 'unreadable' ? null : await this.readBack(entry);
        if (stored === null) await this.dead.append([letter]);
        else if (typeof stored === 'string') {
          this.unreadable(entry, stored);
          await this.dead.append([{ ...letter, detail: `${detail}; its journal record cannot be read: ${stored}` }]);
        } else await this.dead.append([{ ...letter, id: entry.id ?? letter.id, event: storedEvent(stored) as OutgoingEvent }]);
        this.release(entry);
      },
      () => this.writeOutcomes([{ entry, outcome: 'dead', detail: { reason, ...(status !== undefined ? { status } : {}) } }]),
    ]);
  }

  private async writeOutcomes(batch: readonly PendingOutcome[], hold = false): Promise<void> {
    const at = iso(this.clock());
    const segment = await this.journal.append(
      batch.map(({ entry, outcome, detail }) => ({
        type: 'outcome' as const,
        seq: entry.seq,
        outcome,
        detail: { id: entry.id ?? '', at, ...detail },
      })),
      // Closing writes what it has at once.
      { holdMs: hold && !this.stopping ? this.outcomeHoldMs : 0 },
    );
    this.ledger.outcomesWritten(
      segment,
      batch.map(({ entry, outcome }): CarriedOutcome => ({ seq: entry.seq, home: entry.home, outcome, id: entry.id ?? '' })),
    );
    this.noteSegment(segment);
  }

  /** Counts and logs a pending event whose journal record cannot be read back (it goes to the dead letters). */
  private unreadable(entry: Entry, reason: string): void {
    this.unreadableEvents++;
    this.logger.error(
      { event_id: entry.id, account: entry.account, seq: entry.seq, segment: entry.home, offset: entry.at, reason },
      'outbox: a pending event cannot be read back from the journal (damaged since start); moved to the dead letters without its body',
    );
  }

  /** The event's stored JSON (media sealed), read back from its journal record, or why it cannot be read. */
  private async readBack(entry: Entry): Promise<Buffer | string> {
    const record = await this.journal.readEvent(entry.home, entry.at, entry.size);
    if (typeof record === 'string') return record;
    if (record.seq !== entry.seq) return `the record there is event sequence ${record.seq}, not ${entry.seq}`;
    entry.id ??= record.id;
    return record.payload;
  }

  /**
   * The event needs no keeping any more (delivered, discarded, or its dead letter is on disk): its segment may be
   * deleted once nothing else in it is pending. This does not wait for the outcome record, so delivered events
   * free their space even on a full disk, where no outcome can be written (issue #6: nothing acknowledged is
   * dropped, and the outbox recovers by itself once deliveries resume).
   */
  private release(entry: Entry): void {
    if (this.ledger.release(entry) && entry.home !== this.journal.activeSegment) this.scheduleCompaction();
  }

  /**
   * Runs write steps in order; a failed step (a full disk) is tried again later from where it stopped. An outcome
   * not on disk yet means at most a redelivery after a crash, never a loss.
   */
  private durably(steps: Array<() => Promise<void>>): void {
    const run = (async () => {
      while (steps.length > 0) {
        await steps[0]!();
        steps.shift();
      }
    })();
    const tracked: Promise<void> = run
      .catch((err) => {
        if (this.stopping) {
          this.logger.warn({ err: describeError(err) }, 'outbox: outcome not recorded before close; redelivered at next start');
          return;
        }
        if (isNoSpace(err)) {
          this.capacity.diskIsFull(err);
        } else {
          this.logger.error({ err: describeError(err) }, 'outbox: outcome write failed; will retry');
        }
        this.deferred.push(steps);
        this.armWriteRetry();
      })
      .finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  private armWriteRetry(): void {
    if (this.retryTimer || this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushDeferred();
    }, this.writeRetryMs);
  }

  private flushDeferred(): void {
    const jobs = this.deferred;
    this.deferred = [];
    for (const steps of jobs) this.durably(steps);
  }

  // ---- compaction ----------------------------------------------------------------------------------------------

  /** A rotation may have left a finished segment behind. */
  private noteSegment(segment: number): void {
    if (segment === this.lastSegment) return;
    this.lastSegment = segment;
    this.scheduleCompaction();
  }

  /**
   * Full while the segment being written holds nothing pending: only compaction can free space, and it never
   * deletes the active segment, so a new one is started and the old one compacted (else a small `maxBytes` would
   * refuse frames forever once everything was delivered).
   */
  private releaseActiveSegment(): void {
    if (this.stopping || this.rotating || this.capacity.rotatedWhileFull || this.ledger.pendingIn(this.journal.activeSegment) > 0) return;
    this.capacity.rotatedWhileFull = true;
    this.rotating = this.journal
      .rotate()
      .then(() => this.scheduleCompaction())
      .catch((err: unknown) => this.logger.warn({ err: describeError(err) }, 'outbox: could not start a new journal segment to free space'))
      .finally(() => {
        this.rotating = null;
      });
  }

  private scheduleCompaction(): void {
    if (this.finished) return;
    if (this.compacting) {
      this.compactAgain = true;
      return;
    }
    this.compacting = this.compact()
      .catch((err) => {
        this.logger.error({ err: describeError(err), retryInMs: this.writeRetryMs }, 'outbox compaction failed; retried later');
        // Nothing else may come to trigger it (a full disk refuses every frame): try again on a timer.
        if (!this.compactionRetry && !this.stopping) {
          this.compactionRetry = setTimeout(() => {
            this.compactionRetry = null;
            this.scheduleCompaction();
          }, this.writeRetryMs);
          this.compactionRetry.unref();
        }
      })
      .finally(() => {
        this.compacting = null;
        if (this.compactAgain && !this.finished) {
          this.compactAgain = false;
          this.scheduleCompaction();
        }
      });
  }

  private async compact(): Promise<void> {
    const plan = this.ledger.compactionPlan(this.journal.segments(), this.journal.activeSegment);
    if (!plan) return;
    await this.deleteSegments(plan.free);
    if (plan.carry.length > 0) {
      const segment = await this.journal.append(
        plan.carry.map((c) => ({ type: 'outcome' as const, seq: c.seq, outcome: c.outcome, detail: { id: c.id, carried: true } })),
      );
      this.ledger.outcomesWritten(segment, plan.carry);
    }
    await this.deleteSegments(plan.rest);
    this.logger.debug({ deleted: [...plan.free, ...plan.rest], bytes: this.journal.bytes }, 'outbox: compacted');
  }

  private async deleteSegments(segments: readonly number[]): Promise<void> {
    for (const n of segments) {
      try {
        await this.journal.deleteSegment(n);
      } finally {
        if (!this.journal.segments().includes(n)) this.ledger.forget(n);
      }
    }
    if (segments.length > 0) this.capacity.freed();
  }

  // ---- operator views and actions -------------------------------------------------------------------------

  status(): OutboxStatus {
    const oldest = this.live.values().next();
    const now = this.clock();
    return {
      depth: this.live.size,
      oldestAgeSeconds: oldest.done ? 0 : Math.max(0, (now - oldest.value.acceptedAt) / 1000),
      bytes: this.journal.bytes,
      deadLetters: this.dead.count,
      state: this.state(),
      inFlight: this.scheduler.running,
      damage: {
        ...this.journal.damageReport(),
        duplicateEvents: this.ledger.duplicates.length,
        duplicates: this.ledger.duplicates,
        unreadableEvents: this.unreadableEvents,
      },
    };
  }

  /** Calls `listener` with the seconds each journal batch's write + fdatasync took (`/metrics`). */
  onJournalRound(listener: (seconds: number) => void): void {
    this.journal.onRound(listener);
  }

  /** Journal write counters: `syncs` against `records` shows how well group commit batches. */
  journalStats(): JournalStats {
    return this.journal.stats();
  }

  private state(): OutboxState {
    if (this.readOnly) return 'read-only';
    if (this.stopping) return 'closed';
    if (this.capacity.full) return 'full';
    return 'running';
  }

  /** Pending events in journal order, or (`dead: true`) the dead letters in file order. */
  list(options: { dead: true; limit?: number }): Promise<StoredDeadLetter[]>;
  list(options?: { dead?: false; limit?: number }): Promise<PendingEvent[]>;
  async list(options: { dead?: boolean; limit?: number } = {}): Promise<PendingEvent[] | StoredDeadLetter[]> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (options.dead) return (await this.dead.readAll()).slice(0, limit);
    const out: PendingEvent[] = [];
    for (const e of this.live.values()) {
      if (out.length >= limit) break;
      const retryAt = this.scheduler.retryAt(e);
      const stored = await this.readBack(e);
      out.push({
        seq: e.seq,
        id: e.id ?? '',
        account: e.account,
        acceptedAt: iso(e.acceptedAt),
        attempts: e.attempts,
        lastReason: e.lastReason,
        nextAttemptAt: retryAt === null ? null : iso(retryAt),
        event: typeof stored === 'string' ? null : (storedEvent(stored) as OutgoingEvent),
        ...(typeof stored === 'string' ? { unreadable: stored } : {}),
      });
    }
    return out;
  }

  /**
   * Re-queues matching dead letters (after the operator fixed the config): each event id once, with its original
   * event id, behind what its account already has pending; the letters are then removed from the file. Their age
   * counts from the re-queue, so `maxAgeHours` does not send them straight back.
   */
  retryDead(options: RetryDeadOptions = {}): Promise<RetryDeadResult> {
    return this.letters.retry(options);
  }

  /**
   * Removes matching dead letters for good (events the operator gave up on: their bytes count against `maxBytes`)
   * and returns them, so the caller can keep a copy. Unreadable lines go too unless the filter excludes them.
   */
  discardDead(options: DeadLetterFilter): Promise<StoredDeadLetter[]> {
    return this.letters.discard(options);
  }

  // ---- shutdown --------------------------------------------------------------------------------------------------

  /**
   * Stops delivering, lets in-flight deliveries finish for up to `closeGraceMs` (later ones are abandoned and
   * redelivered at the next start), writes what outcomes it can and closes the files. The sink is not closed.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.scheduler.stop();
    for (const fail of [...this.waiters]) fail(new OutboxClosedError('the outbox closed before the events were delivered'));
    if (this.scheduler.running > 0) {
      let timer: NodeJS.Timeout | null = null;
      await Promise.race([
        this.scheduler.whenIdle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.closeGraceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.compactionRetry) clearTimeout(this.compactionRetry);
    this.compactionRetry = null;
    this.flushOutcomes();
    this.flushDeferred();
    // Outcomes appended before close began may still wait for a frame's fsync to carry them.
    this.journal.flushHeld();
    while (this.writes.size > 0 || this.compacting || this.rotating) {
      await Promise.allSettled([...this.writes]);
      await this.rotating;
      await this.compacting;
    }
    this.finished = true;
    await this.letters.idle();
    if (!this.readOnly) this.logger.info({ ...this.journal.stats(), ...this.status() }, 'outbox closed');
    await this.journal.close();
    await this.dead.close();
    await this.lock?.release();
  }
}
