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
 * - State: last seen (time, peer, transport) and the failure that was declared and not yet restored are kept in a
 *   `SupervisionStore` (supervision-store.ts): a JSON file, or in cluster mode the shared state bucket, where every
 *   instance records the frames it receives and only the delivering instance runs the timers and raises failures and
 *   restores (docs/cluster.md §7). An instance that starts delivering gives every account one full window.
 * - Event ids: the synthetic frame's `data` is `supervision|fail|<last seen ISO>` (or `…|restore|…`) and its
 *   timestamp is the last-seen time (never seen: the declaration time; restore: the time of the frame that ended the
 *   failure), so the mapper's deterministic id of one failure is the same across retries, restarts and instances.
 *   For these events the payload's `panelTime` is therefore the last-seen time; `event_time` is when the failure was
 *   declared (or ended).
 * - An event the durable log refuses (outbox full, …) is retried every `retryMs`. If the panel comes back before the
 *   failure event was accepted, the failure is dropped and no restore is sent.
 */
import { dirname, join, resolve } from 'node:path';
import type { BridgeConfig, SupervisionConfig } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log.js';
import type { SourceFrame } from '../../mapper/frame.js';
import type { SiaEvent } from '../../protocols/events.js';
import { lookupSiaCode } from '../../protocols/sia/codes.js';
import type { BridgeMetrics } from './metrics.js';
import {
  FileSupervisionStore,
  type AccountRecord,
  type Arrival,
  type FailureRecord,
  type SupervisionStore,
  type SupervisionTransport,
  type SupervisorTimers,
} from './supervision-store.js';

export type { SupervisionTransport, SupervisorTimers } from './supervision-store.js';

/** Which instance supervises (cluster mode): the delivering one (docs/cluster.md §7). `ClusterRole` is one. */
export interface SupervisionRole {
  readonly delivering: boolean;
  onChange(listener: (role: 'delivering' | 'standby') => void): void;
}

export interface SupervisorOptions {
  /** The current configuration (read again on `reconfigure()`). */
  config: () => Pick<BridgeConfig, 'accounts' | 'receiver'>;
  /** JSON state file (see `defaultSupervisionStatePath`), used when no `store` is given. */
  statePath?: string;
  /** Where the state lives (cluster mode: the state bucket); default a `FileSupervisionStore` at `statePath`. */
  store?: SupervisionStore;
  /** Cluster mode: timers run and events are raised only while this instance delivers. Default: always. */
  role?: SupervisionRole;
  /** Maps and accepts a synthetic frame (the bridge passes `pipeline.acceptSource`); true once accepted. */
  emit: (source: SourceFrame) => Promise<boolean>;
  logger: Logger;
  metrics: BridgeMetrics;
  now?: () => Date;
  timers?: SupervisorTimers;
  /** Delay before offering a refused event again (or asking a store that did not answer). Default 30 s. */
  retryMs?: number;
  /** At most one state file write per this many ms. Default 1 s. */
  saveDebounceMs?: number;
}

/** Token of the synthetic frames (goes into the event id and the payload's `token`). */
export const SUPERVISION_TOKEN = 'SUPERVISION';

const MAX_TIMER_MS = 2_147_483_647;

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
  /** Declared failed and waiting for a frame. */
  down: boolean;
  /** The failure on record (declared, reported or being restored), null when there is none. */
  reported: FailureRecord | null;
  failJob: FailJob | null;
  timer: unknown;
  timerDue: number;
  /** This account's emissions, one after the other (a restore never overtakes its failure). */
  queue: Promise<void>;
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
  private readonly store: SupervisionStore;
  private readonly sleeps = new Set<{ handle: unknown; wake: () => void }>();
  private started = false;
  private stopped = false;
  /** Runs the timers and raises events: always in one process; in cluster mode while delivering. */
  private leading = false;
  private unfollow: (() => void) | null = null;
  /** Role changes, one after the other. */
  private leadership: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.timers = options.timers ?? defaultTimers;
    this.now = options.now ?? (() => new Date());
    this.retryMs = options.retryMs ?? 30_000;
    if (!options.store && options.statePath === undefined) throw new Error('Supervisor: give a store or a statePath');
    this.store =
      options.store ??
      new FileSupervisionStore({
        path: options.statePath!,
        logger: options.logger,
        timers: this.timers,
        now: this.now,
        debounceMs: options.saveDebounceMs ?? 1000,
      });
    this.sync(this.nowMs());
  }

  /**
   * Reads the state and arms the timers (in cluster mode: once delivering). Frames seen before this call count. A
   * store that does not answer does not stop the bridge: it starts without the state and reads it again to deliver.
   */
  async start(): Promise<void> {
    if (this.started) return;
    const records = await this.store.load().catch((err: unknown) => {
      this.options.logger.error({ ...this.store.where, err: errorMessage(err) }, 'supervision: state unreadable at start');
      return null;
    });
    this.started = true;
    const delivering = this.options.role?.delivering ?? true;
    this.leading = delivering && records !== null;
    this.options.role?.onChange((role) => this.follow(role === 'delivering'));
    this.adoptAll(records ?? new Map(), this.nowMs());
    if (this.leading) await this.followOthers();
    else if (delivering) this.follow(true);
    this.updateGauges();
    const supervised = [...this.tracks.values()].filter((t) => t.settings).length;
    this.options.logger.info(
      { ...this.store.where, supervised, inFailure: this.countDown(), ...(this.options.role ? { raisesFailures: delivering } : {}) },
      'supervision started',
    );
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
    this.store.seen(track.account, { at: atMs, peer, transport });
    this.reported(track, { at: atMs, peer, transport });
  }

  /** Re-reads which accounts are supervised and with what window (SIGHUP). Failures in progress are kept. */
  reconfigure(): void {
    if (this.stopped) return;
    this.sync(this.nowMs());
    this.updateGauges();
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

  /** Resolves once no role change and no emission is in progress (an emission waiting to retry keeps it pending). */
  async settled(): Promise<void> {
    for (;;) {
      const leadership = this.leadership;
      await leadership;
      const queues = [...this.tracks.values()].map((t) => t.queue);
      await Promise.all(queues);
      if (this.leadership === leadership && [...this.tracks.values()].every((t, i) => t.queue === queues[i])) return;
    }
  }

  /** Writes the state now if anything changed. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Stops the timers, abandons retries (they are redone after the next start), writes the state. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.unfollow?.();
      this.unfollow = null;
      for (const track of this.tracks.values()) this.disarm(track);
      this.wakeSleepers();
      await this.leadership;
      await Promise.allSettled([...this.tracks.values()].map((t) => t.queue));
      await this.store.close();
    })();
    return this.stopping;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private nowMs(): number {
    return this.now().getTime();
  }

  /** Still the instance that raises events (a role change waiting its turn already counts). */
  private get raising(): boolean {
    return this.leading && !this.stopped && (this.options.role?.delivering ?? true);
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
      this.store.forget(account);
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

  /** A frame from the account (this instance's or, in cluster mode, another's): restarts its window or ends its failure. */
  private reported(track: Track, arrival: Arrival): void {
    if (!this.leading) return;
    if (!track.down) {
      this.arm(track);
      return;
    }
    track.down = false;
    this.updateGauges();
    const job = track.failJob;
    if (job) {
      // The failure event was not accepted yet: drop it; a restore follows only if it is accepted after all.
      job.cancelled = true;
      job.returned = arrival;
      this.options.logger.info(
        { account: track.account, peer: arrival.peer, transport: arrival.transport },
        'supervision: panel reported again before its failure event was accepted; no failure is sent',
      );
    } else if (track.reported) {
      this.enqueueRestore(track, track.reported, arrival);
    }
    this.arm(track);
  }

  /** A frame another instance recorded (cluster mode): counts when it is newer than what this instance knows. */
  private othersSighting(account: string, arrival: Arrival): void {
    const track = this.tracks.get(account.toUpperCase());
    if (this.stopped || !track?.settings || (track.lastSeen !== null && arrival.at <= track.lastSeen)) return;
    track.lastSeen = arrival.at;
    track.peer = arrival.peer;
    track.transport = arrival.transport;
    this.reported(track, arrival);
  }

  /**
   * Takes the stored state over (at start, or when this instance starts delivering): last-seen times, and failures
   * on record, finishing what another instance (or an earlier run) left unfinished with the same events.
   */
  private adoptAll(records: Map<string, AccountRecord>, since: number): void {
    for (const [account, record] of records) {
      const track = this.tracks.get(account);
      if (!track) {
        this.store.forget(account);
        continue;
      }
      const seen = record.seen;
      if (seen !== null && (track.lastSeen === null || seen.at > track.lastSeen)) {
        track.lastSeen = seen.at;
        track.peer = seen.peer;
        track.transport = seen.transport;
      }
      if (record.failure && this.leading) this.adoptFailure(track, record.failure);
    }
    for (const track of this.tracks.values()) {
      track.supervisedSince = since;
      this.arm(track);
    }
  }

  private adoptFailure(track: Track, failure: FailureRecord): void {
    track.reported = failure;
    if (failure.phase === 'restoring' && failure.returned) {
      this.enqueueRestore(track, failure, failure.returned, true);
      return;
    }
    // A frame after the failure's last one (here, or recorded by another instance) has ended it already.
    const { lastSeen, peer, transport } = track;
    const back =
      lastSeen !== null && peer !== null && transport !== null && lastSeen > (failure.lastSeen ?? Number.NEGATIVE_INFINITY)
        ? { at: lastSeen, peer, transport }
        : null;
    if (failure.phase === 'declared') {
      // Its event may be stored already: offered again (same event id), then restored if the panel is back.
      track.down = back === null;
      this.raise(track, failure, true, back);
      return;
    }
    track.down = true;
    if (back) this.reported(track, back);
  }

  /** Cluster mode: the role changed. Delivering: read the shared state and run; standby: stop raising. */
  private follow(delivering: boolean): void {
    this.leadership = this.leadership
      .then(() => (delivering ? this.lead() : this.standDown()))
      .catch((err: unknown) => this.options.logger.error({ err: errorMessage(err) }, 'supervision: role change failed'));
  }

  private async lead(): Promise<void> {
    if (this.leading || this.stopped) return;
    this.leading = true;
    const since = this.nowMs();
    for (const track of this.tracks.values()) track.supervisedSince = since;
    // Others' frames from now on first, then what is on record: nothing falls between the two.
    await this.followOthers();
    const records = await this.persist('read the state', () => this.store.load());
    if (records === null) return;
    this.adoptAll(records, since);
    this.updateGauges();
    this.options.logger.info(
      { ...this.store.where, inFailure: this.countDown() },
      'supervision: this instance delivers now and raises communication failures (every account gets one full window)',
    );
  }

  private standDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.unfollow?.();
    this.unfollow = null;
    for (const track of this.tracks.values()) {
      this.disarm(track);
      // What is unfinished stays on record for the delivering instance, which finishes it with the same events.
      if (track.failJob) track.failJob.cancelled = true;
      track.failJob = null;
      track.down = false;
      track.reported = null;
    }
    this.wakeSleepers();
    this.updateGauges();
    this.options.logger.info('supervision: this instance is standby; the delivering instance raises communication failures');
  }

  private async followOthers(): Promise<void> {
    if (!this.store.follow || this.unfollow) return;
    const stop = await this.persist('follow the other instances', () =>
      this.store.follow!((account, arrival) => this.othersSighting(account, arrival)),
    );
    if (stop === null) return;
    if (this.leading && !this.stopped) this.unfollow = stop;
    else stop();
  }

  private deadline(track: Track, settings: SupervisionConfig): number {
    return Math.max(track.lastSeen ?? Number.NEGATIVE_INFINITY, track.supervisedSince) + windowMs(settings);
  }

  private arm(track: Track): void {
    if (!this.started || this.stopped || !this.leading || !track.settings || track.down) return;
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
    if (this.stopped || !this.leading || !track.settings || track.down || this.tracks.get(track.account) !== track) return;
    const now = this.nowMs();
    if (now < this.deadline(track, track.settings)) {
      this.arm(track);
      return;
    }
    track.down = true;
    this.updateGauges();
    const failure: FailureRecord = {
      lastSeen: track.lastSeen,
      peer: track.peer,
      transport: track.transport,
      declaredAt: now,
      phase: 'declared',
      returned: null,
    };
    this.options.logger.warn(
      {
        account: track.account,
        lastSeen: failure.lastSeen === null ? null : iso(failure.lastSeen),
        peer: failure.peer,
        transport: failure.transport,
        silentSeconds: seconds(now - (failure.lastSeen ?? track.supervisedSince)),
      },
      `supervision: ${track.account} ${this.failureText(track, failure)}`,
    );
    this.raise(track, failure, false);
  }

  private failureText(track: Track, failure: FailureRecord): string {
    const silentFor = seconds(failure.declaredAt - (failure.lastSeen ?? track.supervisedSince));
    const lastSeenText =
      failure.lastSeen === null
        ? `never seen since supervision started ${iso(track.supervisedSince)}`
        : `last seen ${iso(failure.lastSeen)} from ${failure.peer ?? 'unknown peer'} over ${failure.transport ?? 'unknown transport'}`;
    return `communication failure: no report for ${silentFor} s (${lastSeenText})`;
  }

  /**
   * Offers the failure event until accepted, after claiming the failure in the store (unless `claimed`: taken over
   * from the store); records it as reported once accepted.
   */
  private raise(track: Track, declared: FailureRecord, claimed: boolean, returned: Arrival | null = null): void {
    const job: FailJob = { cancelled: false, returned };
    track.failJob = job;
    const text = this.failureText(track, declared);
    this.enqueue(track, async () => {
      const failure = claimed ? declared : await this.persist('claim the failure', () => this.store.claimFailure(track.account, declared));
      if (failure === null || failure !== declared) {
        if (track.failJob === job) track.failJob = null;
        // Another instance declared this failure first: finish it as it stands on record.
        if (failure !== null && !job.cancelled) this.adoptFailure(track, failure);
        return;
      }
      const source = (receivedAt: Date) =>
        syntheticFrame({
          account: track.account,
          code: 'YC',
          data: `supervision|fail|${failure.lastSeen === null ? 'never' : iso(failure.lastSeen)}`,
          // Never seen: the declaration time, kept in the store, gives the same id to every offer of this failure.
          idTime: new Date(failure.lastSeen ?? failure.declaredAt),
          occurredAt: new Date(failure.declaredAt),
          receivedAt,
          peer: failure.peer,
          transport: failure.transport,
          text,
        });
      const accepted = await this.deliver(track.account, 'fail', source, () => job.cancelled);
      if (track.failJob === job) track.failJob = null;
      if (!accepted) {
        if (job.returned) await this.persist('drop the failure', () => this.store.failureDropped(track.account, failure), true);
        return;
      }
      const reported: FailureRecord = { ...failure, phase: 'reported' };
      track.reported = reported;
      await this.persist('record the failure', () => this.store.failureReported(track.account, reported), true);
      if (job.returned) this.enqueueRestore(track, reported, job.returned);
    });
  }

  private enqueueRestore(track: Track, failure: FailureRecord, arrival: Arrival, claimed = false): void {
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
      if (!claimed && !(await this.persist('claim the restore', () => this.store.claimRestore(track.account, failure, arrival)))) return;
      const accepted = await this.deliver(track.account, 'restore', source, () => false);
      if (accepted && track.reported === failure) {
        track.reported = null;
        await this.persist('record the restore', () => this.store.restored(track.account, failure), true);
      }
    });
  }

  private enqueue(track: Track, task: () => Promise<void>): void {
    track.queue = track.queue.then(task).catch((err: unknown) => {
      this.options.logger.error({ account: track.account, err: errorMessage(err) }, 'supervision: emission failed');
    });
  }

  /** Offers the event until accepted; false when given up (cancelled, stopping, or no longer delivering). */
  private async deliver(
    account: string,
    kind: 'fail' | 'restore',
    source: (receivedAt: Date) => SourceFrame,
    cancelled: () => boolean,
  ): Promise<boolean> {
    const { emit, metrics, logger } = this.options;
    for (;;) {
      if (cancelled() || !this.raising) return false;
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

  /**
   * Asks the store until it answers; null when given up. A claim (or a read) is given up when this instance stops or
   * no longer delivers; a record of what happened (`record`) is still tried once then, so the next instance finds it.
   */
  private async persist<T>(what: string, ask: () => Promise<T>, record = false): Promise<T | null> {
    for (let failing = false; ; failing = true) {
      if (!this.raising && (failing || !record)) return null;
      try {
        const answer = await ask();
        if (failing) this.options.logger.info({ ...this.store.where }, `supervision: could ${what} again`);
        return answer;
      } catch (err) {
        if (!failing)
          this.options.logger.error(
            { ...this.store.where, err: errorMessage(err), retryInSeconds: this.retryMs / 1000 },
            `supervision: could not ${what}; retrying`,
          );
        await this.sleep(this.retryMs);
      }
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

  private wakeSleepers(): void {
    for (const sleep of this.sleeps) {
      this.timers.clearTimeout(sleep.handle);
      sleep.wake();
    }
    this.sleeps.clear();
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
}
