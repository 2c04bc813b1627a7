import { describe, expect, it } from 'vitest';
import { parseCidData } from '../../../src/protocols/contact-id/index.js';

/** Data blocks of the `cid` samples in fixtures/dc09-samples.jsonl, with the decoded event expected. */
const SAMPLES = [
  {
    panel: 'Pima Force 144',
    data: '#00AAAA|3407 01 001',
    account: '00AAAA',
    event: { qualifier: '3', code: '407', group: '01', zone: '001', category: 'closing', addressKind: 'user', known: true },
  },
  {
    panel: 'Eldes',
    data: '#9999|1900 00 001',
    account: '9999',
    event: {
      qualifier: '1',
      code: '900',
      group: '00',
      zone: '001',
      category: 'unknown',
      addressKind: 'zone',
      known: false,
      description: 'Unknown Contact ID code 900',
    },
  },
  {
    panel: 'Trikdis E16 on DSC',
    data: '#9413|1602 99 999',
    account: '9413',
    event: { qualifier: '1', code: '602', group: '99', zone: '999', category: 'test', description: 'Periodic test', known: true },
  },
] as const;

describe('parseCidData: reference samples (docs/contact-id.md §4)', () => {
  it.each(SAMPLES)('$panel: $data', ({ data, account, event }) => {
    const result = parseCidData(data);
    expect(result).toMatchObject({ ok: true, account });
    if (!result.ok) return;
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({ protocol: 'cid', ...event });
  });

  it("Hikvision's NULL filler gives zero events", () => {
    expect(parseCidData('#0000|0000 00 000')).toEqual({ ok: true, account: '0000', events: [] });
    expect(parseCidData('0000 00 000')).toEqual({ ok: true, account: null, events: [] });
    expect(parseCidData('000000000')).toEqual({ ok: true, account: null, events: [] });
  });

  it('an empty block gives zero events', () => {
    expect(parseCidData('')).toEqual({ ok: true, account: null, events: [] });
    expect(parseCidData('#1234|')).toEqual({ ok: true, account: '1234', events: [] });
  });
});

describe('parseCidData: layout', () => {
  const expected = { qualifier: '1', code: '130', group: '01', zone: '015', category: 'alarm', description: 'Burglary' };

  it.each(['1130 01 015', '113001015', '1130 01015', '1 130 01 015', '1130  01  015', ' 1130 01 015 '])(
    'spaces are optional: %j',
    (data) => {
      const result = parseCidData(data);
      expect(result).toMatchObject({ ok: true, account: null });
      if (result.ok) expect(result.events[0]).toMatchObject(expected);
    },
  );

  it.each([
    ['E130 01 015', '1', 'alarm'],
    ['R130 01 015', '3', 'alarm-restore'],
    ['P130 01 015', '6', 'status'],
    ['r401 02 003', '3', 'closing'],
  ])('accepts the Sur-Gard qualifier letters: %s', (data, qualifier, category) => {
    const result = parseCidData(data);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.events[0]).toMatchObject({ qualifier, category });
  });

  it('keeps hex EEE and CCC as sent', () => {
    const result = parseCidData('#12ab|1e3a 0F 0cd');
    expect(result).toMatchObject({ ok: true, account: '12ab' });
    if (result.ok) expect(result.events[0]).toMatchObject({ code: 'e3a', group: '0F', zone: '0cd', known: false });
  });

  it('accepts accounts of 1 to 16 letters or digits', () => {
    expect(parseCidData('#1|1130 01 015')).toMatchObject({ ok: true, account: '1' });
    expect(parseCidData('#0123456789abcdef|1130 01 015')).toMatchObject({ ok: true, account: '0123456789abcdef' });
  });

  it.each([
    ['#|1130 01 015', null],
    ['#01234567890abcdefg|1130 01 015', null],
    ['#12-4|1130 01 015', null],
    ['#1234 1130 01 015', null],
    ['#1234|2130 01 015', '1234'],
    ['#1234|0130 01 015', '1234'],
    ['#1234|1130 01 01', '1234'],
    ['#1234|1130 01 0150', '1234'],
    ['#1234|1130 01 01G', '1234'],
    ['#1234|1130-01-015', '1234'],
    ['#1234|Nri1/BA001', '1234'],
    ['#1234|1130 01 015|1130 01 016', '1234'],
  ])('rejects %j', (data, account) => {
    const result = parseCidData(data);
    expect(result).toMatchObject({ ok: false, account });
    if (!result.ok) expect(result.error).toMatch(/Contact ID/);
  });
});

describe('empty account wrapper', () => {
  it('accepts a bare "|" before the event (as Ajax sends for SIA)', () => {
    const result = parseCidData('|1130 01 015');
    expect(result).toMatchObject({ ok: true, account: null });
    expect(result.ok && result.events[0]).toMatchObject({ qualifier: '1', code: '130', zone: '015' });
  });
});

describe('account without "#" (docs/dc09.md §7)', () => {
  it('reads `acct|QEEE GG CCC` as the account and its event', () => {
    const result = parseCidData('1234|1130 01 015');
    expect(result).toMatchObject({ ok: true, account: '1234' });
    expect(result.ok && result.events[0]).toMatchObject({ qualifier: '1', code: '130', zone: '015' });
  });

  it('keeps the first error when the data is no better with the "#"', () => {
    expect(parseCidData('1234|')).toMatchObject({ ok: false, error: expect.stringMatching(/^not a Contact ID event/) });
    expect(parseCidData('1234|XYZ')).toMatchObject({ ok: false, error: expect.stringMatching(/^not a Contact ID event "1234\|XYZ"/) });
  });
});

describe('the whole DC-05 string inside ADM-CID (field dialect, docs/contact-id.md §1/docs/contact-id.md §4)', () => {
  // 1234 18 1 131 01 015 → check digit 8 (docs/contact-id.md §1 worked example); 18 1 131 01 015 alone sums to 42 → check digit 3.
  it.each([
    ['with AAAA, no spaces', '#1234|1234181131010158', true],
    ['with AAAA and spaces', '#1234|1234 18 1 131 01 015 8', true],
    ['without AAAA, digit over the digits sent', '#1234|181131010153', true],
    ['without AAAA, digit over the account too', '#1234|181131010158', true],
    ['without AAAA, spaces', '#1234|18 1 131 01 015 3', true],
    ['wrong check digit, with AAAA', '#1234|1234181131010159', false],
    ['wrong check digit, without AAAA', '#1234|181131010151', false],
    ['non-hex account: only the digits sent count', '#alarm|181131010158', false],
  ])('%s: %s decodes, checksumOk %s', (_name, data, checksumOk) => {
    const result = parseCidData(data);
    expect(result).toMatchObject({ ok: true, account: data.slice(1, data.indexOf('|')) });
    expect(result.ok && result.events).toEqual([
      expect.objectContaining({ qualifier: '1', code: '131', group: '01', zone: '015', category: 'alarm', checksumOk }),
    ]);
  });

  it("the short form carries no checksumOk (DC-09's CRC covers it)", () => {
    const result = parseCidData('#1234|1131 01 015');
    expect(result.ok && result.events[0]).not.toHaveProperty('checksumOk');
  });

  it('still refuses text that is neither shape', () => {
    expect(parseCidData('#1234|18113101015')).toMatchObject({ ok: false, error: expect.stringMatching(/\[AAAA\] 18 Q EEE GG CCC S/) });
    expect(parseCidData('#1234|1231131010158')).toMatchObject({ ok: false });
  });
});
