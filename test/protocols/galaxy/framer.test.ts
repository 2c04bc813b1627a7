import { describe, expect, it } from 'vitest';
import { buildGalaxyBlock, GalaxyFramer } from '../../../src/protocols/galaxy/index.js';

const ACCOUNT = buildGalaxyBlock({ function: '#', data: '123456' });
const EVENT = buildGalaxyBlock({ function: 'N', data: 'ti11:46/BA1011' });
const END = buildGalaxyBlock({ function: '0', data: '' });
const HELLO = Buffer.from([0x05, 0x01]);
const hexes = (blocks: Buffer[]) => blocks.map((b) => b.toString('hex'));

describe('GalaxyFramer (docs/sia-dcs.md §4)', () => {
  it('cuts blocks by their header length; the hello is recognised, not junk', () => {
    const out = new GalaxyFramer().push(Buffer.concat([HELLO, ACCOUNT, EVENT, END]));
    expect(hexes(out.blocks)).toEqual(hexes([ACCOUNT, EVENT, END]));
    expect(out).toMatchObject({ hellos: 1, junkBytes: 0 });
  });

  it('holds an unfinished block (and a hello split after its first byte) until the rest arrives', () => {
    const framer = new GalaxyFramer();
    expect(framer.push(Buffer.from([0x05])).hellos).toBe(0);
    const first = framer.push(Buffer.concat([Buffer.from([0x01]), EVENT.subarray(0, 5)]));
    expect(first).toMatchObject({ blocks: [], hellos: 1, junkBytes: 0 });
    expect(framer.bufferedBytes).toBe(5);
    expect(hexes(framer.push(EVENT.subarray(5)).blocks)).toEqual(hexes([EVENT]));
    expect(framer.bufferedBytes).toBe(0);
  });

  it('drops and counts bytes that cannot open a block, and resumes at the next header', () => {
    const out = new GalaxyFramer().push(Buffer.concat([Buffer.from([0x00, 0x0d, 0x90, 0x05, 0x02]), END]));
    expect(hexes(out.blocks)).toEqual(hexes([END]));
    expect(out.junkBytes).toBe(5);
  });

  it('holds at most one unfinished block', () => {
    const framer = new GalaxyFramer();
    framer.push(Buffer.from([0x7f, 0x41, ...Buffer.alloc(40, 0x78)]));
    expect(framer.bufferedBytes).toBe(42);
    framer.reset();
    expect(framer.bufferedBytes).toBe(0);
  });
});
