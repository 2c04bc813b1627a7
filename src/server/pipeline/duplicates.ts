/**
 * Retransmissions (docs/dc09.md §6: Ajax resends with the same sequence, Eldes with sequence + 1): a frame with a
 * timestamp is a copy when (account, token, data, timestamp) was accepted within the window; a frame without one
 * only when it repeats the account's last accepted frame — otherwise alarm, restore, alarm again within two minutes
 * would lose the second alarm. A copy that arrives while the first is still being accepted waits for its outcome;
 * a refused frame is forgotten, so its retransmission is processed anew. In cluster mode the account's last frame is
 * shared between instances (docs/cluster.md §4), so a copy that reaches another instance is still a copy.
 */
import { createHash } from 'node:crypto';

import type { SourceFrame } from '../../mapper/index.js';

/**
 * `accepted`; `refused` (nothing stored: NAK, and a retransmission is processed anew); `persisted-not-delivered`
 * (stored, but `ackAfter: "delivered"` timed out: NAK, yet a retransmission must not be stored a second time).
 */
export type AcceptResult = 'accepted' | 'refused' | 'persisted-not-delivered';

/** The fields of a frame the filter looks at; `receivedAt` is the clock. */
export type DuplicateKeyFields = Pick<SourceFrame, 'account' | 'data' | 'timestamp' | 'receivedAt'>;

/**
 * Cap of remembered frames: at 10,000 frames/s a 120 s window would otherwise hold 1.2 million keys. Past the cap
 * the oldest are forgotten first (a late retransmission is then forwarded again; with a panel timestamp it keeps its
 * event_id, which the API can de-duplicate).
 */
export const MAX_DUPLICATE_KEYS = 100_000;

/** An account's last accepted frame as other instances see it: a digest of account, token and data, and its arrival. */
export interface LastFrame {
  digest: string;
  atMs: number;
}

/**
 * The accounts' last accepted frames shared between instances (cluster mode, docs/cluster.md §4). Without one, this
 * instance's memory alone decides (the default). `get` answers `unknown` when the store did not answer: the local
 * rule decides then; `set` never rejects.
 */
export interface LastFrameStore {
  get(account: string): Promise<LastFrame | null | 'unknown'>;
  set(account: string, frame: LastFrame): Promise<void>;
}

export interface DuplicateFilterOptions {
  /** The window in force (read on every frame: a reload may change it); 0 or less remembers nothing. */
  windowMs: () => number;
  maxKeys?: number;
  /** Consulted and updated for frames without a timestamp (timestamped copies are caught by their event id). */
  lastFrames?: LastFrameStore;
}

/** What a frame without a timestamp is compared by across instances. */
const contentDigest = (content: string): string => createHash('sha256').update(content, 'utf8').digest('base64url').slice(0, 22);

export class DuplicateFilter {
  /**
   * Remembered keys → when they expire, in ms after `epoch`. A plain number per key and a key flattened into one
   * string, because every entry outlives a few garbage collections (docs/performance.md §3): an entry object and a
   * key made of concatenated pieces (which also kept the decrypted frame text alive) cost ~400 bytes and several
   * objects to copy on each collection, this ~100 bytes and one.
   */
  private readonly expiries = new Map<string, number>();
  /**
   * The same keys in the order they were remembered, with the expiry each was given then: what is forgotten first
   * (expired, or the oldest at the cap) is taken from the front of these arrays, never by walking the Map from its
   * start, which skips every slot deleted since the Map's table was last rebuilt (tens of µs per frame with a full
   * window: docs/performance.md §3). A key remembered again (a retransmission after the window, a new frame of an
   * untimestamped account) appears once more further back; its earlier place is stale (its expiry is no longer the
   * Map's) and is passed over.
   */
  private orderKeys: (string | undefined)[] = [];
  private orderExpiries: number[] = [];
  /** Index of the first place in `orderKeys` still to be looked at. */
  private head = 0;
  /** Account, token and data of untimestamped frames, whose key is only the account. */
  private readonly contents = new Map<string, string>();
  /** Keys whose first copy is still being accepted: a copy waits for this outcome. */
  private readonly pending = new Map<string, Promise<AcceptResult>>();
  /** Expiries are kept relative to this (set by the first frame) so that they stay small integers. */
  private epoch = Number.NaN;
  private readonly maxKeys: number;

  constructor(private readonly options: DuplicateFilterOptions) {
    this.maxKeys = options.maxKeys ?? MAX_DUPLICATE_KEYS;
  }

  /** Frames remembered now (expired ones go on the next frame). */
  get size(): number {
    return this.expiries.size;
  }

  /**
   * Runs `accept` for the frame unless it is a retransmission of an accepted (or persisted) one: then `duplicate`,
   * without calling it. Otherwise `accept`'s result, remembered for the window unless it was `refused`.
   */
  async filter(frame: DuplicateKeyFields, token: string, accept: () => Promise<AcceptResult>): Promise<AcceptResult | 'duplicate'> {
    const nowMs = frame.receivedAt.getTime();
    if (Number.isNaN(this.epoch)) this.epoch = nowMs;
    const now = nowMs - this.epoch;
    const content = flat(`${frame.account}\u0000${token}\u0000${frame.data}`);
    const stamped = frame.timestamp !== null;
    const shared = stamped ? undefined : this.options.lastFrames;
    const key = stamped ? flat(`${content}\u0000${frame.timestamp!.getTime()}`) : frame.account;
    this.expire(now);
    const expires = this.expiries.get(key);
    const known = expires !== undefined;
    let localCopy = false;
    // A timestamped key contains the content already; an untimestamped one (the account) must also match it.
    if (known && expires > now && (stamped || this.contents.get(key) === content)) {
      const inFlight = this.pending.get(key);
      localCopy = inFlight === undefined || (await inFlight) !== 'refused';
      // A copy that arrived while this instance was accepting the first is one, whatever other instances took since;
      // a settled last frame may have been followed by another frame of the account at another instance.
      if (localCopy && (inFlight !== undefined || !shared)) return 'duplicate';
    }
    const windowMs = this.options.windowMs();
    if (windowMs <= 0) return accept();
    let accepted: Promise<AcceptResult>;
    let outcome: Promise<AcceptResult | 'duplicate'>;
    if (shared) {
      outcome = this.acceptUnlessSharedCopy(shared, frame.account, content, nowMs, windowMs, localCopy, accept);
      // A copy of another instance's frame counts as accepted for copies that wait on it here.
      accepted = outcome.then((r) => (r === 'duplicate' ? 'accepted' : r));
    } else {
      outcome = accepted = accept();
    }
    this.remember(key, now + windowMs);
    if (!stamped) this.contents.set(key, content);
    this.pending.set(key, accepted);
    if (this.expiries.size > this.maxKeys) this.forgetOldest();
    const result = await outcome;
    // Only this frame's own entry is settled here: a later frame with the same key may have replaced it meanwhile.
    if (this.pending.get(key) === accepted) {
      this.pending.delete(key);
      if (result === 'refused') this.forget(key);
    }
    return result;
  }

  private forget(key: string): void {
    this.expiries.delete(key);
    this.contents.delete(key);
  }

  /**
   * The untimestamped rule with the shared last frame (docs/cluster.md §4): a copy when it repeats the account's last
   * frame accepted by any instance; the local verdict when the store does not answer. The shared last frame is
   * updated before the frame is ACKed, so a copy sent to another instance afterwards is recognised there.
   */
  private async acceptUnlessSharedCopy(
    shared: LastFrameStore,
    account: string,
    content: string,
    nowMs: number,
    windowMs: number,
    localCopy: boolean,
    accept: () => Promise<AcceptResult>,
  ): Promise<AcceptResult | 'duplicate'> {
    const digest = contentDigest(content);
    const last = await shared.get(account);
    const copy = last === 'unknown' ? localCopy : last !== null && last.digest === digest && nowMs - last.atMs < windowMs;
    if (copy) return 'duplicate';
    const result = await accept();
    if (result !== 'refused') await shared.set(account, { digest, atMs: nowMs });
    return result;
  }

  private remember(key: string, expires: number): void {
    this.expiries.set(key, expires);
    this.orderKeys.push(key);
    this.orderExpiries.push(expires);
  }

  /** The key at the front of the order if its place there is current (not stale, not forgotten), else undefined. */
  private takeFront(): string | undefined {
    const key = this.orderKeys[this.head]!;
    const current = this.expiries.get(key) === this.orderExpiries[this.head];
    this.orderKeys[this.head] = undefined; // the array no longer keeps the key alive
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.orderKeys.length) {
      // Half the places are behind the front: moved down at once (amortised over the frames that passed them).
      this.orderKeys = this.orderKeys.slice(this.head);
      this.orderExpiries = this.orderExpiries.slice(this.head);
      this.head = 0;
    }
    return current ? key : undefined;
  }

  private expire(now: number): void {
    // Order of remembering is expiry order while the window stays the same; after a reload changes it, entries expire
    // a little late or early (the front decides), which only widens or narrows suppression once.
    while (this.head < this.orderKeys.length && this.orderExpiries[this.head]! <= now) {
      const key = this.takeFront();
      if (key !== undefined) this.forget(key);
    }
  }

  private forgetOldest(): void {
    while (this.head < this.orderKeys.length) {
      const key = this.takeFront();
      if (key !== undefined) return this.forget(key);
    }
  }
}

/**
 * The same text as one sequential string: reading a character makes V8 flatten a concatenation in place, and the
 * next collection drops the pieces (measured: docs/performance.md §3).
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
