/** The segment ledger without files: what recovery rebuilds from scanned records, and the compaction plan. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutcomeKind, ScannedRecord } from '../../../src/sink/outbox/journal.js';
import { Ledger, type LedgerEvent } from '../../../src/sink/outbox/ledger.js';

const revive = (record: Extract<ScannedRecord, { type: 'event' }>, segment: number): LedgerEvent => ({
  seq: record.seq,
  id: record.id,
  home: segment,
});
const event = (seq: number): ScannedRecord => ({
  type: 'event',
  seq,
  acceptedAt: 0,
  account: 'A',
  id: `e${seq}`,
  payload: Buffer.alloc(0),
});
const outcome = (seq: number, kind: OutcomeKind = 'delivered'): ScannedRecord => ({ type: 'outcome', seq, outcome: kind });

/** A ledger rebuilt from segments of records, as a journal scan hands them over. */
function recovered(segments: ScannedRecord[][]): Ledger<LedgerEvent> {
  const ledger = new Ledger(revive);
  segments.forEach((records, n) => records.forEach((r, i) => ledger.add(r, n + 1, `${n + 1}.journal`, i)));
  return ledger;
}

describe('Ledger recovery', () => {
  it('keeps events without an outcome live, in journal order, and counts them per segment', () => {
    const ledger = recovered([
      [event(1), event(2), outcome(1)],
      [event(3), outcome(2), event(4)],
    ]);
    expect([...ledger.live.keys()]).toEqual([3, 4]);
    expect(ledger.live.get(3)).toEqual({ seq: 3, id: 'e3', home: 2 });
    expect(ledger.pendingIn(1)).toBe(0);
    expect(ledger.pendingIn(2)).toBe(2);
    expect(ledger.maxSeq).toBe(4);
  });

  it('ignores an outcome whose event segment was compacted away; keeps the first of a sequence number seen twice and reports the second', () => {
    const ledger = recovered([[outcome(7, 'dead'), event(8)]]);
    expect([...ledger.live.keys()]).toEqual([8]);
    expect(ledger.maxSeq).toBe(8);
    const twice = recovered([[event(1)], [event(1), event(2)]]);
    expect([...twice.live.keys()]).toEqual([1, 2]);
    expect(twice.live.get(1)).toEqual({ seq: 1, id: 'e1', home: 1 });
    expect(twice.duplicates).toEqual([{ seq: 1, segment: 2, file: '2.journal', offset: 0 }]);
    expect(twice.pendingIn(2)).toBe(1);
  });
});

describe('Ledger compaction plan', () => {
  it('deletes finished segments but never the active one; nothing to do is null', () => {
    const ledger = recovered([[event(1), outcome(1)], [event(2), outcome(2)], [event(3)]]);
    expect(ledger.compactionPlan([1, 2, 3], 3)).toEqual({ free: [1, 2], carry: [], rest: [] });
    expect(ledger.compactionPlan([1, 2, 3], 2)).toEqual({ free: [1], carry: [], rest: [] });
    expect(recovered([[event(1)]]).compactionPlan([1, 2], 2)).toBeNull();
  });

  it('copies forward the outcomes a deleted segment carries for events of kept segments, after freeing the segments before it', () => {
    // Segment 1 keeps event 1 (pending); segment 2 is finished but carries the outcome of event 2 of segment 1.
    const ledger = recovered([[event(1), event(2)], [outcome(2, 'dead'), event(3), outcome(3)], [event(4), outcome(4)], [event(5)]]);
    expect(ledger.pendingIn(1)).toBe(1);
    expect(ledger.compactionPlan([1, 2, 3, 4], 4)).toEqual({
      free: [],
      carry: [{ seq: 2, home: 1, outcome: 'dead', id: 'e2' }],
      rest: [2, 3],
    });
  });

  it('drops carried outcomes whose event segment goes too', () => {
    const ledger = recovered([[event(1)], [outcome(1), event(2), outcome(2)], [event(3)]]);
    expect(ledger.compactionPlan([1, 2, 3], 3)).toEqual({ free: [1, 2], carry: [], rest: [] });
  });

  it('follows live appends, releases and outcomes written to a later segment', () => {
    const ledger = new Ledger(revive);
    const [a, b] = [
      { seq: 1, id: 'a', home: 0 },
      { seq: 2, id: 'b', home: 0 },
    ];
    ledger.appended([a, b], 1);
    expect(a.home).toBe(1);
    ledger.settled(a);
    expect(ledger.release(a)).toBe(false);
    ledger.settled(b);
    expect(ledger.release(b)).toBe(true);
    ledger.outcomesWritten(2, [
      { seq: 1, home: 1, outcome: 'delivered', id: 'a' },
      { seq: 3, home: 2, outcome: 'delivered', id: 'c' },
    ]);
    expect(ledger.live.size).toBe(0);
    // Segment 1 goes as it is; segment 2 (not active) carries a's outcome, whose event goes with segment 1.
    expect(ledger.compactionPlan([1, 2, 3], 3)).toEqual({ free: [1, 2], carry: [], rest: [] });
    ledger.forget(1);
    expect(ledger.compactionPlan([2, 3], 3)).toEqual({ free: [2], carry: [], rest: [] });
  });

  it('property: a plan never deletes the active segment or one with pending events, and carries every outcome of a kept event', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat({ max: 30 }), { maxLength: 6 }), { minLength: 1, maxLength: 6 }), (layout) => {
        // Each segment records events and the outcomes of some earlier events (ids from the layout, each once).
        const ledger = new Ledger(revive);
        let seq = 0;
        const finished = new Set<number>();
        const homes = new Map<number, number>();
        const outcomesIn: Array<{ segment: number; seq: number }> = [];
        layout.forEach((picks, n) => {
          for (const pick of picks) {
            ledger.add(event(++seq), n + 1, 'f', 0);
            homes.set(seq, n + 1);
            const done = (pick % seq) + 1;
            if (!finished.has(done)) {
              finished.add(done);
              ledger.add(outcome(done), n + 1, 'f', 0);
              outcomesIn.push({ segment: n + 1, seq: done });
            }
          }
        });
        const segments = layout.map((_, n) => n + 1);
        const active = segments.length;
        const plan = ledger.compactionPlan(segments, active);
        if (!plan) return;
        const deleted = new Set([...plan.free, ...plan.rest]);
        expect(deleted.has(active)).toBe(false);
        for (const n of deleted) expect(ledger.pendingIn(n)).toBe(0);
        for (const c of plan.carry) expect(deleted.has(c.home)).toBe(false);
        const carried = new Set(plan.carry.map((c) => c.seq));
        for (const o of outcomesIn) {
          if (!deleted.has(o.segment) || deleted.has(homes.get(o.seq)!)) continue;
          // The outcome of an event whose segment stays is copied forward before its own segment goes.
          expect(carried.has(o.seq)).toBe(true);
          expect(plan.rest).toContain(o.segment);
        }
      }),
      { numRuns: 200 },
    );
  });
});
