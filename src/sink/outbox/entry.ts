/**
 * A pending event as the outbox keeps it (issue #15: bounded memory): where its journal record is and what
 * scheduling needs, in seven fields. What only an event being attempted has (its id once read, the event object
 * of a fresh accept, attempts, the last failure, an `ackAfter: "delivered"` waiter) lives in a second object made
 * on first use, so a backlog of a million events that were never attempted costs about a hundred bytes each.
 */
import type { OutgoingEvent } from '../types.js';

interface Attempting {
  id: string | null;
  fresh: OutgoingEvent | null;
  attempts: number;
  lastReason: string | null;
  onFinal: ((delivered: boolean, reason: string) => void) | null;
}

export class Entry {
  private more: Attempting | null = null;

  constructor(
    readonly seq: number,
    readonly account: string,
    readonly acceptedAt: number,
    /** Journal segment of the event record, and the record's byte position and size in it: where it is read back. */
    public home: number,
    public at: number,
    readonly size: number,
    /** The event id; null for a recovered event until its record is read back (ids stay on disk). */
    id: string | null = null,
  ) {
    if (id !== null) this.attempting().id = id;
  }

  private attempting(): Attempting {
    this.more ??= { id: null, fresh: null, attempts: 0, lastReason: null, onFinal: null };
    return this.more;
  }

  get id(): string | null {
    return this.more?.id ?? null;
  }

  set id(id: string | null) {
    if (id !== null || this.more) this.attempting().id = id;
  }

  /**
   * The event object itself for its first attempt when it was accepted by this process (saves reading it back on
   * the hot path); the outbox drops it after that attempt, behind a waiting account, and beyond a fixed number held.
   */
  get fresh(): OutgoingEvent | null {
    return this.more?.fresh ?? null;
  }

  set fresh(event: OutgoingEvent | null) {
    if (event !== null || this.more) this.attempting().fresh = event;
  }

  get attempts(): number {
    return this.more?.attempts ?? 0;
  }

  set attempts(n: number) {
    this.attempting().attempts = n;
  }

  get lastReason(): string | null {
    return this.more?.lastReason ?? null;
  }

  set lastReason(reason: string | null) {
    if (reason !== null || this.more) this.attempting().lastReason = reason;
  }

  /** Set while an `ackAfter: "delivered"` append waits for this event. */
  get onFinal(): ((delivered: boolean, reason: string) => void) | null {
    return this.more?.onFinal ?? null;
  }

  set onFinal(callback: ((delivered: boolean, reason: string) => void) | null) {
    if (callback !== null || this.more) this.attempting().onFinal = callback;
  }
}
