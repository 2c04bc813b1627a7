/**
 * Retransmissions (docs/dc09.md §6: Ajax resends with the same sequence, Eldes with sequence + 1): a frame with a
 * timestamp is a copy when (account, token, data, timestamp) was accepted within the window; a frame without one
 * only when it repeats the account's last accepted frame — otherwise alarm, restore, alarm again within two minutes
 * would lose the second alarm. A copy that arrives while the first is still being accepted waits for its outcome;
 * a refused frame is forgotten, so its retransmission is processed anew.
 */
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
  /** Account, token and data of the remembered frame (for untimestamped frames the key is only the account). */
  content: string;
  /** Pending while the first copy is being accepted (a copy waits for its outcome); true once it was accepted. */
  accepted: Promise<AcceptResult> | true;
}

/**
 * Cap of remembered frames: at 10,000 frames/s a 120 s window would otherwise hold 1.2 million keys. Past the cap
 * the oldest are forgotten first (a late retransmission is then forwarded again; with a panel timestamp it keeps its
 * event_id, which the API can de-duplicate).
 */
export const MAX_DUPLICATE_KEYS = 100_000;

export interface DuplicateFilterOptions {
  /** The window in force (read on every frame: a reload may change it); 0 or less remembers nothing. */
  windowMs: () => number;
  maxKeys?: number;
}

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
    const key = frame.timestamp !== null ? `${content}\u0000${frame.timestamp.getTime()}` : frame.account;
    this.expire(nowMs);
    const previous = this.entries.get(key);
    // A timestamped key contains the content already; an untimestamped one (the account) must also match it.
    if (
      previous &&
      previous.expires > nowMs &&
      previous.content === content &&
      (previous.accepted === true || (await previous.accepted) !== 'refused')
    ) {
      return 'duplicate';
    }
    const accepted = accept();
    const windowMs = this.options.windowMs();
    if (windowMs <= 0) return accepted;
    const entry: Entry = { expires: nowMs + windowMs, content, accepted };
    if (previous) this.entries.delete(key); // re-inserted at the end: insertion order is expiry order
    this.entries.set(key, entry);
    if (entry.expires < this.nextExpiry) this.nextExpiry = entry.expires;
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
    const result = await accepted;
    if (result === 'refused') {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    } else {
      entry.accepted = true; // drop the promise: only a flag stays in memory
    }
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
