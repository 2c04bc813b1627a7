/** The ledger's index of live events by sequence number: behaves like a Map kept in ascending key order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIndex } from '../../../src/sink/outbox/seq-index.js';

type Op = { kind: 'set'; seq: number } | { kind: 'delete'; seq: number } | { kind: 'append' } | { kind: 'drainFront'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('append' as const) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('set' as const), seq: fc.integer({ min: 1, max: 3000 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), seq: fc.integer({ min: 1, max: 3000 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('drainFront' as const), n: fc.integer({ min: 1, max: 1500 }) }), weight: 1 },
);

describe('SeqIndex', () => {
  it('matches a Map whose keys are kept sorted, through appends, inserts in place, deletes and compactions', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const index = new SeqIndex<string>();
        const model = new Map<number, string>();
        let next = 1;
        for (const o of ops) {
          if (o.kind === 'append') {
            // Mostly ascending, like journal order; a burst makes the gaps outnumber the events.
            for (let i = 0; i < 50; i++, next++) {
              index.set(next, `e${next}`);
              model.set(next, `e${next}`);
            }
          } else if (o.kind === 'set') {
            index.set(o.seq, `s${o.seq}`);
            model.set(o.seq, `s${o.seq}`);
          } else if (o.kind === 'delete') {
            expect(index.delete(o.seq)).toBe(model.delete(o.seq));
          } else {
            for (const seq of [...model.keys()].sort((a, b) => a - b).slice(0, o.n)) {
              index.delete(seq);
              model.delete(seq);
            }
          }
          expect(index.size).toBe(model.size);
        }
        const sorted = [...model.entries()].sort((a, b) => a[0] - b[0]);
        expect([...index.entries()]).toEqual(sorted);
        for (let seq = 0; seq <= Math.max(next, 3001); seq += 7) {
          expect(index.get(seq)).toBe(model.get(seq));
          expect(index.has(seq)).toBe(model.has(seq));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('iterates safely while events are deleted and added', () => {
    const index = new SeqIndex<number>();
    for (let seq = 1; seq <= 5000; seq++) index.set(seq, seq);
    const seen: number[] = [];
    for (const [seq] of index.entries()) {
      seen.push(seq);
      // Deleting what was seen forces compactions under the iterator; a new event is seen at the end.
      index.delete(seq);
      if (seq === 10) index.set(6000, 6000);
    }
    expect(seen).toEqual([...Array.from({ length: 5000 }, (_, i) => i + 1), 6000]);
    expect(index.size).toBe(0);
    expect(index.values().next().done).toBe(true);
  });
});
