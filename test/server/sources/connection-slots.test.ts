import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionSlots, type SlotHolder } from '../../../src/server/sources/connection-slots.js';

interface Held extends SlotHolder {
  lastActiveMs: number;
  busy: boolean;
  id: number;
}

let nextId = 0;
const held = (source: string, lastActiveMs = 0, busy = false): Held => ({ source, lastActiveMs, busy, id: nextId++ });

/** Admits a connection from `source` the way the TCP server does: releases (closes) the evicted one, takes a slot. */
function connect(slots: ConnectionSlots<Held>, source: string, lastActiveMs = 0) {
  const admission = slots.admit(source);
  if (!admission.admit) return admission;
  const h = held(source, lastActiveMs);
  slots.add(h);
  return { ...admission, holder: h };
}

describe('ConnectionSlots', () => {
  it('admits anything under the cap', () => {
    const slots = new ConnectionSlots<Held>(3);
    for (let i = 0; i < 3; i++) expect(connect(slots, '10.0.0.1')).toMatchObject({ admit: true, evict: null });
    expect(slots.size).toBe(3);
  });

  it('at the cap, a source holding its fair share is refused', () => {
    const slots = new ConnectionSlots<Held>(4);
    for (let i = 0; i < 4; i++) connect(slots, '10.0.0.1');
    expect(slots.admit('10.0.0.1')).toEqual({ admit: false, reason: 'max-connections' });
  });

  it('at the cap, a new source takes the longest-idle connection of the source holding the most', () => {
    const slots = new ConnectionSlots<Held>(4);
    connect(slots, 'A', 50);
    connect(slots, 'A', 10);
    connect(slots, 'A', 30);
    connect(slots, 'B', 0);
    const admission = slots.admit('C');
    expect(admission).toMatchObject({ admit: true, evict: { source: 'A', lastActiveMs: 10 } });
    expect(slots.heldBy('A')).toBe(2); // released already, before its socket closes
    expect(slots.size).toBe(3);
  });

  it('does not evict a connection whose frames wait for their reply, and refuses when all of them do', () => {
    const slots = new ConnectionSlots<Held>(2);
    const older = held('A', 1, true);
    const newer = held('A', 2);
    slots.add(older);
    slots.add(newer);
    expect(slots.admit('B')).toEqual({ admit: true, evict: newer });
    const busy = new ConnectionSlots<Held>(2);
    busy.add(held('A', 1, true));
    busy.add(held('A', 2, true));
    expect(busy.admit('B')).toEqual({ admit: false, reason: 'max-connections' });
  });

  it('maxPerSource refuses a source at its own cap even below the global one', () => {
    const slots = new ConnectionSlots<Held>(100, 2);
    connect(slots, 'A');
    connect(slots, 'A');
    expect(slots.admit('A')).toEqual({ admit: false, reason: 'max-connections-per-source' });
    expect(slots.admit('B')).toMatchObject({ admit: true });
  });

  it('perSource: false leaves maxPerSource out (a balancer connection before its PROXY header), not the global cap', () => {
    const slots = new ConnectionSlots<Held>(3, 1);
    connect(slots, 'LB');
    expect(slots.admit('LB')).toEqual({ admit: false, reason: 'max-connections-per-source' });
    expect(slots.admit('LB', { perSource: false })).toEqual({ admit: true, evict: null });
    connect(slots, 'B');
    connect(slots, 'C');
    expect(slots.admit('LB', { perSource: false })).toEqual({ admit: false, reason: 'max-connections' });
  });

  it('releasing twice (evicted, then its socket closes) gives the slot back once', () => {
    const slots = new ConnectionSlots<Held>(2);
    const a = connect(slots, 'A') as { holder: Held };
    slots.release(a.holder);
    slots.release(a.holder);
    expect(slots.size).toBe(0);
    expect(slots.heldBy('A')).toBe(0);
  });

  it('property: never over the cap, and a source under its fair share always gets in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.record({ source: fc.constantFrom('A', 'B', 'C', 'D'), close: fc.boolean(), at: fc.nat(1000) }), { maxLength: 80 }),
        (cap, steps) => {
          const slots = new ConnectionSlots<Held>(cap);
          const open: Held[] = [];
          for (const step of steps) {
            if (step.close && open.length > 0) {
              slots.release(open.splice(step.at % open.length, 1)[0]!);
              continue;
            }
            const sources = new Set(open.map((h) => h.source)).add(step.source).size;
            const mine = open.filter((h) => h.source === step.source).length;
            const admission = slots.admit(step.source);
            if (open.length >= cap && mine < Math.floor(cap / sources)) expect(admission.admit).toBe(true);
            if (!admission.admit) continue;
            if (admission.evict) open.splice(open.indexOf(admission.evict), 1);
            const h = held(step.source, step.at);
            slots.add(h);
            open.push(h);
            expect(slots.size).toBe(open.length);
            expect(open.length).toBeLessThanOrEqual(cap);
          }
        },
      ),
    );
  });
});
