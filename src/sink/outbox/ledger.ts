/**
 * The outbox's segment ledger, without files: which events are live (recorded without a final outcome), how many of
 * them each journal segment holds, and which outcome records a segment carries for events of older segments. A
 * journal scan rebuilds it at start (`add`); compaction asks it which segments can go and which outcomes must be
 * copied forward first (`compactionPlan`).
 */
import type { OutcomeKind, ScannedRecord } from './journal.js';
import { SeqIndex } from './seq-index.js';

/** What the ledger needs of a live event (the outbox's entries carry more). */
export interface LedgerEvent {
  seq: number;
  /** Null until known: recovered events leave it in the journal until their record is read back (memory). */
  id: string | null;
  /** Journal segment of the event record. */
  home: number;
}

/** An outcome record stored in a later segment than its event's. */
export interface CarriedOutcome {
  seq: number;
  home: number;
  outcome: OutcomeKind;
  id: string;
}

interface SegmentInfo {
  /** Events recorded in this segment without a final outcome (or, for delivered ones, without a need to keep them). */
  pending: number;
  /** Outcomes in this segment for events of older segments: copied forward before this segment is deleted. */
  carried: CarriedOutcome[];
}

/** An event record whose sequence number an earlier record already had (damage or a bug): skipped, reported. */
export interface DuplicateEvent {
  seq: number;
  segment: number;
  file: string;
  offset: number;
}

/** What compaction does, in order: delete `free`, append `carry` to the active segment, then delete `rest`. */
export interface CompactionPlan {
  free: number[];
  carry: CarriedOutcome[];
  rest: number[];
}

export class Ledger<E extends LedgerEvent> {
  /** Live events by sequence number, in journal order. */
  readonly live = new SeqIndex<E>();
  private readonly segments = new Map<number, SegmentInfo>();
  /**
   * Home segment of every event record the scan saw settled (to place outcome records that follow, copied-forward
   * ones); a live event's home is its entry's, so a backlog of pending events costs no second map.
   */
  private settledHomes = new Map<number, number>();
  /** Event records skipped because their sequence number was seen before (issue #15: reported, never fatal). */
  readonly duplicates: DuplicateEvent[] = [];
  maxSeq = 0;

  /**
   * @param revive builds the live event of a scanned event record found at `offset` (`size` bytes) in `segment`
   *               (the scan's buffers are views of the segment file: copy what is kept).
   */
  constructor(
    private readonly revive: (record: Extract<ScannedRecord, { type: 'event' }>, segment: number, offset: number, size: number) => E,
  ) {}

  private segment(n: number): SegmentInfo {
    let info = this.segments.get(n);
    if (!info) {
      info = { pending: 0, carried: [] };
      this.segments.set(n, info);
    }
    return info;
  }

  /**
   * Recovery: one scanned record (`size` bytes at `offset` of `segment`), in journal order. Returns the duplicate
   * when an event record repeats a sequence number: the first one is kept, this one skipped.
   */
  add(record: ScannedRecord, segment: number, file: string, offset: number, size = 0): DuplicateEvent | null {
    const info = this.segment(segment);
    if (record.seq > this.maxSeq) this.maxSeq = record.seq;
    if (record.type === 'event') {
      // Sequence numbers are handed out once per process and continue from the highest on disk.
      if (this.live.has(record.seq) || this.settledHomes.has(record.seq)) {
        const duplicate = { seq: record.seq, segment, file, offset };
        this.duplicates.push(duplicate);
        return duplicate;
      }
      info.pending++;
      this.live.set(record.seq, this.revive(record, segment, offset, size));
      return null;
    }
    const entry = this.live.get(record.seq);
    const home = entry?.home ?? this.settledHomes.get(record.seq);
    // No event record: its segment was compacted away after this outcome was copied forward.
    if (home === undefined) return null;
    if (entry) {
      this.live.delete(record.seq);
      this.settledHomes.set(record.seq, home);
      this.segment(home).pending--;
    }
    if (home !== segment) info.carried.push({ seq: record.seq, home, outcome: record.outcome, id: entry?.id ?? '' });
    return null;
  }

  /** The scan is over: the map that placed its outcome records is not needed any more (memory, issue #15). */
  recovered(): void {
    this.settledHomes = new Map();
  }

  /** New events, durable in `segment`, are live. */
  appended(events: readonly E[], segment: number): void {
    this.segment(segment).pending += events.length;
    for (const e of events) {
      e.home = segment;
      this.live.set(e.seq, e);
    }
  }

  /** The event has its final outcome (its segment may still have to keep it: see `release`). */
  settled(event: E): void {
    this.live.delete(event.seq);
  }

  /** The event needs no keeping any more; true when its segment now holds nothing pending. */
  release(event: LedgerEvent): boolean {
    const home = this.segments.get(event.home);
    if (!home) return false;
    home.pending--;
    return home.pending === 0;
  }

  /** Events pending in a segment. */
  pendingIn(segment: number): number {
    return this.segments.get(segment)?.pending ?? 0;
  }

  /** Outcome records were written to `segment`: those of older segments' events are carried by it. */
  outcomesWritten(segment: number, outcomes: readonly CarriedOutcome[]): void {
    const carried = outcomes.filter((o) => o.home !== segment);
    if (carried.length > 0) this.segment(segment).carried.push(...carried);
  }

  /**
   * Which of the segments on disk can go (not the active one, nothing pending), and which outcomes must be copied
   * forward first: those of events in kept segments. Segments go oldest first (an outcome always lies after its
   * event): those before the first one that carries such an outcome go at once, so a full disk (where the copy
   * cannot be written) still frees them, and no outcome is lost before its event.
   */
  compactionPlan(onDisk: readonly number[], active: number): CompactionPlan | null {
    const doomed = onDisk.filter((n) => n !== active && this.pendingIn(n) === 0);
    if (doomed.length === 0) return null;
    const gone = new Set(doomed);
    const carryOf = (n: number) => (this.segments.get(n)?.carried ?? []).filter((c) => !gone.has(c.home) && this.segments.has(c.home));
    const firstCarrying = doomed.findIndex((n) => carryOf(n).length > 0);
    if (firstCarrying < 0) return { free: doomed, carry: [], rest: [] };
    const rest = doomed.slice(firstCarrying);
    return {
      free: doomed.slice(0, firstCarrying),
      carry: [...new Map(rest.flatMap(carryOf).map((c) => [c.seq, c] as const)).values()],
      rest,
    };
  }

  /** The segment's file is gone. */
  forget(segment: number): void {
    this.segments.delete(segment);
  }
}
