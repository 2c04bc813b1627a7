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

interface Entry {
  expires: number;
  /**
   * Account, token and data of an untimestamped frame, whose key is only the account; null for a timestamped one,
   * whose key holds them already (nothing more to keep for the window, docs/performance.md §3).
   */
  content: string | null;
  /** Pending while the first copy is being accepted (a copy waits for its outcome); true once it was accepted. */
  accepted: Promise<AcceptResult> | true;
}

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
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;
  /** No entry expires before this (may be earlier than the true first expiry: that only costs a look). */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(private readonly options: DuplicateFilterOptions) {
    this.maxKeys = options.maxKeys ?? MAX_DUPLICATE_KEYS;
  }

  /** Frames remembered now (expired ones go on the next frame). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `accept` for the frame unless it is a retransmission of an accepted (or persisted) one: then `duplicate`,
   * without calling it. Otherwise `accept`'s result, remembered for the window unless it was `refused`.
   */
  async filter(frame: DuplicateKeyFields, token: string, accept: () => Promise<AcceptResult>): Promise<AcceptResult | 'duplicate'> {
    const nowMs = frame.receivedAt.getTime();
    const content = `${frame.account}\u0000${token}\u0000${frame.data}`;
    const shared = frame.timestamp === null ? this.options.lastFrames : undefined;
    const key = frame.timestamp !== null ? `${content}\u0000${frame.timestamp.getTime()}` : frame.account;
    this.expire(nowMs);
    const previous = this.entries.get(key);
    let localCopy = false;
    // A timestamped key contains the content already; an untimestamped one (the account) must also match it.
    if (previous && previous.expires > nowMs && (previous.content === null || previous.content === content)) {
      const inFlight = previous.accepted !== true;
      localCopy = !inFlight || (await previous.accepted) !== 'refused';
      // A copy that arrived while this instance was accepting the first is one, whatever other instances took since;
      // a settled last frame may have been followed by another frame of the account at another instance.
      if (localCopy && (inFlight || !shared)) return 'duplicate';
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
    const entry: Entry = { expires: nowMs + windowMs, content: frame.timestamp === null ? content : null, accepted };
    if (previous) this.entries.delete(key); // re-inserted at the end: insertion order is expiry order
    this.entries.set(key, entry);
    if (entry.expires < this.nextExpiry) this.nextExpiry = entry.expires;
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    const result = await outcome;
    if (result === 'refused') {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    } else {
      entry.accepted = true; // drop the promise: only a flag stays in memory
    }
    return result;
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

  private expire(nowMs: number): void {
    // Most frames find nothing expired: no walk (and no iterator) then.
    if (nowMs < this.nextExpiry) return;
    this.nextExpiry = Number.POSITIVE_INFINITY;
    // Insertion order is expiry order while the window stays the same; after a reload changes it, entries expire a
    // little late or early, which only widens or narrows suppression once.
    for (const [key, entry] of this.entries) {
      if (entry.expires > nowMs) {
        this.nextExpiry = entry.expires;
        break;
      }
      this.entries.delete(key);
    }
  }
}
