import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataDecodeResult, PanelEvent, SiaEvent } from '../../../src/protocols/events.js';
import { parseSiaData, SIA_CODES } from '../../../src/protocols/sia/index.js';

type ExpectedEvent = Partial<SiaEvent>;

interface ValidCase {
  name: string;
  data: string;
  account: string | null;
  events: ExpectedEvent[];
}

function siaEvents(result: DataDecodeResult): SiaEvent[] {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result.events.filter((e: PanelEvent): e is SiaEvent => e.protocol === 'sia');
}

/** The data blocks of fixtures/dc09-samples.jsonl lines with `sia` expectations (docs/dc09.md §19). */
const SAMPLE_CASES: ValidCase[] = [
  {
    name: 'Ajax periodic test',
    data: '#0000|Nri0/RP0000',
    account: '0000',
    events: [{ code: 'RP', area: '0', address: '0000', category: 'test' }],
  },
  {
    name: 'Ajax night mode off via device',
    data: '#0000|Nri1/NP501',
    account: '0000',
    events: [{ code: 'NP', area: '1', address: '501', category: 'opening' }],
  },
  {
    name: 'Ajax user code tamper cancelled',
    data: '#AAA|Nri2/JC12',
    account: 'AAA',
    events: [{ code: 'JC', area: '2', address: '12', addressKind: 'area' }],
  },
  {
    name: 'Ajax photo by scenario',
    data: '#AAA|Nri1/PE501',
    account: 'AAA',
    events: [{ code: 'PE', area: '1', address: '501', known: true }],
  },
  {
    name: 'Ajax malfunction restore',
    data: '#AAA|Nri1/XC12',
    account: 'AAA',
    events: [{ code: 'XC', area: '1', address: '12', category: 'trouble-restore' }],
  },
  {
    name: 'caret text, no "/" after ri',
    data: '#000110|Nri0RP2^SL 1807110200065423^',
    account: '000110',
    events: [{ code: 'RP', area: '0', address: '2', text: 'SL 1807110200065423' }],
  },
  {
    name: 'Satel pi modifier, empty address',
    data: '#0000|Npi0/AT',
    account: '0000',
    events: [{ code: 'AT', area: '0', address: '', modifiers: { pi: '0' }, addressKind: 'none' }],
  },
  {
    name: '10-digit account, N + BA4',
    data: '#7303658550|NBA4',
    account: '7303658550',
    events: [{ code: 'BA', area: null, address: '4', modifiers: {} }],
  },
  { name: 'no header account', data: '#9999|NBA2', account: '9999', events: [{ code: 'BA', address: '2', category: 'alarm' }] },
  {
    name: '|A ASCII block',
    data: '#1234|NRR|Atest',
    account: '1234',
    events: [{ code: 'RR', address: '', text: 'test', category: 'system' }],
  },
  { name: 'no account wrapper', data: 'Nri1/WA000', account: null, events: [{ code: 'WA', area: '1', address: '000', category: 'alarm' }] },
  { name: 'decrypted AES sample', data: '#1234|Nri1/BA01', account: '1234', events: [{ code: 'BA', area: '1', address: '01' }] },
  {
    name: 'caret text with trailing space',
    data: '#123456|Nri1CL0^VX FRONTE ^',
    account: '123456',
    events: [{ code: 'CL', area: '1', address: '0', text: 'VX FRONTE ', category: 'closing' }],
  },
];

/** docs/sia-dcs.md §1 grammar cases beyond the samples. */
const GRAMMAR_CASES: ValidCase[] = [
  {
    name: 'several events in one block',
    data: 'Nri1/BA01/BA02',
    account: null,
    events: [
      { code: 'BA', address: '01', area: '1' },
      { code: 'BA', address: '02', area: '1' },
    ],
  },
  {
    name: 'modifiers carry forward and are replaced',
    data: 'Nri1/id3/CL1/ri2/OP1',
    account: null,
    events: [
      { code: 'CL', address: '1', area: '1', user: '3', modifiers: { ri: '1', id: '3' } },
      { code: 'OP', address: '1', area: '2', user: '3', modifiers: { ri: '2', id: '3' } },
    ],
  },
  { name: 'NNL2 is N + NL2', data: 'NNL2', account: null, events: [{ code: 'NL', address: '2', function: 'N', category: 'closing' }] },
  {
    name: 'Ajax empty account',
    data: '|Nri1/CL501',
    account: null,
    events: [{ code: 'CL', address: '501', area: '1', category: 'closing', addressKind: 'user' }],
  },
  {
    name: 'Galaxy time modifier',
    data: 'Nti11:46/BA1011',
    account: null,
    events: [{ code: 'BA', address: '1011', area: null, user: null, modifiers: { ti: '11:46' } }],
  },
  {
    name: 'Galaxy id + pi, code without address',
    data: 'Nid001/pi010/CL',
    account: null,
    events: [{ code: 'CL', address: '', area: '010', user: '001', modifiers: { id: '001', pi: '010' } }],
  },
  { name: 'ri wins over pi for the area', data: 'Npi2/ri1/BA1', account: null, events: [{ area: '1', modifiers: { pi: '2', ri: '1' } }] },
  {
    name: 'other lower-case modifiers',
    data: 'Nda12-22-21/va1440/RP',
    account: null,
    events: [{ code: 'RP', modifiers: { da: '12-22-21', va: '1440' } }],
  },
  { name: 'O function (old event)', data: '#1234|Ori1/BA3', account: '1234', events: [{ code: 'BA', address: '3', function: 'O' }] },
  { name: 'no function letter', data: 'ri1/BA01', account: null, events: [{ code: 'BA', address: '01', area: '1', function: 'N' }] },
  {
    name: 'no function letter, code starting with O',
    data: 'OP1',
    account: null,
    events: [{ code: 'OP', address: '1', function: 'N', category: 'opening' }],
  },
  {
    name: 'XSIA-style *text*',
    data: '#alarm2|Nri1OP0001*Familie*',
    account: 'alarm2',
    events: [{ code: 'OP', address: '0001', text: 'Familie' }],
  },
  {
    name: "XSIA-style *'text'NM (docs/sia-dcs.md §1)",
    data: "#1234|Nri1OP0001*'Familie'NM",
    account: '1234',
    events: [{ code: 'OP', address: '0001', text: 'Familie' }],
  },
  {
    name: "XSIA-style *''NM, then another event",
    data: "Nri1OP0001*''NM/BA2",
    account: null,
    events: [
      { code: 'OP', text: '' },
      { code: 'BA', address: '2', text: null },
    ],
  },
  {
    name: 'account without "#" (docs/dc09.md §7, ioBroker.sia comment)',
    data: 'alarm2|Nri1OP0001*Familie*',
    account: 'alarm2',
    events: [{ code: 'OP', address: '0001', text: 'Familie' }],
  },
  {
    name: 'account without "#" (DC09Gen)',
    data: '1234|NFA129',
    account: '1234',
    events: [{ code: 'FA', address: '129', category: 'alarm' }],
  },
  { name: '|A block is not mistaken for an account', data: 'NRR|Atest', account: null, events: [{ code: 'RR', text: 'test' }] },
  {
    name: '|A text only where no caret text',
    data: 'Nri1/BA1^own^/BA2|Ashared',
    account: null,
    events: [
      { code: 'BA', text: 'own' },
      { code: 'BA', text: 'shared' },
    ],
  },
  { name: '|A text may hold structural characters', data: 'NRR|A a/b|c^d', account: null, events: [{ code: 'RR', text: ' a/b|c^d' }] },
  { name: 'empty items and a trailing "/"', data: 'N//BA1/', account: null, events: [{ code: 'BA', address: '1' }] },
  { name: 'alphanumeric address', data: 'NBA12ab', account: null, events: [{ code: 'BA', address: '12ab' }] },
  {
    name: 'unknown code',
    data: '#1234|Nri1/QQ7',
    account: '1234',
    events: [
      {
        code: 'QQ',
        address: '7',
        known: false,
        category: 'unknown',
        description: 'Unknown SIA code QQ',
        addressKind: 'zone',
      },
    ],
  },
  { name: '16-character account', data: '#0123456789abcdef|NBA1', account: '0123456789abcdef', events: [{ code: 'BA' }] },
];

const EMPTY_CASES: ValidCase[] = [
  { name: 'empty data', data: '', account: null, events: [] },
  { name: 'account only', data: '#1234|', account: '1234', events: [] },
  { name: 'function letter only', data: '#1234|N', account: '1234', events: [] },
  { name: 'modifiers only', data: 'Nri1/id2', account: null, events: [] },
  { name: 'bare bar', data: '|', account: null, events: [] },
];

describe('parseSiaData: valid blocks', () => {
  it('answers an error, not an exception, for data that is not text', () => {
    for (const value of [null, undefined, 42, {}]) {
      expect(parseSiaData(value as unknown as string)).toMatchObject({ ok: false, error: 'SIA data is not a string' });
    }
  });

  it.each([...SAMPLE_CASES, ...GRAMMAR_CASES, ...EMPTY_CASES])('$name: $data', ({ data, account, events }) => {
    const result = parseSiaData(data);
    expect(result).toMatchObject({ ok: true, account });
    expect(siaEvents(result)).toMatchObject(events);
  });

  it('fills every field of an event', () => {
    expect(siaEvents(parseSiaData('#1234|Nri1/id5/CL3^Front^'))).toEqual([
      {
        protocol: 'sia',
        code: 'CL',
        address: '3',
        addressKind: 'user',
        area: '1',
        user: '5',
        modifiers: { ri: '1', id: '5' },
        text: 'Front',
        function: 'N',
        category: 'closing',
        description: 'Closing report (armed by user)',
        known: true,
      },
    ]);
  });
});

const INVALID_CASES: ReadonlyArray<readonly [name: string, data: string, account: string | null]> = [
  ['empty account', '#|NBA1', null],
  ['account longer than 16', '#01234567890123456|NBA1', null],
  ['account without "|"', '#1234', null],
  ['space inside the account', '#12 34|NBA1', null],
  ['modifier without value', '#1234|Nri', '1234'],
  ['modifier followed by a letter', 'Nrix/BA1', null],
  ['one-letter modifier tag', 'Nr1/BA1', null],
  ['one-letter code', 'Nri1/B1', null],
  ['unterminated caret text', 'NBA1^open', null],
  ['unterminated star text', 'NBA1*open', null],
  ['space between events', 'NBA1 BA2', null],
  ['"|" not followed by A', 'NBA1|Xtext', null],
  ['trailing "|"', 'NBA1|', null],
  ['"*\'" text without its tag', "NBA1*'open'", null],
  ['account without "#" and nothing valid after it', '1234|BA1^open', null],
  ['17 characters before "|"', '12345678901234567|NBA1', null],
  ['text without an event', 'Nri1^x^', null],
  ['bracket inside data', 'N[BA1]', null],
  ['lower-case function letter', 'nBA1', null],
];

describe('parseSiaData: invalid blocks', () => {
  it.each(INVALID_CASES)('%s: %s', (_name, data, account) => {
    const result = parseSiaData(data);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.account).toBe(account);
    expect(result.error).toMatch(/offset \d+/);
  });

  it('names the offending character and its offset', () => {
    expect(parseSiaData('#1234|NBA1 BA2')).toEqual({
      ok: false,
      account: '1234',
      error: 'unexpected " " at offset 10: expected "/", "|A" or end of data',
    });
  });
});

// ---- properties -------------------------------------------------------------------------------------------

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s);
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const latin1Char = fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c));

interface GeneratedEvent {
  code: string;
  address: string;
  text: { delimiter: string; body: string } | null;
}
interface GeneratedItem {
  modifiers: Array<[string, string, string | null]>;
  event: GeneratedEvent | null;
}
interface GeneratedBlock {
  wrapper: string;
  functionLetter: 'N' | 'O' | '';
  items: GeneratedItem[];
  blockText: string | null;
}

const modifierArb = fc.tuple(
  fc.oneof(fc.constantFrom('ri', 'id', 'pi', 'ti', 'da'), fc.string({ unit: chars(LOWER), minLength: 2, maxLength: 2 })),
  fc.string({ unit: chars(`${DIGITS}:-`), minLength: 1, maxLength: 6 }),
  // Field dialect: `ri01^AREA NAME^` (any modifier may carry one; only ri/pi name the area).
  fc.option(fc.string({ unit: latin1Char.filter((c) => c !== '^'), maxLength: 10 }), { nil: null, freq: 3 }),
);
const eventArb: fc.Arbitrary<GeneratedEvent> = fc.record({
  code: fc.oneof(fc.constantFrom(...SIA_CODES.keys()), fc.string({ unit: chars(UPPER), minLength: 2, maxLength: 2 })),
  address: fc.string({ unit: chars(DIGITS + UPPER + LOWER), maxLength: 6 }),
  text: fc.option(
    fc.constantFrom('^', '*').chain((delimiter) =>
      fc.record({
        delimiter: fc.constant(delimiter),
        body: fc.string({ unit: latin1Char.filter((c) => c !== delimiter), maxLength: 12 }),
      }),
    ),
    { nil: null },
  ),
});
const blockArb: fc.Arbitrary<GeneratedBlock> = fc.record({
  wrapper: fc.oneof(
    fc.constant(''),
    fc.constant('|'),
    fc.string({ unit: chars(DIGITS + UPPER + LOWER), minLength: 1, maxLength: 16 }).map((a) => `#${a}|`),
  ),
  functionLetter: fc.constantFrom('N', 'O', ''),
  items: fc.array(
    fc.record({
      modifiers: fc.array(modifierArb, { maxLength: 3 }),
      event: fc.option(eventArb, { nil: null }),
    }),
    { maxLength: 5 },
  ),
  blockText: fc.option(fc.string({ unit: latin1Char, maxLength: 12 }), { nil: null }),
});

function renderBody(block: GeneratedBlock): string {
  const items = block.items.map(({ modifiers, event }) => {
    const text = event?.text ? `${event.text.delimiter}${event.text.body}${event.text.delimiter}` : '';
    return (
      modifiers.map(([tag, value, name]) => tag + value + (name === null ? '' : `^${name}^`)).join('') +
      (event ? event.code + event.address + text : '')
    );
  });
  return items.join('/') + (block.blockText === null ? '' : `|A${block.blockText}`);
}

/**
 * Blocks whose reading the grammar leaves ambiguous are not generated: without a function letter the body
 * must not start with N/O (it would be read as one, docs/sia-dcs.md §1), and without a wrapper not with `|` or `#`.
 */
function isUnambiguous(block: GeneratedBlock): boolean {
  const first = renderBody(block).charAt(0);
  if (block.functionLetter === '' && (first === 'N' || first === 'O')) return false;
  // Text after a modifier must be followed by an event (text belonging to no event is an error).
  const lastNamed = block.items.findLastIndex((item) => item.modifiers.some(([, , name]) => name !== null));
  if (lastNamed >= 0 && !block.items.slice(lastNamed).some((item) => item.event !== null)) return false;
  return !(block.wrapper === '' && block.functionLetter === '' && (first === '|' || first === '#'));
}

function expectedEvents(block: GeneratedBlock): Partial<SiaEvent>[] {
  const inForce: Record<string, string> = {};
  let areaText: string | null = null;
  const events: Partial<SiaEvent>[] = [];
  for (const item of block.items) {
    for (const [tag, value, name] of item.modifiers) {
      inForce[tag] = value;
      if (tag === 'ri' || tag === 'pi') areaText = name;
    }
    if (!item.event) continue;
    events.push({
      ...(areaText === null ? {} : { areaText }),
      code: item.event.code,
      address: item.event.address,
      area: inForce['ri'] ?? inForce['pi'] ?? null,
      user: inForce['id'] ?? null,
      modifiers: { ...inForce },
      text: item.event.text?.body ?? block.blockText,
      function: block.functionLetter || 'N',
      known: SIA_CODES.has(item.event.code),
    });
  }
  return events;
}

describe('parseSiaData: properties', () => {
  it('never throws and always returns a well-formed result (any latin-1 string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: latin1Char, maxLength: 60 }), (data) => {
        const result = parseSiaData(data);
        if (result.ok) expect(Array.isArray(result.events)).toBe(true);
        else expect(result.error).toMatch(/offset \d+/);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on strings built from the grammar's own characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: chars('#|/^*:-NOABCLrid01'), maxLength: 40 }), (data) => {
        const result = parseSiaData(data);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('parses generated valid blocks back to the generated events', () => {
    fc.assert(
      fc.property(blockArb.filter(isUnambiguous), (block) => {
        const data = block.wrapper + block.functionLetter + renderBody(block);
        const result = parseSiaData(data);
        const account = block.wrapper.startsWith('#') ? block.wrapper.slice(1, -1) : null;
        expect(result).toMatchObject({ ok: true, account });
        const events = siaEvents(result);
        expect(events).toHaveLength(expectedEvents(block).length);
        expect(events).toMatchObject(expectedEvents(block));
        expect(events.map((e) => e.areaText ?? null)).toEqual(expectedEvents(block).map((e) => e.areaText ?? null));
        for (const event of events) {
          expect(event.modifiers).toEqual(expect.any(Object));
          if (!event.known) expect(event.category).toBe('unknown');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('area name after the area modifier (field dialect)', () => {
  it('Nri01^AREA NAME^/LX901^text^ decodes code, area, address, text and the area name', () => {
    expect(siaEvents(parseSiaData('#1234|Nri01^AREA NAME^/LX901^text^'))).toEqual([
      expect.objectContaining({
        code: 'LX',
        area: '01',
        address: '901',
        text: 'text',
        areaText: 'AREA NAME',
        category: expect.any(String),
      }),
    ]);
  });

  it("the name stays in force for the block's later events, and a new area without one drops it", () => {
    const events = siaEvents(parseSiaData('Nri1^Ground floor^BA01/BA02/ri2/BA03/ri3^Garage^/id4^Bob^CL4'));
    expect(events.map((e) => [e.code, e.area, e.areaText ?? null, e.user])).toEqual([
      ['BA', '1', 'Ground floor', null],
      ['BA', '1', 'Ground floor', null],
      ['BA', '2', null, null],
      ['CL', '3', 'Garage', '4'],
    ]);
  });

  it('an area name never closed, or followed by no event, is an error with its offset', () => {
    expect(parseSiaData('Nri01^AREA/BA1')).toMatchObject({ ok: false, error: 'text opened by "^" at offset 5 is never closed' });
    expect(parseSiaData('Nri01^AREA^/id2|Ax')).toMatchObject({
      ok: false,
      error: 'text after a modifier at offset 5 is not followed by an event',
    });
  });
});

describe('field tolerance', () => {
  it('ignores trailing blanks after the last event', () => {
    const result = parseSiaData('#1234|Nri1/BA01/BA02 ');
    expect(result.ok && result.events.map((e) => (e as SiaEvent).address)).toEqual(['01', '02']);
  });
});
