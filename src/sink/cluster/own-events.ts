/**
 * The events this instance just stored, by stream sequence, while it also delivers (docs/cluster.md §5): when the
 * consumer hands such a message over, delivery takes the event as it was mapped instead of parsing the stored JSON
 * again. Only what the consumer has not passed yet is kept: taking a sequence forgets every older one, so the map
 * holds the events between their PubAck and their delivery (a few per panel in flight), whatever happens to them.
 * A message it does not hold (another instance's, a redelivery, one stored before this instance delivered) is
 * decoded from the stream as always.
 */
import type { OutgoingEvent } from '../types.js';

/** Held at most (a backlog the consumer has not reached yet is decoded later instead of held). */
export const OWN_EVENTS_MAX = 10_000;

export class OwnEvents {
  /** Insertion order is stream order (PubAcks arrive in the order the server stored the messages). */
  private readonly bySeq = new Map<number, OutgoingEvent>();
  /** The consumer's last sequence handed over: anything at or below it will not be asked for again. */
  private passed = 0;

  constructor(private readonly max = OWN_EVENTS_MAX) {}

  /** Remembers `event`, stored as stream message `seq`. */
  keep(seq: number, event: OutgoingEvent): void {
    if (seq <= this.passed || this.bySeq.size >= this.max) return;
    this.bySeq.set(seq, event);
  }

  /** The event stored as `seq` if this instance kept it; forgets it and every older one. */
  take(seq: number): OutgoingEvent | undefined {
    if (seq > this.passed) this.passed = seq;
    const event = this.bySeq.get(seq);
    for (const kept of this.bySeq.keys()) {
      if (kept > seq) break;
      this.bySeq.delete(kept);
    }
    return event;
  }

  /** Forgets everything (this instance stopped delivering). */
  clear(): void {
    this.bySeq.clear();
    this.passed = 0;
  }

  get size(): number {
    return this.bySeq.size;
  }
}
