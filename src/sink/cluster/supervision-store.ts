/**
 * Supervision state in the shared state bucket (docs/cluster.md §7). `seen.<account>`: the account's last frame as
 * any instance recorded it; each instance writes it at most once per account per `seenIntervalMs` (the first frame
 * after a quiet spell at once, the latest of a busy spell at its end). `fail.<account>`: the failure declared and
 * not yet restored, created and changed with revision checks, so two instances cannot both raise or restore it.
 */
import type { KV } from '@nats-io/kv';

import { describeError, type Logger } from '../../log.js';
import { RateLimitedWarn } from '../../server/ops/rate-limited-log.js';
import type { AccountRecord, Arrival, FailureRecord, Sighting, SupervisionStore } from '../../server/ops/supervision-store.js';
import { entryObject, stateKey } from './state-bucket.js';
import type { ClusterStores } from './streams.js';

/** Default spacing of one instance's last-seen writes for one account. */
export const SEEN_WRITE_INTERVAL_MS = 3000;

/** JetStream's answers to a write against a revision that is no longer the key's last. */
const WRONG_REVISION_CODES: ReadonlySet<number> = new Set([10071, 10164]);
const isWrongRevision = (err: unknown) => WRONG_REVISION_CODES.has((err as { code?: unknown }).code as number);

const transportOf = (value: unknown) => (value === 'tcp' || value === 'udp' ? value : null);

function decodeSeen(value: Record<string, unknown> | null): { account: string; arrival: Arrival } | null {
  const transport = transportOf(value?.transport);
  if (!value || typeof value.account !== 'string' || typeof value.at !== 'number' || typeof value.peer !== 'string' || !transport)
    return null;
  return { account: value.account, arrival: { at: value.at, peer: value.peer, transport } };
}

const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);

function decodeFailure(value: Record<string, unknown> | null): { account: string; failure: FailureRecord } | null {
  const phase = value?.phase;
  if (!value || typeof value.account !== 'string' || typeof value.declaredAt !== 'number') return null;
  if (phase !== 'declared' && phase !== 'reported' && phase !== 'restoring') return null;
  const returned = decodeSeen({ account: value.account, ...(value.returned as Record<string, unknown> | undefined) });
  return {
    account: value.account,
    failure: {
      lastSeen: numberOrNull(value.lastSeen),
      peer: typeof value.peer === 'string' ? value.peer : null,
      transport: transportOf(value.transport),
      declaredAt: value.declaredAt,
      phase,
      returned: returned?.arrival ?? null,
    },
  };
}

export interface KvSupervisionStoreOptions {
  logger: Logger;
  /** This instance's name (`cluster.instance`), written beside what it records. */
  instance: string;
  seenIntervalMs?: number;
}

export class KvSupervisionStore implements SupervisionStore {
  private readonly kv: KV;
  private readonly warn: RateLimitedWarn;
  private readonly seenIntervalMs: number;
  /** Per account: when this instance last wrote its `seen` key, and the sighting held back until the interval ends. */
  private readonly seenWrites = new Map<string, { at: number; held: Sighting | null; timer: NodeJS.Timeout | null }>();
  private readonly writing = new Set<Promise<void>>();
  /** Revision of each `fail` key as this instance last read or wrote it. */
  private readonly revisions = new Map<string, number>();

  constructor(
    private readonly stores: Pick<ClusterStores, 'state' | 'names'>,
    private readonly options: KvSupervisionStoreOptions,
  ) {
    this.kv = stores.state;
    this.warn = new RateLimitedWarn(options.logger);
    this.seenIntervalMs = options.seenIntervalMs ?? SEEN_WRITE_INTERVAL_MS;
  }

  get where(): Record<string, string> {
    return { stateBucket: this.stores.names.stateBucket };
  }

  async load(): Promise<Map<string, AccountRecord>> {
    const records = new Map<string, AccountRecord>();
    const record = (account: string) => {
      let r = records.get(account);
      if (!r) records.set(account, (r = { seen: null, failure: null }));
      return r;
    };
    const keys: string[] = [];
    for (const filter of ['seen.>', 'fail.>']) for await (const key of await this.kv.keys(filter)) keys.push(key);
    for (let i = 0; i < keys.length; i += 64) {
      const entries = await Promise.all(keys.slice(i, i + 64).map((key) => this.kv.get(key)));
      for (const entry of entries) {
        if (entry === null) continue;
        const value = entryObject(entry);
        if (entry.key.startsWith('seen.')) {
          const seen = decodeSeen(value);
          if (seen) record(seen.account).seen = seen.arrival;
        } else {
          const failed = decodeFailure(value);
          if (!failed) continue;
          record(failed.account).failure = failed.failure;
          this.revisions.set(failed.account, entry.revision);
        }
      }
    }
    return records;
  }

  seen(account: string, sighting: Sighting): void {
    const now = Date.now();
    const last = this.seenWrites.get(account);
    if (last && now - last.at < this.seenIntervalMs) {
      if (!last.held || sighting.at >= last.held.at) last.held = sighting;
      last.timer ??= setTimeout(() => this.writeHeld(account), last.at + this.seenIntervalMs - now).unref();
      return;
    }
    this.seenWrites.set(account, { at: now, held: null, timer: null });
    this.writeSeen(account, sighting);
  }

  async claimFailure(account: string, failure: FailureRecord): Promise<FailureRecord> {
    const key = stateKey('fail', account);
    try {
      this.revisions.set(account, await this.kv.create(key, this.encodeFailure(account, failure)));
      return failure;
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
    }
    const entry = await this.kv.get(key);
    const existing = decodeFailure(entryObject(entry));
    if (entry === null || existing === null) throw new Error(`${key} changed while it was being claimed`);
    this.revisions.set(account, entry.revision);
    this.options.logger.info(
      { account, phase: existing.failure.phase },
      'supervision: another instance declared this failure first; finishing it',
    );
    return existing.failure;
  }

  async failureReported(account: string, failure: FailureRecord): Promise<void> {
    await this.advance(account, failure, 'record the reported failure', 'declared');
  }

  async failureDropped(account: string): Promise<void> {
    await this.advance(account, null, 'drop the failure', 'declared');
  }

  async claimRestore(account: string, failure: FailureRecord, returned: Arrival): Promise<boolean> {
    return this.advance(account, { ...failure, phase: 'restoring', returned }, 'claim the restore', 'reported');
  }

  async restored(account: string): Promise<void> {
    await this.advance(account, null, 'record the restore', 'restoring');
  }

  /** Shared state is not forgotten when this instance's configuration drops an account: others may still have it. */
  forget(): void {}

  async flush(): Promise<void> {
    for (const [account, write] of this.seenWrites) if (write.timer) this.writeHeld(account);
    await Promise.allSettled([...this.writing]);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  async follow(listener: (account: string, arrival: Arrival) => void): Promise<() => void> {
    const watch = await this.kv.watch({ key: 'seen.>', include: 'updates' });
    void (async () => {
      for await (const entry of watch) {
        const seen = decodeSeen(entryObject(entry));
        if (seen) listener(seen.account, seen.arrival);
      }
    })().catch((err: unknown) =>
      this.options.logger.error(
        { err: describeError(err) },
        'supervision: watching the state bucket failed; frames at other instances are not followed',
      ),
    );
    return () => watch.stop();
  }

  private encodeFailure(account: string, failure: FailureRecord): string {
    return JSON.stringify({ account, ...failure, instance: this.options.instance });
  }

  private writeHeld(account: string): void {
    const write = this.seenWrites.get(account);
    if (!write) return;
    if (write.timer) clearTimeout(write.timer);
    const held = write.held;
    this.seenWrites.set(account, { at: Date.now(), held: null, timer: null });
    if (held) this.writeSeen(account, held);
  }

  private writeSeen(account: string, sighting: Sighting): void {
    const value = JSON.stringify({ account, ...sighting, instance: this.options.instance });
    const write = this.kv.put(stateKey('seen', account), value).then(
      () => undefined,
      (err: unknown) => {
        this.seenWrites.delete(account); // the next frame writes again
        this.warn.warn(
          'state-bucket-seen',
          { account, err: describeError(err) },
          "supervision: the account's last frame could not be written to the state bucket",
        );
      },
    );
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  /**
   * Moves the account's failure on from phase `from` (to `next`, or deleted when null), with a revision check: a
   * failure moves only forward (declared, reported, restoring, gone), so when another instance moved it first, or it
   * is in another phase, this instance leaves it to that instance and answers false.
   */
  private async advance(account: string, next: FailureRecord | null, what: string, from: FailureRecord['phase']): Promise<boolean> {
    const key = stateKey('fail', account);
    for (let attempt = 0; attempt < 3; attempt++) {
      let revision = this.revisions.get(account);
      if (revision === undefined) {
        const entry = await this.kv.get(key);
        if (entry === null || decodeFailure(entryObject(entry))?.failure.phase !== from) break;
        revision = entry.revision;
      }
      try {
        if (next) this.revisions.set(account, await this.kv.update(key, this.encodeFailure(account, next), revision));
        else {
          await this.kv.delete(key, { previousSeq: revision });
          this.revisions.delete(account);
        }
        return true;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        this.revisions.delete(account); // read the key again: who moved it, and where to
      }
    }
    this.options.logger.info({ account }, `supervision: did not ${what}: another instance carries this failure on`);
    return false;
  }
}
