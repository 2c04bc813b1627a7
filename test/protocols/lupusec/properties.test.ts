import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLupusecMessage, LupusecFramer, parseLupusecMessage } from '../../../src/protocols/lupusec/index.js';

const printable = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.: '.split('')), minLength: min, maxLength: max });
const subscriber = printable(1, 16)
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const hexField = (width: number) => fc.stringMatching(new RegExp(`^[0-9A-F]{${width}}$`));
const input = fc.record({
  subscriber,
  qualifier: fc.constantFrom('1', '3', '6'),
  code: hexField(3),
  group: hexField(2),
  zone: hexField(3),
});

function frameInChunks(bytes: Buffer, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const framer = new LupusecFramer();
  const messages: string[] = [];
  let junk = 0;
  let from = 0;
  for (const point of [...points, bytes.length]) {
    const out = framer.push(bytes.subarray(from, point));
    messages.push(...out.messages.map((m) => m.toString('latin1')));
    junk += out.junkBytes;
    from = point;
  }
  return { messages, junk };
}

describe('Lupusec codec properties', () => {
  it('arbitrary bytes never throw: framer and parser', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'[] 0189ABtest\r\n'.split('')), maxLength: 80 }).map((s) => Buffer.from(s, 'latin1')),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        for (const message of new LupusecFramer().push(b).messages) expect(typeof parseLupusecMessage(message).ok).toBe('boolean');
        expect(typeof parseLupusecMessage(b).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('build → parse gives the subscriber and fields back, with a good check digit', () => {
    fc.assert(
      fc.property(input, (i) => {
        expect(parseLupusecMessage(buildLupusecMessage(i))).toMatchObject({
          ok: true,
          message: {
            subscriber: i.subscriber,
            event: { qualifier: i.qualifier, code: i.code, group: i.group, zone: i.zone, checksumOk: true },
          },
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('any chunking yields the same messages and junk count', () => {
    const stream = fc
      .array(
        fc.oneof(
          input.map((i) => buildLupusecMessage(i)),
          fc.string({ maxLength: 80 }).map((s) => Buffer.from(s, 'latin1')),
        ),
        { maxLength: 8 },
      )
      .map((parts) => Buffer.concat(parts));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        expect(frameInChunks(bytes, cuts)).toEqual(frameInChunks(bytes, []));
      }),
      { numRuns: 1000 },
    );
  });
});
