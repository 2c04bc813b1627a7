/**
 * Panel supervision (issue #7, docs/dc09.md §13): every authenticated frame of a
 * supervised account (NULL link tests, periodic tests, events) restarts that account's window of
 * `intervalSeconds + graceSeconds`. When a window passes without a frame the account is in communication failure:
 * exactly one synthetic SIA `YC` (Communications fail → `trouble`/`active`) is emitted through the normal pipeline,
 * and the first frame afterwards emits one `YK` (Communications restoral → `trouble`/`inactive`). Nothing repeats
 * while the account stays silent.
 *
 * Rules:
 * - Supervised = listed in `accounts` AND with `supervision` set on the account or in `receiver.supervision`.
 *   Unknown accounts (accepted through `receiver.unknownAccounts: "accept"`) are never supervised.
 * - Start-up grace: no account is declared failed before one full window (interval + grace) has passed since the
 *   supervisor started (or since the account became supervised through a reload). A panel cannot be blamed for not
 *   reporting while the bridge was not listening, and its next periodic report may be up to one interval away.
 * - State: last seen (time, peer, transport) and the failure that was reported but not yet restored are kept in a
 *   JSON file, written atomically (temp file + rename), at most once per `saveDebounceMs` and on `stop()`.
 *   A failure is only recorded once the durable log took its event; one that was declared but not accepted before a
 *   crash is declared again after the start-up grace (same deterministic event id, see below).
 * - Event ids: the synthetic frame's `data` is `supervision|fail|<last seen ISO>` (or `…|restore|…`) and its
 *   timestamp is the last-seen time (restore: the time of the frame that ended the failure), so the mapper's
 *   deterministic id of one failure is the same across retries and restarts. For these events the payload's
 *   `panelTime` is therefore the last-seen time; `event_time` is when the failure was declared (or ended).
 * - An event the durable log refuses (outbox full, …) is retried every `retryMs`. If the panel comes back before the
 *   failure event was accepted, the failure is dropped and no restore is sent.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BridgeConfig, SupervisionConfig } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log.js';
import type { SourceFrame } from '../../mapper/frame.js';
import type { SiaEvent } from '../../protocols/events.js';
import { lookupSiaCode } from '../../protocols/sia/codes.js';
import type { BridgeMetrics } from './metrics.js';

export type SupervisionTransport = 'tcp' | 'udp';

/** Timer functions (injectable for tests). Handles are opaque. */
export interface SupervisorTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SupervisorOptions {
  /** The current configuration (read again on `reconfigure()`). */
  config: () => Pick<BridgeConfig, 'accounts' | 'receiver'>;
  /** JSON state file (see `defaultSupervisionStatePath`). */
  statePath: string;
  /** Maps and accepts a synthetic frame (the bridge passes `pipeline.acceptSource`); true once accepted. */
  emit: (source: SourceFrame) => Promise<boolean>;
  logger: Logger;
  metrics: BridgeMetrics;
  now?: () => Date;
  timers?: SupervisorTimers;
  /** Delay before offering a refused event again. Default 30 s. */
  retryMs?: number;
  /** At most one state write per this many ms. Default 1 s. */
  saveDebounceMs?: number;
}

/** Token of the synthetic frames (goes into the event id and the payload's `token`). */
export const SUPERVISION_TOKEN = 'SUPERVISION';

const STATE_VERSION = 1;
const MAX_TIMER_MS = 2_147_483_647;

/** A failure whose event was accepted and that has not been restored yet. */
interface ReportedFailure {
  /** Last frame before the failure (ms), null when the account was never seen. */
  lastSeen: number | null;
  declaredAt: number;
}

interface Arrival {
  at: number;
  peer: string;
  transport: SupervisionTransport;
}

interface FailJob {
  /** Set when the panel came back (or supervision ended) before the event was accepted. */
  cancelled: boolean;
  /** The frame that ended the failure, for the restore when the event is accepted after all. */
  returned: Arrival | null;
}

interface Track {
  readonly account: string;
  settings: SupervisionConfig | null;
  lastSeen: number | null;
  peer: string | null;
  transport: SupervisionTransport | null;
  /** Start of the current supervision (start-up or the reload that added the account). */
  supervisedSince: number;
  /** Seen by `activity()` since this process started (takes precedence over the state file). */
  seenLive: boolean;
  /** Declared failed and waiting for a frame. */
  down: boolean;
  reported: ReportedFailure | null;
  failJob: FailJob | null;
  timer: unknown;
  timerDue: number;
  /** This account's emissions, one after the other (a restore never overtakes its failure). */
  queue: Promise<void>;
}

interface StateEntry {
  lastSeen: string | null;
  peer: string | null;
  transport: SupervisionTransport | null;
  failure: { lastSeen: string | null; declaredAt: string } | null;
}

interface StateFile {
  version: number;
  savedAt: string;
  accounts: Record<string, StateEntry>;
}

const defaultTimers: SupervisorTimers = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** `<outbox dir>/supervision.json`, else next to the config file, else in the working directory. */
export function defaultSupervisionStatePath(config: Pick<BridgeConfig, 'outbox' | 'source'>): string {
  if (config.outbox) return join(config.outbox.dir, 'supervision.json');
  if (config.source) return join(dirname(resolve(config.source)), 'supervision.json');
  return resolve('supervision.json');
}

/** The supervision in force for a configured account, or null (unknown or unsupervised account). */
export function supervisionFor(config: Pick<BridgeConfig, 'accounts' | 'receiver'>, account: string): SupervisionConfig | null {
  const entry = config.accounts[account];
  if (!entry) return null;
  return entry.supervision ?? config.receiver.supervision ?? null;
}

const windowMs = (s: SupervisionConfig) => (s.intervalSeconds + s.graceSeconds) * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function siaEvent(code: 'YC' | 'YK', text: string): SiaEvent {
  const info = lookupSiaCode(code);
  return {
    protocol: 'sia',
    code,
    address: '',
    addressKind: info?.address ?? 'none',
    area: null,
    user: null,
    modifiers: {},
    text,
    function: 'N',
    category: info?.category ?? (code === 'YC' ? 'trouble' : 'trouble-restore'),
    description: info?.description ?? (code === 'YC' ? 'Communications fail' : 'Communications restoral'),
    known: true,
  };
}

interface SyntheticInput {
  account: string;
  code: 'YC' | 'YK';
  data: string;
  /** Goes into the event id: must be the same for every attempt at the same event. */
  idTime: Date | null;
  occurredAt: Date;
  receivedAt: Date;
  peer: string | null;
  transport: SupervisionTransport | null;
  text: string;
}

function syntheticFrame(input: SyntheticInput): SourceFrame {
  return {
    protocol: 'dc09',
    token: SUPERVISION_TOKEN,
    encrypted: false,
    account: input.account,
    receiver: null,
    line: null,
    sequence: null,
    data: input.data,
    xdata: [],
    timestamp: input.idTime,
    timestampTrusted: true,
    occurredAt: input.occurredAt,
    receivedAt: input.receivedAt,
    peer: input.peer,
    transport: input.transport,
    raw: input.data,
    events: [siaEvent(input.code, input.text)],
  };
}

export class Supervisor {
  private readonly tracks = new Map<string, Track>();
  private readonly timers: SupervisorTimers;
  private readonly now: () => Date;
  private readonly retryMs: number;
  private readonly saveDebounceMs: number;
  private readonly sleeps = new Set<{ handle: unknown; wake: () => void }>();
  private started = false;
  private stopped = false;
  private dirty = false;
  private saveFailing = false;
  private saveTimer: unknown = null;
  private saving: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.timers = options.timers ?? defaultTimers;
    this.now = options.now ?? (() => new Date());
    this.retryMs = options.retryMs ?? 30_000;
    this.saveDebounceMs = options.saveDebounceMs ?? 1000;
    this.sync(this.nowMs());
  }

  /** Reads the state file and arms the timers. Frames seen before this call count. */
  async start(): Promise<void> {
    if (this.started) return;
    const state = await this.load();
    const startedAt = this.nowMs();
    this.started = true;
    for (const [account, entry] of Object.entries(state)) {
      const track = this.tracks.get(account);
      if (track) this.restore(track, entry);
    }
    for (const track of this.tracks.values()) {
      track.supervisedSince = startedAt;
      this.arm(track);
    }
    this.updateGauges();
    if (this.dirty) this.markDirty();
    const supervised = [...this.tracks.values()].filter((t) => t.settings).length;
    this.options.logger.info({ statePath: this.options.statePath, supervised, inFailure: this.countDown() }, 'supervision started');
  }

  /**
   * An authenticated frame from `account` (the pipeline's `onPanelActivity`). Ignored for accounts that are not
   * configured or not supervised.
   */
  activity(account: string, peer: string, transport: SupervisionTransport, at: Date = this.now()): void {
    if (this.stopped) return;
    const track = this.tracks.get(account.toUpperCase());
    if (!track?.settings) return;
    const atMs = at.getTime();
    if (track.lastSeen === null || atMs >= track.lastSeen) {
      track.lastSeen = atMs;
      track.peer = peer;
      track.transport = transport;
    }
    track.seenLive = true;
    this.markDirty();
    if (!track.down) {
      this.arm(track);
      return;
    }
    track.down = false;
    this.updateGauges();
    const arrival: Arrival = { at: atMs, peer, transport };
    const job = track.failJob;
    if (job) {
      // The failure event was not accepted yet: drop it; a restore follows only if it is accepted after all.
      job.cancelled = true;
      job.returned = arrival;
      this.options.logger.info(
        { account: track.account, peer, transport },
        'supervision: panel reported again before its failure event was accepted; no failure is sent',
      );
    } else if (track.reported) {
      this.enqueueRestore(track, track.reported, arrival);
    }
    this.arm(track);
  }

  /** Re-reads which accounts are supervised and with what window (SIGHUP). Failures in progress are kept. */
  reconfigure(): void {
    if (this.stopped) return;
    this.sync(this.nowMs());
    this.updateGauges();
    this.markDirty();
  }

  /** Accounts currently in communication failure (declared, not yet back). */
  accountsInFailure(): string[] {
    return [...this.tracks.values()]
      .filter((t) => t.settings && t.down)
      .map((t) => t.account)
      .sort();
  }

  /** Last-seen view of one account (for status pages and tests). */
  status(account: string): {
    supervised: boolean;
    lastSeen: Date | null;
    peer: string | null;
    transport: SupervisionTransport | null;
    inFailure: boolean;
  } | null {
    const track = this.tracks.get(account.toUpperCase());
    if (!track) return null;
    return {
      supervised: track.settings !== null,
      lastSeen: track.lastSeen === null ? null : new Date(track.lastSeen),
      peer: track.peer,
      transport: track.transport,
      inFailure: track.down,
    };
  }

  /** Resolves once no emission is in progress (an emission waiting to retry keeps it pending). */
  async settled(): Promise<void> {
    for (;;) {
      const queues = [...this.tracks.values()].map((t) => t.queue);
      await Promise.all(queues);
      if ([...this.tracks.values()].every((t, i) => t.queue === queues[i])) return;
    }
  }

  /** Writes the state file now if anything changed. */
  async flush(): Promise<void> {
    if (this.saveTimer !== null) {
      this.timers.clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    this.saving = this.saving.then(() => this.save());
    await this.saving;
  }

  /** Stops the timers, abandons retries (they are redone after the next start), writes the state. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const track of this.tracks.values()) this.disarm(track);
      for (const sleep of this.sleeps) {
        this.timers.clearTimeout(sleep.handle);
        sleep.wake();
      }
      this.sleeps.clear();
      await Promise.allSettled([...this.tracks.values()].map((t) => t.queue));
      await this.flush();
    })();
    return this.stopping;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private nowMs(): number {
    return this.now().getTime();
  }

  /** Brings the tracks in line with the configuration. */
  private sync(at: number): void {
    const config = this.options.config();
    for (const account of Object.keys(config.accounts)) {
      const settings = supervisionFor(config, account);
      let track = this.tracks.get(account);
      if (!track) {
        track = {
          account,
          settings: null,
          lastSeen: null,
          peer: null,
          transport: null,
          supervisedSince: at,
          seenLive: false,
          down: false,
          reported: null,
          failJob: null,
          timer: null,
          timerDue: 0,
          queue: Promise.resolve(),
        };
        this.tracks.set(account, track);
      }
      if (settings && !track.settings) track.supervisedSince = at;
      if (!settings && track.settings) this.unsupervise(track);
      track.settings = settings;
      this.disarm(track);
      this.arm(track);
    }
    for (const [account, track] of this.tracks) {
      if (config.accounts[account]) continue;
      this.unsupervise(track);
      this.tracks.delete(account);
    }
  }

  private unsupervise(track: Track): void {
    this.disarm(track);
    if (track.failJob) {
      track.failJob.cancelled = true;
      track.failJob = null;
    }
    // A failure already reported stays on record: it is restored by the next frame once supervised again.
    track.down = track.reported !== null;
  }

  private restore(track: Track, entry: StateEntry): void {
    const lastSeen = parseTime(entry.lastSeen);
    if (lastSeen !== null && (track.lastSeen === null || lastSeen > track.lastSeen)) {
      track.lastSeen = lastSeen;
      track.peer = entry.peer;
      track.transport = entry.transport;
    }
    if (!entry.failure) return;
    const declaredAt = parseTime(entry.failure.declaredAt);
    if (declaredAt === null) return;
    track.reported = { lastSeen: parseTime(entry.failure.lastSeen), declaredAt };
    if (track.seenLive && track.settings && track.lastSeen !== null && track.peer !== null && track.transport !== null) {
      // A frame arrived between construction and start: the failure already ended.
      this.enqueueRestore(track, track.reported, { at: track.lastSeen, peer: track.peer, transport: track.transport });
    } else {
      track.down = true;
    }
  }

  private deadline(track: Track, settings: SupervisionConfig): number {
    return Math.max(track.lastSeen ?? Number.NEGATIVE_INFINITY, track.supervisedSince) + windowMs(settings);
  }

  private arm(track: Track): void {
    if (!this.started || this.stopped || !track.settings || track.down) return;
    const due = this.deadline(track, track.settings);
    // A timer that fires earlier re-arms itself for the later deadline: activity never has to clear timers.
    if (track.timer !== null && track.timerDue <= due) return;
    this.disarm(track);
    const delay = Math.min(Math.max(0, due - this.nowMs()), MAX_TIMER_MS);
    track.timerDue = due;
    track.timer = this.timers.setTimeout(() => {
      track.timer = null;
      this.check(track);
    }, delay);
  }

  private disarm(track: Track): void {
    if (track.timer === null) return;
    this.timers.clearTimeout(track.timer);
    track.timer = null;
  }

  private check(track: Track): void {
    if (this.stopped || !track.settings || track.down || this.tracks.get(track.account) !== track) return;
    const now = this.nowMs();
    if (now < this.deadline(track, track.settings)) {
      this.arm(track);
      return;
    }
    track.down = true;
    this.updateGauges();
    const job: FailJob = { cancelled: false, returned: null };
    track.failJob = job;
    const snapshot = { lastSeen: track.lastSeen, peer: track.peer, transport: track.transport, declaredAt: now };
    const silentFor = seconds(now - (snapshot.lastSeen ?? track.supervisedSince));
    const lastSeenText =
      snapshot.lastSeen === null
        ? `never seen since supervision started ${iso(track.supervisedSince)}`
        : `last seen ${iso(snapshot.lastSeen)} from ${snapshot.peer ?? 'unknown peer'} over ${snapshot.transport ?? 'unknown transport'}`;
    const text = `communication failure: no report for ${silentFor} s (${lastSeenText})`;
    this.options.logger.warn(
      {
        account: track.account,
        lastSeen: snapshot.lastSeen === null ? null : iso(snapshot.lastSeen),
        peer: snapshot.peer,
        transport: snapshot.transport,
        silentSeconds: silentFor,
      },
      `supervision: ${track.account} ${text}`,
    );
    const source = (receivedAt: Date) =>
      syntheticFrame({
        account: track.account,
        code: 'YC',
        data: `supervision|fail|${snapshot.lastSeen === null ? 'never' : iso(snapshot.lastSeen)}`,
        idTime: snapshot.lastSeen === null ? null : new Date(snapshot.lastSeen),
        occurredAt: new Date(snapshot.declaredAt),
        receivedAt,
        peer: snapshot.peer,
        transport: snapshot.transport,
        text,
      });
    this.enqueue(track, async () => {
      const accepted = await this.deliver(track.account, 'fail', source, () => job.cancelled);
      if (track.failJob === job) track.failJob = null;
      if (!accepted) return;
      const failure: ReportedFailure = { lastSeen: snapshot.lastSeen, declaredAt: snapshot.declaredAt };
      track.reported = failure;
      this.markDirty();
      if (job.returned) this.enqueueRestore(track, failure, job.returned);
    });
  }

  private enqueueRestore(track: Track, failure: ReportedFailure, arrival: Arrival): void {
    const since = failure.lastSeen ?? failure.declaredAt;
    const text = `communication restored: report after ${seconds(arrival.at - since)} s of silence (from ${arrival.peer} over ${arrival.transport})`;
    this.options.logger.info(
      { account: track.account, peer: arrival.peer, transport: arrival.transport },
      `supervision: ${track.account} ${text}`,
    );
    const source = (receivedAt: Date) =>
      syntheticFrame({
        account: track.account,
        code: 'YK',
        data: `supervision|restore|${failure.lastSeen === null ? 'never' : iso(failure.lastSeen)}`,
        idTime: new Date(arrival.at),
        occurredAt: new Date(arrival.at),
        receivedAt,
        peer: arrival.peer,
        transport: arrival.transport,
        text,
      });
    this.enqueue(track, async () => {
      const accepted = await this.deliver(track.account, 'restore', source, () => false);
      if (accepted && track.reported === failure) {
        track.reported = null;
        this.markDirty();
      }
    });
  }

  private enqueue(track: Track, task: () => Promise<void>): void {
    track.queue = track.queue.then(task).catch((err: unknown) => {
      this.options.logger.error({ account: track.account, err: errorMessage(err) }, 'supervision: emission failed');
    });
  }

  /** Offers the event until accepted; false when given up (cancelled or stopping). */
  private async deliver(
    account: string,
    kind: 'fail' | 'restore',
    source: (receivedAt: Date) => SourceFrame,
    cancelled: () => boolean,
  ): Promise<boolean> {
    const { emit, metrics, logger } = this.options;
    for (;;) {
      if (cancelled() || this.stopped) return false;
      let accepted = false;
      try {
        accepted = await emit(source(this.now()));
      } catch (err) {
        logger.error({ account, kind, err: errorMessage(err) }, 'supervision: event could not be handed over');
      }
      metrics.supervisionEvents.inc({ kind, result: accepted ? 'accepted' : 'refused' });
      if (accepted) return true;
      logger.warn({ account, kind, retryInSeconds: this.retryMs / 1000 }, 'supervision: event not accepted; retrying');
      await this.sleep(this.retryMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((wake) => {
      const entry = {
        handle: null as unknown,
        wake: () => wake(),
      };
      entry.handle = this.timers.setTimeout(() => {
        this.sleeps.delete(entry);
        wake();
      }, ms);
      this.sleeps.add(entry);
    });
  }

  private countDown(): number {
    let n = 0;
    for (const t of this.tracks.values()) if (t.settings && t.down) n++;
    return n;
  }

  private updateGauges(): void {
    let supervised = 0;
    for (const t of this.tracks.values()) if (t.settings) supervised++;
    this.options.metrics.supervisedAccounts.set(supervised);
    this.options.metrics.accountsInFailure.set(this.countDown());
  }

  // state file --------------------------------------------------------------------------------------------------

  private markDirty(): void {
    this.dirty = true;
    if (this.saveTimer !== null || this.stopped || !this.started) return;
    this.saveTimer = this.timers.setTimeout(() => {
      this.saveTimer = null;
      this.saving = this.saving.then(() => this.save());
    }, this.saveDebounceMs);
  }

  private snapshot(): StateFile {
    const accounts: Record<string, StateEntry> = {};
    for (const t of this.tracks.values()) {
      if (t.lastSeen === null && !t.reported) continue;
      accounts[t.account] = {
        lastSeen: t.lastSeen === null ? null : iso(t.lastSeen),
        peer: t.peer,
        transport: t.transport,
        failure: t.reported
          ? { lastSeen: t.reported.lastSeen === null ? null : iso(t.reported.lastSeen), declaredAt: iso(t.reported.declaredAt) }
          : null,
      };
    }
    return { version: STATE_VERSION, savedAt: iso(this.nowMs()), accounts };
  }

  private async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const path = this.options.statePath;
    const temp = `${path}.${process.pid}.tmp`;
    try {
      // Private like the outbox's files (issue #15): it names accounts and their panels' addresses.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(this.snapshot(), null, 1)}\n`, 'utf8');
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      if (this.saveFailing) this.options.logger.info({ statePath: path }, 'supervision: state file written again');
      this.saveFailing = false;
    } catch (err) {
      this.dirty = true;
      // Logged when the failure starts, not on every retry (an unwritable path would flood the log once a second).
      if (!this.saveFailing)
        this.options.logger.error(
          { statePath: path, err: errorMessage(err) },
          'supervision: state file not written; retrying quietly until it works',
        );
      this.saveFailing = true;
      this.markDirty();
    }
  }

  private async load(): Promise<Record<string, StateEntry>> {
    const path = this.options.statePath;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      this.options.logger.warn(
        { statePath: path, err: errorMessage(err) },
        'supervision: state file unreadable; starting without last-seen times',
      );
      return {};
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      if (parsed.version !== STATE_VERSION || typeof parsed.accounts !== 'object' || parsed.accounts === null)
        throw new Error(`unsupported version ${String(parsed.version)}`);
      const out: Record<string, StateEntry> = {};
      for (const [account, raw] of Object.entries(parsed.accounts)) {
        if (typeof raw !== 'object' || raw === null) continue;
        const entry = raw as Partial<StateEntry>;
        const transport = entry.transport === 'tcp' || entry.transport === 'udp' ? entry.transport : null;
        const failure = entry.failure && typeof entry.failure === 'object' ? entry.failure : null;
        out[account.toUpperCase()] = {
          lastSeen: typeof entry.lastSeen === 'string' ? entry.lastSeen : null,
          peer: typeof entry.peer === 'string' ? entry.peer : null,
          transport,
          failure:
            failure && typeof failure.declaredAt === 'string'
              ? { lastSeen: typeof failure.lastSeen === 'string' ? failure.lastSeen : null, declaredAt: failure.declaredAt }
              : null,
        };
      }
      return out;
    } catch (err) {
      this.options.logger.warn(
        { statePath: path, err: errorMessage(err) },
        'supervision: state file is not valid; starting without last-seen times',
      );
      return {};
    }
  }
}
