import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseQualifier } from '../../../src/protocols/contact-id/index.js';
import {
  buildSurgardCid,
  buildSurgardHeartbeat,
  buildSurgardSia,
  decodeSurgardForCli,
  parseSurgardRecord,
  splitGlued,
  SurgardFramer,
  withTerminator,
  type SurgardCidInput,
  type SurgardRecord,
} from '../../../src/protocols/surgard/index.js';

const chars = (alphabet: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));
const DIGITS = '0123456789';
const HEX = '0123456789ABCDEFabcdef';
const ALNUM = `${DIGITS}ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz`;

const receiver = chars(DIGITS, 2, 2);
const line = chars(ALNUM, 1, 4);
const account = chars(HEX, 4, 10);
const letterQualifier = fc.constantFrom('E', 'R', 'P', 'e', 'r', 'p');
const qualifier = fc.oneof(letterQualifier, fc.constantFrom('1', '3', '6'));
const eventFields = fc.record({ qualifier, code: chars(HEX, 3, 3), group: chars(HEX, 2, 2), zone: chars(HEX, 3, 3) });

const cidInput = (overrides: Partial<Record<keyof SurgardCidInput, fc.Arbitrary<unknown>>> = {}) =>
  fc
    .record({ receiver, line, account, spaceBefore18: fc.constant(true), ...overrides })
    .chain((head) => eventFields.map((fields) => ({ ...head, ...fields }) as SurgardCidInput));

const siaItem = fc
  .tuple(fc.option(chars(DIGITS, 1, 2)), fc.constantFrom('BA', 'BR', 'CL', 'OP', 'FA', 'YT'), chars(DIGITS, 3, 3))
  .map(([area, code, address]) => `${area === null ? '' : `ri${area}/`}${code}${address}`);
const siaData = fc
  .tuple(fc.option(chars(ALNUM, 1, 16)), fc.array(siaItem, { minLength: 1, maxLength: 4 }))
  .map(([acct, items]) => `${acct === null ? '' : `#${acct}|`}N${items.join('/')}`);

const terminator = fc.constantFrom('dc4' as const, 'cr' as const);
const leadingFill = fc.constantFrom('', '\n', ' ', '\n ');

/** Cuts `bytes` at the given points (taken modulo its length) and feeds the pieces to a fresh framer. */
function frameInChunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const framer = new SurgardFramer();
  const records: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    records.push(...framer.push(bytes.subarray(from, point)).records);
    from = point;
  }
  return records;
}
const cuts = fc.array(fc.nat(), { maxLength: 8 });

function cidOf(record: SurgardRecord | undefined) {
  if (record?.kind !== 'cid') throw new Error(`expected a Contact ID record, got ${JSON.stringify(record)}`);
  return record;
}

function expectSameCid(input: SurgardCidInput, record: SurgardRecord | undefined): void {
  const cid = cidOf(record);
  expect({ receiver: cid.receiver, line: cid.line, account: cid.account }).toEqual({
    receiver: input.receiver,
    line: input.line,
    account: input.account,
  });
  expect(cid.event).toMatchObject({
    qualifier: normaliseQualifier(input.qualifier),
    code: input.code,
    group: input.group,
    zone: input.zone,
  });
}

const parsed = (bytes: Buffer | undefined) => {
  const result = parseSurgardRecord(bytes ?? Buffer.alloc(0));
  if (!result.ok) throw new Error(result.error);
  return result.record;
};

describe('build → frame with random chunking → parse (docs/surgard.md §2)', () => {
  it('Contact ID with the space before 18: every line width 1–4 and account 4–10', () => {
    fc.assert(
      fc.property(cidInput(), terminator, leadingFill, cuts, (input, term, fill, at) => {
        const records = frameInChunks(withTerminator(fill + buildSurgardCid(input), term), at);
        expect(records).toHaveLength(1);
        expectSameCid(input, parsed(records[0]));
      }),
      { numRuns: 500 },
    );
  });

  it('Contact ID without the space, MLR2 / System III widths and a letter qualifier', () => {
    const input = cidInput({
      line: fc.oneof(chars(ALNUM, 1, 1), chars(ALNUM, 3, 3)),
      account: chars(HEX, 4, 4),
      spaceBefore18: fc.constant(false),
    }).chain((i) => letterQualifier.map((q) => ({ ...i, qualifier: q })));
    fc.assert(
      fc.property(input, terminator, cuts, (i, term, at) => {
        const records = frameInChunks(withTerminator(buildSurgardCid(i), term), at);
        expect(records).toHaveLength(1);
        expectSameCid(i, parsed(records[0]));
      }),
      { numRuns: 500 },
    );
  });

  it('Contact ID without the space, any widths: one consistent reading, or "ambiguous"', () => {
    fc.assert(
      fc.property(cidInput({ spaceBefore18: fc.constant(false) }), (input) => {
        const text = buildSurgardCid(input);
        const result = parseSurgardRecord(text);
        if (!result.ok) {
          expect(result.code).toBe('ambiguous');
          return;
        }
        const cid = cidOf(result.record);
        const middle = text.slice(3, -9);
        expect([`${cid.line}18${cid.account}`, `${cid.line}${cid.account}18`]).toContain(middle);
        expect(cid.event).toMatchObject({ code: input.code, group: input.group, zone: input.zone });
      }),
      { numRuns: 500 },
    );
  });

  it('heartbeats', () => {
    fc.assert(
      fc.property(receiver, line, terminator, leadingFill, cuts, (rr, l, term, fill, at) => {
        const records = frameInChunks(withTerminator(fill + buildSurgardHeartbeat({ receiver: rr, line: l }), term), at);
        expect(records).toHaveLength(1);
        expect(parsed(records[0])).toEqual({ kind: 'heartbeat', receiver: rr, line: l });
      }),
    );
  });

  it('SIA records', () => {
    fc.assert(
      fc.property(receiver, line, siaData, terminator, cuts, (rr, l, data, term, at) => {
        const records = frameInChunks(withTerminator(buildSurgardSia({ receiver: rr, line: l, data }), term), at);
        expect(records).toHaveLength(1);
        const record = parsed(records[0]);
        expect(record).toMatchObject({ kind: 'sia', receiver: rr, line: l, data });
        const items = data
          .slice(data.indexOf('|') + 1)
          .split('/')
          .filter((item) => /[A-Z]{2}\d{3}$/.test(item));
        expect(record.kind === 'sia' && record.events.length).toBe(items.length);
      }),
    );
  });
});

describe('glued records through the framer', () => {
  const anyRecord = fc.oneof(
    cidInput().map(buildSurgardCid),
    fc.tuple(receiver, line).map(([rr, l]) => buildSurgardHeartbeat({ receiver: rr, line: l })),
    fc.tuple(receiver, line, siaData).map(([rr, l, data]) => buildSurgardSia({ receiver: rr, line: l, data })),
  );

  it('2–6 copies of any record, glued, come out as that many records in order', () => {
    fc.assert(
      fc.property(anyRecord, fc.integer({ min: 2, max: 6 }), fc.boolean(), cuts, (record, n, terminated, at) => {
        const glued = record.repeat(n);
        expect(splitGlued(glued)).toEqual(Array(n).fill(record));
        const bytes = terminated ? withTerminator(glued) : Buffer.from(glued, 'latin1');
        const out = frameInChunks(bytes, at).map((b) => b.toString('latin1'));
        expect(out).toEqual(Array(terminated ? n : n - 1).fill(record));
      }),
      { numRuns: 300 },
    );
  });

  it('a stream of different records, some glued, keeps every record in order', () => {
    // Records whose shortest reading is the whole record: 4-digit accounts (docs/surgard.md §2 MLR2 width).
    const mlr2Record = fc.oneof(
      cidInput({ account: chars(HEX, 4, 4) }).map(buildSurgardCid),
      fc.tuple(receiver, line).map(([rr, l]) => buildSurgardHeartbeat({ receiver: rr, line: l })),
      fc.tuple(receiver, line, siaData).map(([rr, l, data]) => buildSurgardSia({ receiver: rr, line: l, data })),
    );
    const unit = fc.tuple(fc.array(mlr2Record, { minLength: 1, maxLength: 3 }), terminator, leadingFill);
    fc.assert(
      fc.property(fc.array(unit, { minLength: 1, maxLength: 5 }), cuts, (units, at) => {
        const bytes = Buffer.concat(units.map(([records, term, fill]) => withTerminator(fill + records.join(''), term)));
        const out = frameInChunks(bytes, at).map((b) => b.toString('latin1'));
        expect(out).toEqual(units.flatMap(([records]) => records));
        expect(out.every((text) => parseSurgardRecord(text).ok)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('never throws', () => {
  const recordLike = chars(`${DIGITS}ABCDEFERPS#|[]/@ \n\r\x14Nri`, 0, 60);
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    recordLike.map((t) => new Uint8Array(Buffer.from(t, 'latin1'))),
  );

  it('parseSurgardRecord, decodeSurgardForCli and splitGlued on arbitrary input', () => {
    fc.assert(
      fc.property(bytes, (raw) => {
        const buffer = Buffer.from(raw);
        const text = buffer.toString('latin1');
        for (const result of [parseSurgardRecord(buffer), parseSurgardRecord(text)]) {
          expect(typeof result.ok).toBe('boolean');
          if (!result.ok) expect(typeof result.error).toBe('string');
        }
        const report = decodeSurgardForCli(buffer);
        expect(report.reply.kind).toBe(report.ok ? 'ACK' : 'NAK');
        expect(splitGlued(text).join('').length).toBeLessThanOrEqual(text.length);
        expect(splitGlued(text).join('')).toBe(text); // the pieces are the text cut apart, nothing dropped
      }),
      { numRuns: 2000 },
    );
  });

  it('the framer on arbitrary chunks, with a small cap', () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 8 }), (chunks) => {
        const framer = new SurgardFramer({ maxRecordBytes: 48 });
        for (const chunk of chunks) {
          const out = framer.push(chunk);
          for (const record of out.records) {
            expect(record.length).toBeGreaterThan(0);
            expect(record.length).toBeLessThanOrEqual(48);
            expect(record.includes(0x14)).toBe(false);
            expect(record.includes(0x0d)).toBe(false);
          }
          expect(framer.bufferedBytes).toBeLessThanOrEqual(48);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
