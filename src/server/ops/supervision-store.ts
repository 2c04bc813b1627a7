/**
 * Where supervision keeps its state (docs/dc09.md §13): each account's last frame and the communication failure that
 * was declared and not yet restored. One process keeps it in a JSON file (below); in cluster mode it lives in the
 * shared state bucket (docs/cluster.md §7), written with revision checks so that two instances cannot both raise
 * or restore one failure.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

import { errorMessage, type Logger } from '../../log.js';

export type SupervisionTransport = 'tcp' | 'udp';

/** Timer functions (injectable for tests). Handles are opaque. */
export interface SupervisorTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A frame from an account: when, and from where. */
export interface Sighting {
  at: number;
  peer: string | null;
  transport: SupervisionTransport | null;
}

/** The frame that ended a failure. */
export interface Arrival {
  at: number;
  peer: string;
  transport: SupervisionTransport;
}

/**
 * A declared communication failure. `declared`: its event is being offered; `reported`: the event was accepted;
 * `restoring`: the restore for `returned` is being offered. The events' ids derive from `lastSeen` and `returned`, so
 * an instance that takes an unfinished failure over offers the very same events again.
 */
export interface FailureRecord {
  /** Last frame before the failure (ms), null when the account was never seen. */
  lastSeen: number | null;
  peer: string | null;
  transport: SupervisionTransport | null;
  declaredAt: number;
  phase: 'declared' | 'reported' | 'restoring';
  returned: Arrival | null;
}

export interface AccountRecord {
  seen: Sighting | null;
  failure: FailureRecord | null;
}

export interface SupervisionStore {
  /** Where the state lives, for log lines. */
  readonly where: Record<string, string>;
  /** Everything on record, by account (upper case). Rejects when the store does not answer. */
  load(): Promise<Map<string, AccountRecord>>;
  /** A frame from the account, received by this instance. Never rejects (a store may throttle or drop it). */
  seen(account: string, sighting: Sighting): void;
  /**
   * Before the failure event is offered: the failure in force afterwards, `failure` itself when this instance may raise
   * it, else the one another instance declared first. Rejects when the store does not answer (the caller retries).
   */
  claimFailure(account: string, failure: FailureRecord): Promise<FailureRecord>;
  /** The failure event was accepted. Rejects when the store does not answer. */
  failureReported(account: string, failure: FailureRecord): Promise<void>;
  /** The panel came back before the failure event was accepted: the failure is dropped. */
  failureDropped(account: string, failure: FailureRecord): Promise<void>;
  /** Before the restore is offered: false when another instance changed the failure meanwhile (it restores it). */
  claimRestore(account: string, failure: FailureRecord, returned: Arrival): Promise<boolean>;
  /** The restore was accepted: the failure is over. */
  restored(account: string, failure: FailureRecord): Promise<void>;
  /** An account that is no longer configured. */
  forget(account: string): void;
  /** Writes what is pending now. */
  flush(): Promise<void>;
  /** Writes what is pending and stops. */
  close(): Promise<void>;
  /** Calls `listener` for frames other instances record (cluster mode); resolves to the function that stops it. */
  follow?(listener: (account: string, arrival: Arrival) => void): Promise<() => void>;
}

const STATE_VERSION = 1;

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

const iso = (ms: number) => new Date(ms).toISOString();

function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const transportOf = (value: unknown): SupervisionTransport | null => (value === 'tcp' || value === 'udp' ? value : null);

export interface FileSupervisionStoreOptions {
  path: string;
  logger: Logger;
  timers: SupervisorTimers;
  now: () => Date;
  /** At most one write per this many ms. */
  debounceMs: number;
}

/**
 * The state of one process in a JSON file, written atomically (temp file + rename), at most once per `debounceMs`
 * and on `close()`. Only failures whose event was accepted are written: one declared but not accepted before a crash
 * is declared again after the start-up grace, with the same event id.
 */
export class FileSupervisionStore implements SupervisionStore {
  private readonly records = new Map<string, AccountRecord>();
  private started = false;
  private stopped = false;
  private dirty = false;
  private saveFailing = false;
  private saveTimer: unknown = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileSupervisionStoreOptions) {}

  get where(): Record<string, string> {
    return { statePath: this.options.path };
  }

  async load(): Promise<Map<string, AccountRecord>> {
    for (const [account, entry] of Object.entries(await this.read())) {
      const record = this.record(account);
      const lastSeen = parseTime(entry.lastSeen);
      if (lastSeen !== null && (record.seen === null || lastSeen > record.seen.at))
        record.seen = { at: lastSeen, peer: entry.peer, transport: entry.transport };
      const declaredAt = parseTime(entry.failure?.declaredAt);
      if (entry.failure && declaredAt !== null)
        record.failure = {
          lastSeen: parseTime(entry.failure.lastSeen),
          peer: null,
          transport: null,
          declaredAt,
          phase: 'reported',
          returned: null,
        };
    }
    this.started = true;
    if (this.dirty) this.markDirty();
    return new Map([...this.records].map(([account, r]) => [account, { ...r }]));
  }

  seen(account: string, sighting: Sighting): void {
    const record = this.record(account);
    if (record.seen === null || sighting.at >= record.seen.at) record.seen = sighting;
    this.markDirty();
  }

  async claimFailure(_account: string, failure: FailureRecord): Promise<FailureRecord> {
    return failure;
  }

  async failureReported(account: string, failure: FailureRecord): Promise<void> {
    this.record(account).failure = failure;
    this.markDirty();
  }

  async failureDropped(_account: string, _failure: FailureRecord): Promise<void> {}

  async claimRestore(_account: string, _failure: FailureRecord, _returned: Arrival): Promise<boolean> {
    return true;
  }

  async restored(account: string): Promise<void> {
    this.record(account).failure = null;
    this.markDirty();
  }

  forget(account: string): void {
    if (this.records.delete(account)) this.markDirty();
  }

  async flush(): Promise<void> {
    if (this.saveTimer !== null) {
      this.options.timers.clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    this.saving = this.saving.then(() => this.save());
    await this.saving;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  private record(account: string): AccountRecord {
    let record = this.records.get(account);
    if (!record) {
      record = { seen: null, failure: null };
      this.records.set(account, record);
    }
    return record;
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.saveTimer !== null || this.stopped || !this.started) return;
    this.saveTimer = this.options.timers.setTimeout(() => {
      this.saveTimer = null;
      this.saving = this.saving.then(() => this.save());
    }, this.options.debounceMs);
  }

  private snapshot(): StateFile {
    const accounts: Record<string, StateEntry> = {};
    for (const [account, { seen, failure }] of this.records) {
      if (seen === null && failure === null) continue;
      accounts[account] = {
        lastSeen: seen === null ? null : iso(seen.at),
        peer: seen?.peer ?? null,
        transport: seen?.transport ?? null,
        failure: failure
          ? { lastSeen: failure.lastSeen === null ? null : iso(failure.lastSeen), declaredAt: iso(failure.declaredAt) }
          : null,
      };
    }
    return { version: STATE_VERSION, savedAt: iso(this.options.now().getTime()), accounts };
  }

  private async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const { path, logger } = this.options;
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
      if (this.saveFailing) logger.info({ statePath: path }, 'supervision: state file written again');
      this.saveFailing = false;
    } catch (err) {
      this.dirty = true;
      // Logged when the failure starts, not on every retry (an unwritable path would flood the log once a second).
      if (!this.saveFailing)
        logger.error({ statePath: path, err: errorMessage(err) }, 'supervision: state file not written; retrying quietly until it works');
      this.saveFailing = true;
      this.markDirty();
    }
  }

  private async read(): Promise<Record<string, StateEntry>> {
    const { path, logger } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      logger.warn({ statePath: path, err: errorMessage(err) }, 'supervision: state file unreadable; starting without last-seen times');
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
        const failure = entry.failure && typeof entry.failure === 'object' ? entry.failure : null;
        out[account.toUpperCase()] = {
          lastSeen: typeof entry.lastSeen === 'string' ? entry.lastSeen : null,
          peer: typeof entry.peer === 'string' ? entry.peer : null,
          transport: transportOf(entry.transport),
          failure:
            failure && typeof failure.declaredAt === 'string'
              ? { lastSeen: typeof failure.lastSeen === 'string' ? failure.lastSeen : null, declaredAt: failure.declaredAt }
              : null,
        };
      }
      return out;
    } catch (err) {
      logger.warn({ statePath: path, err: errorMessage(err) }, 'supervision: state file is not valid; starting without last-seen times');
      return {};
    }
  }
}
