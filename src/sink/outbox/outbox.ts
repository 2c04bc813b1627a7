/**
 * The durable outbox (issue #6). The receiver calls `accept(events)` and ACKs the panel only after the promise
 * resolves (issue #4): by then the events are fdatasynced in the journal. Delivery runs behind it:
 *
 * - per account in order: an account's next event waits for the previous one's final outcome;
 * - accounts in parallel, at most `concurrency` deliveries in flight; an account waiting out a backoff does not
 *   hold a slot;
 * - `retry` outcomes back off exponentially with full jitter, never sooner than the sink's `afterMs`;
 * - `permanent` outcomes and events older than `maxAgeHours` go to `dead-letters.ndjson` with the reason, and an
 *   `outcome: dead` record;
 * - on start every event without a final outcome is delivered again, per account in the original order, with its
 *   original event id.
 *
 * Compaction: a segment that is not the active one and whose events all have final outcomes is deleted. Its
 * outcome records that belong to events of older, still kept segments are first copied to the active segment, so
 * deleting it never brings a finished event back to life.
 */
import { join } from 'node:path';
import type { OutboxConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { retryWait } from '../partner-api/sink.js';
import type { DeliveryOutcome, OutgoingEvent, PartnerEvent, Sink } from '../types.js';
import { DeadLetterStore, type DeadLetter, type StoredDeadLetter } from './dead-letters.js';
import {
  DeliveryFailedError,
  DeliveryTimeoutError,
  isNoSpace,
  OutboxClosedError,
  OutboxCorruptError,
  OutboxFullError,
  OutboxWriteError,
} from './errors.js';
import {
  encodeEventRecord,
  makeDurableDir,
  segmentBytesFor,
  Journal,
  type JournalDamageReport,
  type JournalFileOps,
  type JournalStats,
  type OutcomeKind,
  type ScannedRecord,
} from './journal.js';
import { lockDir, type DirLock } from './lock.js';
import { MEDIA_KEY_FILE, MediaSeal, storedEvent } from './media-seal.js';

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
  /** Backoff base and cap (defaults 500 ms and 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Journal segment rotation size (default 16 MiB). */
  segmentBytes?: number;
  /** How long `close` lets in-flight deliveries finish before abandoning them to the next start (default 5 s). */
  closeGraceMs?: number;
  /** How soon a failed outcome or dead-letter write is tried again (default 5 s). */
  writeRetryMs?: number;
  /** Inspect only (`outbox status|list` next to a running bridge): no lock, no truncation, no writes. */
  readOnly?: boolean;
  /** Open without delivering (`outbox retry` re-queues and leaves delivery to the bridge). Default true. */
  start?: boolean;
  /** File operations of the journal (tests count fsyncs and inject ENOSPC). */
  fileOps?: JournalFileOps;
}

export type OutboxState = 'running' | 'full' | 'read-only' | 'closed';

export interface OutboxStatus {
  /** Events accepted and not yet finally delivered, discarded or dead-lettered. */
  depth: number;
  /** Age of the oldest of them (0 when there are none). */
  oldestAgeSeconds: number;
  /** Journal bytes on disk (what `maxBytes` limits). */
  bytes: number;
  /** Lines in the dead-letter file. */
  deadLetters: number;
  /** `full`: `maxBytes` reached or the disk is full, and `accept` rejects (the receiver NAKs). */
  state: OutboxState;
  /** Deliveries in flight now. */
  inFlight: number;
  /** Damaged journal bytes skipped at start (issue #15): the outbox runs degraded, the events in them are lost. */
  damage: JournalDamageReport;
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
  event: OutgoingEvent;
}

/** An event the mapper did not forward (issue #3's reasons), kept as a dead letter so `outbox list --dead` shows it. */
export interface UnmappedEvent {
  eventId: string;
  account: string;
  /** `unmapped-account`, `unmapped-camera`, `ignored`, `unknown-code`. */
  reason: string;
  message?: string;
  configKey?: string;
  partial?: Partial<PartnerEvent>;
  /** What a later `retryDead` needs to map it again (the receiver decides what). */
  source?: unknown;
  receivedAt?: Date;
}

/** Which dead letters an operator action applies to (all given fields must match; none given: every letter). */
export interface DeadLetterFilter {
  /** Only these event ids. */
  ids?: readonly string[];
  account?: string;
  reason?: string;
}

export interface RetryDeadOptions extends DeadLetterFilter {
  /** Builds the event for a letter that has none (unmapped events), or null to leave it dead. */
  remap?: (letter: StoredDeadLetter) => OutgoingEvent | null;
}

export interface RetryDeadResult {
  /** Event ids appended to the journal again (each once, with its original id). */
  requeued: string[];
  /** Matching letters that could not be re-queued (no event and no `remap` result). */
  skipped: StoredDeadLetter[];
}

interface Entry {
  seq: number;
  id: string;
  account: string;
  acceptedAt: number;
  /** UTF-8 JSON of the OutgoingEvent, parsed at each attempt (keeps 100,000 pending events cheap in memory). */
  payload: Buffer;
  /**
   * The event object itself for its first attempt when it was accepted by this process (saves a JSON.parse on the
   * hot path); dropped after that attempt so a long backlog stays as compact buffers.
   */
  fresh: OutgoingEvent | null;
  /** Journal segment of the event record. */
  home: number;
  attempts: number;
  lastReason: string | null;
  nextAttemptAt: number | null;
  /** Set while an `ackAfter: "delivered"` accept waits for this event. */
  onFinal: ((delivered: boolean, reason: string) => void) | null;
}

interface AccountQueue {
  account: string;
  items: (Entry | undefined)[];
  head: number;
  /** idle: nothing to do; ready: in the ready list; running: a delivery in flight; waiting: a backoff timer. */
  state: 'idle' | 'ready' | 'running' | 'waiting';
  timer: NodeJS.Timeout | null;
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
  detail: Record<string, unknown>;
}

/** An outcome record stored in a later segment than its event's. */
interface CarriedOutcome {
  seq: number;
  home: number;
  outcome: OutcomeKind;
  id: string;
}

interface SegmentInfo {
  /** Events recorded in this segment without a durable final outcome. */
  pending: number;
  /** Outcomes in this segment for events of older segments: copied forward before this segment is deleted. */
  carried: CarriedOutcome[];
}

/** The bookkeeping of one segment, created on first use. */
function segmentInfoIn(segments: Map<number, SegmentInfo>, n: number): SegmentInfo {
  let info = segments.get(n);
  if (!info) {
    info = { pending: 0, carried: [] };
    segments.set(n, info);
  }
  return info;
}

/** What a journal scan rebuilds. */
class Recovery {
  readonly live = new Map<number, Entry>();
  readonly segments = new Map<number, SegmentInfo>();
  private readonly homes = new Map<number, number>();
  maxSeq = 0;

  segment(n: number): SegmentInfo {
    return segmentInfoIn(this.segments, n);
  }

  add(record: ScannedRecord, segment: number, file: string, offset: number): void {
    const info = this.segment(segment);
    if (record.seq > this.maxSeq) this.maxSeq = record.seq;
    if (record.type === 'event') {
      // Sequence numbers are handed out once per process and continue from the highest on disk.
      if (this.homes.has(record.seq)) throw new OutboxCorruptError(file, offset, `event sequence ${record.seq} appears twice`);
      this.homes.set(record.seq, segment);
      info.pending++;
      this.live.set(record.seq, {
        seq: record.seq,
        id: record.id,
        account: record.account,
        acceptedAt: record.acceptedAt,
        // A copy: the scan's buffer is the whole segment file.
        payload: Buffer.from(record.payload),
        fresh: null,
        home: segment,
        attempts: 0,
        lastReason: null,
        nextAttemptAt: null,
        onFinal: null,
      });
      return;
    }
    const home = this.homes.get(record.seq);
    // No event record: its segment was compacted away after this outcome was copied forward.
    if (home === undefined) return;
    const entry = this.live.get(record.seq);
    if (entry) {
      this.live.delete(record.seq);
      this.segment(home).pending--;
    }
    if (home !== segment) info.carried.push({ seq: record.seq, home, outcome: record.outcome, id: entry?.id ?? '' });
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

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
    const recovery = new Recovery();
    const journal = await Journal.open(config.dir, {
      logger: deps.logger,
      readOnly,
      segmentBytes: deps.segmentBytes ?? segmentBytesFor(config.maxBytes),
      ...(deps.fileOps ? { fileOps: deps.fileOps } : {}),
      onRecord: (record, segment, file, offset) => recovery.add(record, segment, file, offset),
    });
    const dead = await DeadLetterStore.open(config.dir, readOnly, deps.logger);
    // Camera credentials are stored encrypted; a read-only view shows them sealed and needs no key.
    const seal = readOnly ? null : await MediaSeal.open(config.keyFile ?? join(config.dir, MEDIA_KEY_FILE), deps.logger);
    const outbox = new Outbox(config, deps, journal, dead, lock, recovery, readOnly, seal);
    deps.logger.info(
      {
        dir: config.dir,
        pending: recovery.live.size,
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

export class Outbox {
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly closeGraceMs: number;
  private readonly writeRetryMs: number;
  private readonly maxAgeMs: number;
  private sink: Sink | null;

  private readonly live: Map<number, Entry>;
  private readonly segments: Map<number, SegmentInfo>;
  private nextSeq: number;
  private lastSegment: number;

  private readonly queues = new Map<string, AccountQueue>();
  /** Accounts whose head event may be attempted now, in turn order (an array with a moving head). */
  private ready: (AccountQueue | undefined)[] = [];
  private readyHead = 0;
  private running = 0;
  private started = false;
  private readonly inFlight = new Set<Promise<void>>();

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
  /** Operator actions on the dead letters (retry, discard), run one after another; `close` waits for them. */
  private letterActions: Promise<unknown> = Promise.resolve();

  private diskFull = false;
  private rotating: Promise<void> | null = null;
  /** Set by a refusal's rotation, cleared by the next accepted frame: one new segment per full episode. */
  private rotatedWhileFull = false;
  private compactionRetry: NodeJS.Timeout | null = null;
  /** Journal bytes when an accept was last refused for `maxBytes` (null: not refused since the last success). */
  private refusedAtBytes: number | null = null;
  private fullLogged = false;
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
    recovery: Recovery,
    private readonly readOnly: boolean,
    /** Seals media sources for the journal; null when read-only (nothing is written or delivered then). */
    private readonly seal: MediaSeal | null,
  ) {
    this.logger = deps.logger;
    const now = deps.now;
    this.clock = now ? () => now().getTime() : Date.now;
    this.random = deps.random ?? Math.random;
    this.concurrency = Math.max(1, deps.concurrency ?? 8);
    this.baseDelayMs = deps.baseDelayMs ?? 500;
    this.maxDelayMs = deps.maxDelayMs ?? 60_000;
    this.closeGraceMs = deps.closeGraceMs ?? 5_000;
    this.writeRetryMs = deps.writeRetryMs ?? 5_000;
    this.maxAgeMs = config.maxAgeHours * 3_600_000;
    this.sink = deps.sink ?? null;
    this.live = recovery.live;
    this.segments = recovery.segments;
    this.nextSeq = recovery.maxSeq + 1;
    this.lastSegment = journal.activeSegment;
    // Reloaded events go back in their original order, per account.
    for (const entry of this.live.values()) this.enqueue(entry);
    if (!readOnly) this.scheduleCompaction();
  }

  /** Starts (or resumes) delivery; `openOutbox` calls it unless `start: false`. */
  start(sink?: Sink): void {
    if (this.readOnly || this.stopping) return;
    if (sink) this.sink = sink;
    if (!this.sink) throw new TypeError('Outbox.start: no sink');
    this.started = true;
    this.pump();
  }

  // ---- accepting -------------------------------------------------------------------------------------------------

  /**
   * Journals the events (fdatasync, group-committed) and schedules their delivery. Resolves when they are durable;
   * with `ackAfter: "delivered"` only once the sink accepted every one of them (a `DeliveryTimeoutError` after
   * `deliveredTimeoutSeconds`, a `DeliveryFailedError` if one is dead-lettered; either way nothing is dropped).
   * Rejects with `OutboxFullError` when `maxBytes` is reached or the disk is full: the receiver NAKs.
   */
  async accept(events: readonly OutgoingEvent[]): Promise<void> {
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
  async acceptUnmapped(input: UnmappedEvent | readonly UnmappedEvent[]): Promise<void> {
    this.assertWritable();
    const list: readonly UnmappedEvent[] = Array.isArray(input) ? input : [input as UnmappedEvent];
    if (list.length === 0) return;
    // Dead letters share the disk budget (issue #6: the directory does not grow without bound).
    if (this.usedBytes >= this.config.maxBytes) throw this.maxBytesReached();
    const deadAt = iso(this.clock());
    const letters = list.map(
      (u): DeadLetter => ({
        id: u.eventId,
        account: u.account,
        reason: u.reason,
        ...(u.message !== undefined ? { detail: u.message } : {}),
        ...(u.configKey !== undefined ? { configKey: u.configKey } : {}),
        deadAt,
        acceptedAt: u.receivedAt ? u.receivedAt.toISOString() : deadAt,
        ...(u.partial !== undefined ? { partial: u.partial } : {}),
        ...(u.source !== undefined ? { source: u.source } : {}),
      }),
    );
    try {
      await this.dead.append(letters);
    } catch (err) {
      throw this.writeFailed(err);
    }
  }

  private assertWritable(): void {
    if (this.readOnly) throw new OutboxClosedError('the outbox is open read-only');
    if (this.stopping) throw new OutboxClosedError();
  }

  /** A new entry and its journal record; the entry's payload is a view of the record's bytes (encoded once). */
  private newEntry(event: OutgoingEvent, at: number): NewEntry {
    const seq = this.nextSeq++;
    const id = event.body.event_id;
    const { frame, payload } = encodeEventRecord(seq, at, event.account, id, this.seal!.encode(event));
    const entry: Entry = {
      seq,
      id,
      account: event.account,
      acceptedAt: at,
      payload,
      fresh: event,
      home: 0,
      attempts: 0,
      lastReason: null,
      nextAttemptAt: null,
      onFinal: null,
    };
    return { entry, frame };
  }

  /** Appends event records and, once durable, makes the events live and schedules them. */
  private async persist(created: readonly NewEntry[]): Promise<void> {
    let size = 0;
    for (const c of created) size += c.frame.length;
    if (this.usedBytes + size > this.config.maxBytes) {
      this.refusedAtBytes = this.journal.bytes;
      this.releaseActiveSegment();
      throw this.maxBytesReached();
    }
    let segment: number;
    try {
      segment = await this.journal.appendFrames(created.map((c) => c.frame));
    } catch (err) {
      throw this.writeFailed(err);
    }
    this.diskFull = false;
    this.refusedAtBytes = null;
    this.rotatedWhileFull = false;
    if (this.fullLogged) {
      this.fullLogged = false;
      this.logger.info({ dir: this.config.dir, bytes: this.journal.bytes }, 'outbox: accepting again');
    }
    this.segmentInfo(segment).pending += created.length;
    for (const { entry: e } of created) {
      e.home = segment;
      this.live.set(e.seq, e);
      this.enqueue(e);
    }
    this.noteSegment(segment);
    this.pump();
  }

  /** Maps a failed write to what the receiver needs: `OutboxFullError` for a full disk. */
  private writeFailed(err: unknown): Error {
    if (isNoSpace(err)) {
      this.diskFull = true;
      this.noteFull('disk-full');
      // Delivered segments may be deletable: that is the only way this outbox can give space back.
      this.scheduleCompaction();
      return new OutboxFullError('disk-full', `outbox disk is full (${describeError(err)})`);
    }
    if (err instanceof OutboxClosedError || err instanceof OutboxWriteError) return err;
    this.logger.error({ dir: this.config.dir, err: describeError(err) }, 'outbox write failed');
    return new OutboxWriteError(`outbox write failed: ${describeError(err)}`);
  }

  /** Bytes that count against `maxBytes`: the journal and the dead-letter file. */
  private get usedBytes(): number {
    return this.journal.bytes + this.dead.bytes;
  }

  private maxBytesReached(): OutboxFullError {
    this.noteFull('max-bytes');
    return new OutboxFullError('max-bytes', `outbox is full: ${this.journal.bytes} journal bytes + ${this.dead.bytes} dead-letter bytes, maxBytes ${this.config.maxBytes}`);
  }

  /** Logs the transition to `full` once (every NAKed frame would otherwise log it again). */
  private noteFull(kind: 'max-bytes' | 'disk-full'): void {
    if (this.fullLogged) return;
    this.fullLogged = true;
    this.logger.error(
      { dir: this.config.dir, kind, bytes: this.journal.bytes, maxBytes: this.config.maxBytes, depth: this.live.size },
      'outbox full: new frames are NAKed until space is available',
    );
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
          if (!delivered) return fail(new DeliveryFailedError(e.id, reason));
          open.delete(e);
          if (open.size === 0) {
            cleanup();
            resolve();
          }
        };
      }
      timer = setTimeout(() => fail(new DeliveryTimeoutError([...open].map((e) => e.id), timeoutMs)), timeoutMs);
    });
    // The timeout can fire before `accept` awaits the promise (a slow fsync): never an unhandled rejection.
    promise.catch(() => undefined);
    return { promise, cancel: cleanup };
  }

  // ---- delivery ------------------------------------------------------------------------------------------------

  private enqueue(entry: Entry): void {
    let q = this.queues.get(entry.account);
    if (!q) {
      q = { account: entry.account, items: [], head: 0, state: 'idle', timer: null };
      this.queues.set(entry.account, q);
    }
    if (q.state === 'waiting') entry.fresh = null;
    q.items.push(entry);
    if (q.state === 'idle') this.makeReady(q);
  }

  private makeReady(q: AccountQueue): void {
    q.state = 'ready';
    this.ready.push(q);
  }

  private pump(): void {
    if (!this.started || this.stopping) return;
    while (this.running < this.concurrency && this.readyHead < this.ready.length) {
      const q = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined;
      if (this.readyHead === this.ready.length) {
        this.ready = [];
        this.readyHead = 0;
      }
      q.state = 'running';
      this.running++;
      const done = (): void => {
        this.running--;
        this.inFlight.delete(task);
        this.pump();
      };
      const task: Promise<void> = this.attempt(q).then(done, (err) => {
        // attempt() handles the sink's failures; this is a bug guard that keeps the account moving.
        try {
          this.logger.error({ account: q.account, err: describeError(err) }, 'outbox delivery worker failed');
          if (q.state === 'running') this.backoff(q, q.items[q.head]!, { kind: 'retry', reason: describeError(err) });
        } finally {
          done();
        }
      });
      this.inFlight.add(task);
    }
  }

  /** One delivery attempt of the account's head event. */
  private async attempt(q: AccountQueue): Promise<void> {
    const entry = q.items[q.head]!;
    if (this.clock() - entry.acceptedAt >= this.maxAgeMs) {
      this.finishDead(q, entry, 'max-age', this.maxAgeDetail(entry));
      return;
    }
    const event = entry.fresh ?? this.seal!.decode(entry.payload);
    entry.fresh = null;
    entry.attempts++;
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.sink!.deliver(event);
    } catch (err) {
      outcome = { kind: 'retry', reason: `sink failed: ${describeError(err)}` };
    }
    if (this.finished) return; // closed meanwhile: the event is redelivered at the next start
    switch (outcome.kind) {
      case 'accepted':
        this.finish(q, entry, 'delivered', outcome.responseId !== undefined ? { responseId: outcome.responseId } : {});
        return;
      case 'discarded':
        this.finish(q, entry, 'discarded', { reason: outcome.reason });
        return;
      case 'permanent':
        this.finishDead(q, entry, 'permanent', outcome.reason, outcome.status, outcome.response);
        return;
      case 'retry':
        this.backoff(q, entry, outcome);
        return;
    }
  }

  private backoff(q: AccountQueue, entry: Entry, outcome: Extract<DeliveryOutcome, { kind: 'retry' }>): void {
    entry.lastReason = outcome.reason;
    // The sink is failing: this account's backlog may grow for a while, so it keeps only the compact buffers. Once
    // is enough: events queued behind a waiting account are enqueued without their object (`enqueue`).
    if (entry.attempts === 1) {
      for (let i = q.head; i < q.items.length; i++) {
        const queued = q.items[i];
        if (queued) queued.fresh = null;
      }
    }
    const wait = retryWait(outcome, Math.max(0, entry.attempts - 1), this.baseDelayMs, this.maxDelayMs, this.random);
    const now = this.clock();
    // Giving up now rather than after a wait that would end past maxAgeHours anyway.
    if (now + wait - entry.acceptedAt >= this.maxAgeMs) {
      this.finishDead(q, entry, 'max-age', this.maxAgeDetail(entry));
      return;
    }
    if (this.stopping) {
      q.state = 'idle';
      return;
    }
    entry.nextAttemptAt = now + wait;
    q.state = 'waiting';
    q.timer = setTimeout(() => {
      q.timer = null;
      entry.nextAttemptAt = null;
      this.makeReady(q);
      this.pump();
    }, wait);
    this.logger.debug(
      { id: entry.id, account: entry.account, attempts: entry.attempts, waitMs: wait, reason: outcome.reason },
      'outbox: delivery will be retried',
    );
  }

  private maxAgeDetail(entry: Entry): string {
    const last = entry.lastReason ? `; last failure: ${entry.lastReason}` : '';
    return `not delivered within maxAgeHours (${this.config.maxAgeHours} h) after ${entry.attempts} attempt(s)${last}`;
  }

  /** The head event is done: the account moves on, and the outcome is journaled behind it. */
  private settle(q: AccountQueue, entry: Entry, delivered: boolean, reason: string): void {
    this.live.delete(entry.seq);
    q.items[q.head++] = undefined;
    if (q.head === q.items.length) {
      q.items = [];
      q.head = 0;
      q.state = 'idle';
      this.queues.delete(q.account);
    } else {
      if (q.head >= 1024 && q.head * 2 >= q.items.length) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
      // To the back of the turn order: one busy account does not starve the others.
      if (this.stopping) q.state = 'idle';
      else this.makeReady(q);
    }
    const onFinal = entry.onFinal;
    entry.onFinal = null;
    onFinal?.(delivered, reason);
  }

  private finish(q: AccountQueue, entry: Entry, outcome: 'delivered' | 'discarded', detail: Record<string, unknown>): void {
    this.settle(q, entry, true, outcome);
    // The API has it: its segment no longer needs to keep it, even before the outcome record is on disk.
    this.release(entry);
    this.logger.debug({ id: entry.id, account: entry.account, attempts: entry.attempts, outcome }, 'outbox: event delivered');
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
   * first, which stands for the outcome.
   */
  private flushOutcomes(): void {
    this.outcomeFlushScheduled = false;
    const batch = this.outcomeBatch;
    if (batch.length === 0) return;
    this.outcomeBatch = [];
    this.durably([() => this.writeOutcomes(batch)]);
  }

  private finishDead(
    q: AccountQueue,
    entry: Entry,
    reason: 'permanent' | 'max-age',
    detail: string,
    status?: number,
    response?: unknown,
  ): void {
    this.settle(q, entry, false, `${reason}: ${detail}`);
    const letter: DeadLetter = {
      id: entry.id,
      account: entry.account,
      reason,
      detail,
      ...(status !== undefined ? { status } : {}),
      ...(response !== undefined ? { response } : {}),
      deadAt: iso(this.clock()),
      acceptedAt: iso(entry.acceptedAt),
      attempts: entry.attempts,
      seq: entry.seq,
      event: storedEvent(entry.payload) as OutgoingEvent,
    };
    this.logger.warn(
      { id: entry.id, account: entry.account, reason, detail, status, attempts: entry.attempts },
      'outbox: event moved to the dead letters',
    );
    // The letter first: a crash between the two writes repeats the letter rather than losing the event.
    this.durably([
      // Its segment keeps the event until the letter is on disk.
      () => this.dead.append([letter]).then(() => this.release(entry)),
      () => this.writeOutcomes([{ entry, outcome: 'dead', detail: { reason, ...(status !== undefined ? { status } : {}) } }]),
    ]);
  }

  private async writeOutcomes(batch: readonly PendingOutcome[]): Promise<void> {
    const at = iso(this.clock());
    const segment = await this.journal.append(
      batch.map(({ entry, outcome, detail }) => ({ type: 'outcome' as const, seq: entry.seq, outcome, detail: { id: entry.id, at, ...detail } })),
    );
    for (const { entry, outcome } of batch) {
      if (segment !== entry.home) this.segmentInfo(segment).carried.push({ seq: entry.seq, home: entry.home, outcome, id: entry.id });
    }
    this.noteSegment(segment);
  }

  /**
   * The event needs no keeping any more (delivered, discarded, or its dead letter is on disk): its segment may be
   * deleted once nothing else in it is pending. This does not wait for the outcome record, so delivered events
   * free their space even on a full disk, where no outcome can be written (issue #6: nothing acknowledged is
   * dropped, and the outbox recovers by itself once deliveries resume).
   */
  private release(entry: Entry): void {
    const home = this.segments.get(entry.home);
    if (!home) return;
    home.pending--;
    if (home.pending === 0 && entry.home !== this.journal.activeSegment) this.scheduleCompaction();
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
          this.diskFull = true;
          this.noteFull('disk-full');
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

  private segmentInfo(segment: number): SegmentInfo {
    return segmentInfoIn(this.segments, segment);
  }

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
    if (this.stopping || this.rotating || this.rotatedWhileFull || (this.segments.get(this.journal.activeSegment)?.pending ?? 0) > 0) return;
    this.rotatedWhileFull = true;
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
    const active = this.journal.activeSegment;
    const doomed = this.journal.segments().filter((n) => n !== active && (this.segments.get(n)?.pending ?? 0) === 0);
    if (doomed.length === 0) return;
    const gone = new Set(doomed);
    // Outcomes of events in kept segments must be copied forward before their segment goes. Segments go oldest
    // first (an outcome always lies after its event): those before the first one that needs a copy go at once, so
    // a full disk (where the copy cannot be written) still frees them, and no outcome is lost before its event.
    const carryOf = (n: number) => (this.segments.get(n)?.carried ?? []).filter((c) => !gone.has(c.home) && this.segments.has(c.home));
    const firstCarrying = doomed.findIndex((n) => carryOf(n).length > 0);
    const free = firstCarrying < 0 ? doomed : doomed.slice(0, firstCarrying);
    await this.deleteSegments(free);
    if (firstCarrying >= 0) {
      const rest = doomed.slice(firstCarrying);
      const moved = [...new Map(rest.flatMap(carryOf).map((c) => [c.seq, c] as const)).values()];
      if (moved.length > 0) {
        const segment = await this.journal.append(
          moved.map((c) => ({ type: 'outcome' as const, seq: c.seq, outcome: c.outcome, detail: { id: c.id, carried: true } })),
        );
        this.segmentInfo(segment).carried.push(...moved);
      }
      await this.deleteSegments(rest);
    }
    this.logger.debug({ deleted: doomed, bytes: this.journal.bytes }, 'outbox: compacted');
  }

  private async deleteSegments(segments: readonly number[]): Promise<void> {
    for (const n of segments) {
      try {
        await this.journal.deleteSegment(n);
      } finally {
        if (!this.journal.segments().includes(n)) this.segments.delete(n);
      }
    }
    // Space was freed: the next frame may fit again (`accept` decides).
    if (segments.length > 0 && this.refusedAtBytes !== null && this.journal.bytes < this.refusedAtBytes) this.refusedAtBytes = null;
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
      inFlight: this.running,
      damage: this.journal.damageReport(),
    };
  }

  /** Journal write counters: `syncs` against `records` shows how well group commit batches. */
  journalStats(): JournalStats {
    return this.journal.stats();
  }

  private state(): OutboxState {
    if (this.readOnly) return 'read-only';
    if (this.stopping) return 'closed';
    if (this.diskFull || this.refusedAtBytes !== null || this.usedBytes >= this.config.maxBytes) return 'full';
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
      out.push({
        seq: e.seq,
        id: e.id,
        account: e.account,
        acceptedAt: iso(e.acceptedAt),
        attempts: e.attempts,
        lastReason: e.lastReason,
        nextAttemptAt: e.nextAttemptAt === null ? null : iso(e.nextAttemptAt),
        event: storedEvent(e.payload) as OutgoingEvent,
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
    return this.oneAtATime(() => this.requeue(options));
  }

  /**
   * Removes matching dead letters for good (events the operator gave up on: their bytes count against `maxBytes`)
   * and returns them, so the caller can keep a copy. Unreadable lines go too unless the filter excludes them.
   */
  discardDead(options: DeadLetterFilter): Promise<StoredDeadLetter[]> {
    return this.oneAtATime(async () => {
      this.assertWritable();
      const letters = await this.matchingLetters(options, true);
      if (letters.length > 0) {
        await this.dead.remove(new Set(letters.map((l) => l.line)));
        this.logger.warn({ discarded: letters.length, ids: letters.map((l) => l.id) }, 'outbox: dead letters discarded by the operator');
      }
      return letters;
    });
  }

  /** Runs an operator action on the dead letters after the ones before it (they read and rewrite the same file). */
  private oneAtATime<T>(action: () => Promise<T>): Promise<T> {
    const run = this.letterActions.then(action);
    this.letterActions = run.catch(() => undefined);
    return run;
  }

  /** Letters the filter selects; lines that could not be read back only when `withUnreadable` (they hold no event). */
  private async matchingLetters(options: DeadLetterFilter, withUnreadable: boolean): Promise<StoredDeadLetter[]> {
    const ids = options.ids ? new Set(options.ids) : null;
    const account = options.account?.toUpperCase();
    return (await this.dead.readAll()).filter((l) => {
      if (l.reason === 'unreadable-line' && !withUnreadable) return false;
      if (options.reason !== undefined && l.reason !== options.reason) return false;
      if (ids && !ids.has(l.id)) return false;
      return account === undefined || l.account.toUpperCase() === account;
    });
  }

  private async requeue(options: RetryDeadOptions): Promise<RetryDeadResult> {
    this.assertWritable();
    const letters = await this.matchingLetters(options, false);
    const chosen = new Map<string, { event: OutgoingEvent; lines: number[] }>();
    const skipped: StoredDeadLetter[] = [];
    for (const letter of letters) {
      const known = chosen.get(letter.id);
      if (known) {
        known.lines.push(letter.line);
        continue;
      }
      // A letter that can be mapped again (unmapped events keep their source) takes the fixed configuration.
      const event = options.remap?.(letter) ?? letter.event ?? null;
      if (!event) {
        skipped.push(letter);
        continue;
      }
      chosen.set(letter.id, { event: { ...event, body: { ...event.body, event_id: letter.id } }, lines: [letter.line] });
    }
    if (chosen.size > 0) {
      const at = this.clock();
      await this.persist([...chosen.values()].map(({ event }) => this.newEntry(event, at)));
      // Only now: a crash before this line leaves the letters in place, so nothing is lost (at most re-queued twice).
      await this.dead.remove(new Set([...chosen.values()].flatMap((c) => c.lines)));
      this.logger.info({ requeued: chosen.size, skipped: skipped.length }, 'outbox: dead letters re-queued');
    }
    return { requeued: [...chosen.keys()], skipped };
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
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = null;
      if (q.state !== 'running') q.state = 'idle';
    }
    this.ready = [];
    this.readyHead = 0;
    for (const fail of [...this.waiters]) fail(new OutboxClosedError('the outbox closed before the events were delivered'));
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | null = null;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
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
    while (this.writes.size > 0 || this.compacting || this.rotating) {
      await Promise.allSettled([...this.writes]);
      await this.rotating;
      await this.compacting;
    }
    this.finished = true;
    await this.letterActions;
    if (!this.readOnly) this.logger.info({ ...this.journal.stats(), ...this.status() }, 'outbox closed');
    await this.journal.close();
    await this.dead.close();
    await this.lock?.release();
  }
}
