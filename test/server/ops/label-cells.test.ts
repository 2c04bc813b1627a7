import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LabelCells } from '../../../src/server/ops/label-cells.js';

/** A counter whose `collect` hook flushes its cells, as BridgeMetrics wires them. */
function counter<L extends string>(labelNames: readonly L[]) {
  const registry = new Registry();
  let cells: LabelCells<L> | null = null;
  const c = new Counter<L>({ name: 'test_total', help: 'test', labelNames, registers: [registry], collect: () => cells?.flush() });
  cells = new LabelCells(c, labelNames);
  const values = async () => Object.fromEntries((await c.get()).values.map((v) => [labelNames.map((n) => v.labels[n]).join('/'), v.value]));
  return { registry, counter: c, cells, values };
}

describe('LabelCells', () => {
  it('counts per label set and adds the counts to the counter when it is read', async () => {
    const t = counter(['transport', 'token', 'result'] as const);
    t.cells.inc('tcp', 'SIA-DCS', 'accepted');
    t.cells.inc('tcp', 'SIA-DCS', 'accepted');
    t.cells.inc('udp', 'SIA-DCS', 'accepted');
    t.cells.inc('tcp', 'ADM-CID', 'accepted', undefined);
    t.cells.inc('tcp', 'SIA-DCS', 'not-accepted', 5);
    expect(await t.values()).toEqual({
      'tcp/SIA-DCS/accepted': 2,
      'udp/SIA-DCS/accepted': 1,
      'tcp/ADM-CID/accepted': 1,
      'tcp/SIA-DCS/not-accepted': 5,
    });
    // Read twice: nothing counted twice; later counts add up.
    t.cells.inc('tcp', 'SIA-DCS', 'accepted');
    expect((await t.values())['tcp/SIA-DCS/accepted']).toBe(3);
    expect(await t.registry.metrics()).toContain('test_total{transport="tcp",token="SIA-DCS",result="accepted"} 3');
  });

  it('adds to what the counter was given directly, for one label too', async () => {
    const t = counter(['outcome'] as const);
    t.counter.inc({ outcome: 'forwarded' }, 10);
    t.cells.inc('forwarded');
    t.cells.inc('duplicate', undefined, undefined, 2);
    expect(await t.values()).toEqual({ forwarded: 11, duplicate: 2 });
  });
});
