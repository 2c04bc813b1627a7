import { describe, expect, it } from 'vitest';
import {
  buildSurgardCid,
  buildSurgardHeartbeat,
  buildSurgardSia,
  decodeSurgardForCli,
  parseSurgardRecord,
  SURGARD_ACK,
  SURGARD_NAK,
  withTerminator,
  type SurgardResult,
} from '../../../src/protocols/surgard/index.js';

function record(result: SurgardResult) {
  if (!result.ok) throw new Error(`expected a record, got ${result.error}`);
  return result.record;
}

describe('reference examples (docs/surgard.md §1, docs/surgard.md §2)', () => {
  it.each([
    ['5011 181234E14401002', { line: '1', account: '1234', qualifier: '1', code: '144', group: '01', zone: '002', category: 'alarm' }],
    ['5011 187037E13001004', { line: '1', account: '7037', qualifier: '1', code: '130', group: '01', zone: '004', category: 'alarm' }],
    [
      '501001 187037R30100000',
      { line: '001', account: '7037', qualifier: '3', code: '301', group: '00', zone: '000', category: 'trouble-restore' },
    ],
    ['5011123418113001015', { line: '1', account: '1234', qualifier: '1', code: '130', group: '01', zone: '015', category: 'alarm' }],
  ])('Contact ID %s', (text, want) => {
    const r = record(parseSurgardRecord(text));
    expect(r).toMatchObject({ kind: 'cid', receiver: '01', line: want.line, account: want.account, raw: text });
    if (r.kind !== 'cid') return;
    expect(r.event).toMatchObject({
      protocol: 'cid',
      qualifier: want.qualifier,
      code: want.code,
      group: want.group,
      zone: want.zone,
      category: want.category,
    });
  });

  it('SIA S011[#1234|Nri1/BA001]', () => {
    const r = record(parseSurgardRecord('S011[#1234|Nri1/BA001]'));
    expect(r).toMatchObject({ kind: 'sia', receiver: '01', line: '1', account: '1234', data: '#1234|Nri1/BA001' });
    if (r.kind !== 'sia') return;
    expect(r.events).toEqual([
      expect.objectContaining({ protocol: 'sia', code: 'BA', address: '001', area: '1', category: 'alarm', function: 'N' }),
    ]);
  });

  it('heartbeat 1011 + 11 spaces + @ + 4 spaces, and the 3-digit-line form', () => {
    expect(record(parseSurgardRecord('1011           @    '))).toEqual({ kind: 'heartbeat', receiver: '01', line: '1' });
    expect(record(parseSurgardRecord('101001           @    '))).toEqual({ kind: 'heartbeat', receiver: '01', line: '001' });
    expect(record(parseSurgardRecord('1021@'))).toEqual({ kind: 'heartbeat', receiver: '02', line: '1' });
  });

  it('the builders write the reference examples', () => {
    expect(buildSurgardCid({ receiver: 1, line: 1, account: '1234', qualifier: 'E', code: 144, group: 1, zone: 2 })).toBe(
      '5011 181234E14401002',
    );
    expect(buildSurgardCid({ receiver: '01', line: '001', account: '7037', qualifier: 'R', code: '301', group: '00', zone: '000' })).toBe(
      '501001 187037R30100000',
    );
    expect(buildSurgardHeartbeat()).toBe('1011           @    ');
    expect(buildSurgardHeartbeat({ line: '001' })).toBe('101001           @    ');
    expect(buildSurgardSia({ receiver: '01', line: '1', data: '#1234|Nri1/BA001' })).toBe('S011[#1234|Nri1/BA001]');
    expect(withTerminator('1011           @    ')).toEqual(Buffer.from('1011           @    \x14', 'latin1'));
    expect(withTerminator('x', 'cr')).toEqual(Buffer.from('x\r', 'latin1'));
  });
});

describe('Contact ID qualifier (docs/contact-id.md §2: E/R/P = 1/3/6)', () => {
  it.each([
    ['E', '1'],
    ['1', '1'],
    ['e', '1'],
    ['R', '3'],
    ['3', '3'],
    ['r', '3'],
    ['P', '6'],
    ['6', '6'],
    ['p', '6'],
  ])('%s → %s', (symbol, digit) => {
    const r = record(parseSurgardRecord(`5011 181234${symbol}13001015`));
    expect(r.kind === 'cid' && r.event.qualifier).toBe(digit);
  });

  it('open/close codes: E = opening, R = closing, P = status', () => {
    const category = (q: string) => {
      const r = record(
        parseSurgardRecord(buildSurgardCid({ receiver: 1, line: 1, account: '1234', qualifier: q, code: 401, group: 1, zone: 3 })),
      );
      return r.kind === 'cid' ? r.event.category : null;
    };
    expect([category('E'), category('R'), category('P')]).toEqual(['opening', 'closing', 'status']);
  });

  it('rejects other qualifiers', () => {
    for (const q of ['0', '2', 'X', 'A']) expect(parseSurgardRecord(`5011 181234${q}13001015`).ok).toBe(false);
  });
});

describe('Contact ID layouts and widths (docs/surgard.md §2)', () => {
  it('space before 18 optional', () => {
    expect(record(parseSurgardRecord('5011181234E14401002'))).toMatchObject({ line: '1', account: '1234' });
    expect(record(parseSurgardRecord('501001187037R30100000'))).toMatchObject({ line: '001', account: '7037' });
  });

  it('line of 2 and 4 characters', () => {
    expect(record(parseSurgardRecord('501120 181234E13001015'))).toMatchObject({ line: '120' });
    expect(record(parseSurgardRecord('50112 181234E13001015'))).toMatchObject({ line: '12' });
    expect(record(parseSurgardRecord('5010001 181234E13001015'))).toMatchObject({ line: '0001', account: '1234' });
    expect(record(parseSurgardRecord('501000118ABCDE13001015'))).toMatchObject({ line: '0001', account: 'ABCD' });
  });

  it('accounts of 4 to 10 hex digits (MLR2 8 / MLR2000), taken from the fixed 9-character tail', () => {
    for (const account of ['1234', '12345', 'ABCDEF', '123456789A']) {
      expect(record(parseSurgardRecord(`5011 18${account}E13001015`))).toMatchObject({ account });
    }
    expect(parseSurgardRecord('5011 18123456789AB13001015').ok).toBe(false);
    expect(parseSurgardRecord('5011 18123E13001015').ok).toBe(false);
  });

  it('without the space, several non-standard readings are ambiguous', () => {
    // line "12" + 18 + account "181234", or line "1218" + 18 + account "1234"
    const result = parseSurgardRecord('5011218181234E13001015');
    expect(result).toMatchObject({ ok: false, code: 'ambiguous' });
  });

  it('without the space, the standard widths win; a tie of the two layouts goes by the qualifier', () => {
    // "1 18 AB18" or "1 18AB 18": letter Q → line-18-account, digit Q → account-18.
    const letter = record(parseSurgardRecord('501118AB18E13001015'));
    const digit = record(parseSurgardRecord('501118AB18113001015'));
    expect(letter).toMatchObject({ line: '1', account: 'AB18' });
    expect(digit).toMatchObject({ line: '1', account: '18AB' });
  });

  it('unknown codes still decode (known: false)', () => {
    const r = record(parseSurgardRecord('5011 181234EABC01015'));
    expect(r.kind === 'cid' && r.event).toMatchObject({ code: 'ABC', known: false, category: 'unknown' });
  });
});

describe('SIA records (docs/surgard.md §2)', () => {
  it('tolerates spaces between the fields and inside the brackets', () => {
    expect(record(parseSurgardRecord('S 01 1 [#1234|Nri1/BA001]'))).toMatchObject({ receiver: '01', line: '1', account: '1234' });
    expect(record(parseSurgardRecord('S01001 [ #1234|Nri1/BA001 ]'))).toMatchObject({ line: '001', data: '#1234|Nri1/BA001' });
  });
  it('without an account wrapper the account is null', () => {
    const r = record(parseSurgardRecord('S011[Nri1/BA001/BR001]'));
    expect(r).toMatchObject({ kind: 'sia', account: null });
    expect(r.kind === 'sia' && r.events.map((e) => e.protocol === 'sia' && e.code)).toEqual(['BA', 'BR']);
  });
  it('bad DC-03 data is a bad-data error', () => {
    expect(parseSurgardRecord('S011[#1234|N!!]')).toMatchObject({ ok: false, code: 'bad-data' });
    expect(parseSurgardRecord('S011[#1234|Nri1/BA001')).toMatchObject({ ok: false, code: 'malformed' });
  });
});

describe('tolerance and errors', () => {
  it('leading LF/space, trailing spaces and the terminator are ignored; raw is kept verbatim', () => {
    const text = '\n 5011 181234E14401002  \x14';
    expect(record(parseSurgardRecord(text))).toMatchObject({ kind: 'cid', account: '1234', raw: text });
    expect(record(parseSurgardRecord(Buffer.from('\r\n1011           @    \r', 'latin1')))).toMatchObject({ kind: 'heartbeat' });
  });

  it('pulse and old SIA level 1 are unsupported record types', () => {
    for (const text of ['1061      7002    TH', '3011      1234BA001']) {
      const result = parseSurgardRecord(text);
      expect(result).toMatchObject({ ok: false, code: 'unsupported', raw: text });
      expect(!result.ok && result.error).toMatch(/unsupported record type/);
    }
  });

  it('garbage is ok:false with the raw text, never a throw', () => {
    const inputs: unknown[] = [
      '',
      '   ',
      'hello',
      '5011',
      '5011 18',
      'S',
      'S011',
      '1',
      '1011',
      '1011 @ @',
      '5011 181234X13001015',
      '5011 181234E1300101G',
      '5ZZ1 181234E13001015',
      '\x00\xff\x14',
      'S011[]]',
      '@@@@@@@@@@@@@@@@@@@@@',
    ];
    for (const input of inputs) {
      const result = parseSurgardRecord(input as string);
      expect(result.ok, JSON.stringify(input)).toBe(false);
      if (!result.ok) expect(result.raw).toBe(input);
    }
    expect(parseSurgardRecord(42 as unknown as string)).toMatchObject({ ok: false, code: 'not-text' });
    expect(parseSurgardRecord(null as unknown as string)).toMatchObject({ ok: false, code: 'not-text' });
  });

  it('an empty SIA block decodes to no events', () => {
    expect(record(parseSurgardRecord('S011[]'))).toMatchObject({ kind: 'sia', events: [], account: null });
  });
});

describe('builders reject bad fields', () => {
  const base = { receiver: '01', line: '1', account: '1234', qualifier: 'E', code: 130, group: 1, zone: 15 };
  it.each([
    { receiver: '1' },
    { receiver: 123 },
    { receiver: 'AB' },
    { line: '' },
    { line: '12345' },
    { account: '123' },
    { account: '12345678901' },
    { account: 'GHIJ' },
    { qualifier: 'X' },
    { qualifier: 'EE' },
    { code: 1000 },
    { group: 'ZZ' },
  ])('%o', (bad) => {
    expect(() => buildSurgardCid({ ...base, ...bad })).toThrow(RangeError);
  });
  it('SIA data without brackets or control characters', () => {
    expect(() => buildSurgardSia({ receiver: 1, line: 1, data: 'a]b' })).toThrow(RangeError);
    expect(() => buildSurgardSia({ receiver: 1, line: 1, data: 'a\x14' })).toThrow(RangeError);
  });
  it('spaceBefore18: false and a numeric account', () => {
    expect(buildSurgardCid({ ...base, account: 42, spaceBefore18: false })).toBe('5011180042E13001015');
  });
});

describe('decodeSurgardForCli', () => {
  it('reports a Contact ID record with an ACK', () => {
    expect(decodeSurgardForCli('5011 181234E14401002\x14')).toEqual({
      ok: true,
      format: 'surgard',
      kind: 'cid',
      receiver: '01',
      line: '1',
      account: '1234',
      data: 'E14401002',
      events: [expect.objectContaining({ protocol: 'cid', code: '144', qualifier: '1' })],
      raw: '5011 181234E14401002\\x14',
      reply: { kind: 'ACK', frame: '\\x06' },
    });
  });
  it('reports heartbeats and SIA records', () => {
    expect(decodeSurgardForCli('1011           @    ')).toMatchObject({
      ok: true,
      kind: 'heartbeat',
      account: null,
      data: null,
      events: [],
      reply: { kind: 'ACK' },
    });
    expect(decodeSurgardForCli(Buffer.from('S011[#1234|Nri1/BA001]'))).toMatchObject({
      ok: true,
      kind: 'sia',
      account: '1234',
      data: '#1234|Nri1/BA001',
      events: [expect.objectContaining({ code: 'BA' })],
    });
  });
  it('reports an error with a NAK', () => {
    const report = decodeSurgardForCli('1061      7002    TH');
    expect(report).toMatchObject({
      ok: false,
      kind: null,
      events: [],
      reply: { kind: 'NAK', frame: '\\x15' },
      error: { code: 'unsupported' },
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
  it('reply bytes', () => {
    expect([...SURGARD_ACK]).toEqual([0x06]);
    expect([...SURGARD_NAK]).toEqual([0x15]);
  });
});
