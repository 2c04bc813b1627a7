import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGalaxyBlock, GalaxyFramer, parseGalaxyBlock, readGalaxyBlock } from '../../../src/protocols/galaxy/index.js';

const blockArb = fc.record({
  function: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  data: fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 63 }),
});

/** Feeds `bytes` cut at the given points (modulo its length) to a fresh framer. */
function frameInChunks(bytes: Buffer, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const framer = new GalaxyFramer();
  const blocks: string[] = [];
  let hellos = 0;
  let junk = 0;
  let from = 0;
  for (const point of [...points, bytes.length]) {
    const out = framer.push(bytes.subarray(from, point));
    blocks.push(...out.blocks.map((b) => b.toString('hex')));
    hellos += out.hellos;
    junk += out.junkBytes;
    from = point;
  }
  return { blocks, hellos, junk };
}

describe('Galaxy codec properties', () => {
  it('arbitrary bytes never throw: framer, parser and reader', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const out = new GalaxyFramer().push(bytes);
        for (const block of out.blocks) {
          expect(typeof parseGalaxyBlock(block).ok).toBe('boolean');
          expect(typeof readGalaxyBlock(block).kind).toBe('string');
        }
        expect(typeof parseGalaxyBlock(bytes).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('build → parse gives the block back', () => {
    fc.assert(
      fc.property(blockArb, (block) => {
        expect(parseGalaxyBlock(buildGalaxyBlock(block))).toEqual({ ok: true, block });
      }),
      { numRuns: 1000 },
    );
  });

  it('any chunking yields the same blocks, hellos and junk count', () => {
    const stream = fc
      .array(
        fc.oneof(
          blockArb.map((b) => buildGalaxyBlock(b)),
          fc.constant(Buffer.from([5, 1])),
          fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)),
        ),
        { maxLength: 10 },
      )
      .map((parts) => Buffer.concat(parts));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        expect(frameInChunks(bytes, cuts)).toEqual(frameInChunks(bytes, []));
      }),
      { numRuns: 1000 },
    );
  });

  it('built blocks in a stream come out exactly as built, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(blockArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (blocks, cuts) => {
        const built = blocks.map((b) => buildGalaxyBlock(b));
        expect(frameInChunks(Buffer.concat(built), cuts)).toEqual({ blocks: built.map((b) => b.toString('hex')), hellos: 0, junk: 0 });
      }),
      { numRuns: 500 },
    );
  });
});
