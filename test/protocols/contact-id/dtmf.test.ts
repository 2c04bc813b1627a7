import { describe, expect, it } from 'vitest';
import { buildCidDtmf, formatCidData, parseCidDtmf } from '../../../src/protocols/contact-id/index.js';

describe('parseCidDtmf (docs/contact-id.md §1)', () => {
  it('decodes the worked examples with a good checksum', () => {
    expect(parseCidDtmf('1234 18 1 131 01 015 8')).toEqual({
      ok: true,
      account: '1234',
      messageType: '18',
      checksumOk: true,
      event: {
        protocol: 'cid',
        qualifier: '1',
        code: '131',
        group: '01',
        zone: '015',
        addressKind: 'zone',
        category: 'alarm',
        description: 'Perimeter',
        known: true,
      },
    });
    expect(parseCidDtmf('1234183401010016')).toMatchObject({
      ok: true,
      checksumOk: true,
      event: { qualifier: '3', code: '401', zone: '001', addressKind: 'user', category: 'closing' },
    });
  });

  it('decodes a message with a bad checksum and says so', () => {
    expect(parseCidDtmf('1234 18 1 131 01 015 9')).toMatchObject({ ok: true, checksumOk: false });
    expect(parseCidDtmf('1234 18 3 401 01 002 6')).toMatchObject({ ok: true, checksumOk: false });
  });

  it('accepts message type 98', () => {
    // 1+2+3+4+9+8+1+6+0+2+0+1+0+0+1 with 0 = 10: 38 + 40 = 78 → S = 12 = C
    expect(parseCidDtmf('1234 98 1 602 01 001 C')).toMatchObject({ ok: true, messageType: '98', checksumOk: true });
  });

  it.each([
    '',
    '1234 18 1 131 01 015', // no checksum
    '1234 17 1 131 01 015 8', // bad message type
    '1234 18 2 131 01 015 8', // bad qualifier
    '1234 18 E 131 01 015 8', // Sur-Gard letters are not DTMF qualifiers
    '1234 18 1 131 01 015 8 9', // too long
    'G234 18 1 131 01 015 8',
  ])('rejects %j', (text) => {
    const result = parseCidDtmf(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/Contact ID/);
  });
});

describe('buildCidDtmf (docs/contact-id.md §1)', () => {
  it('writes the worked examples', () => {
    expect(buildCidDtmf({ account: '1234', qualifier: '1', code: '131', group: '01', zone: '015' })).toBe('1234181131010158');
    expect(buildCidDtmf({ account: 1234, qualifier: 'R', code: 401, group: 1, zone: 1 })).toBe('1234183401010016');
  });

  it('pads the account and writes message type 98 on request', () => {
    // 8 zeros count 80, the rest 34: 114 → S = 6
    expect(buildCidDtmf({ account: '12', messageType: '98', qualifier: '6', code: '602', group: '0', zone: '0' })).toBe('0012986602000006');
  });

  it.each([
    { account: '12345', qualifier: '1', code: '130', group: '01', zone: '001' },
    { account: '1234', qualifier: '2', code: '130', group: '01', zone: '001' },
    { account: '1234', qualifier: '1', code: '1300', group: '01', zone: '001' },
    { account: '1234', qualifier: '1', code: '130', group: -1, zone: '001' },
    { account: '1234', qualifier: '1', code: '130', group: '01', zone: 1.5 },
    { account: '1234', qualifier: '1', code: '130', group: '01', zone: '00G' },
  ])('throws RangeError for %j', (input) => {
    expect(() => buildCidDtmf(input)).toThrow(RangeError);
  });
});

describe('formatCidData (docs/contact-id.md §4)', () => {
  it('writes the data block with and without the account wrapper', () => {
    expect(formatCidData({ account: '00AAAA', qualifier: '3', code: '407', group: '01', zone: '001' })).toBe('#00AAAA|3407 01 001');
    expect(formatCidData({ qualifier: 'E', code: 130, group: 1, zone: 15 })).toBe('1130 01 015');
    expect(formatCidData({ account: null, qualifier: 'P', code: '602', group: '99', zone: '999' })).toBe('6602 99 999');
  });

  it.each([
    { account: '', qualifier: '1', code: '130', group: '01', zone: '001' },
    { account: 'ab|c', qualifier: '1', code: '130', group: '01', zone: '001' },
    { account: '1234', qualifier: '0', code: '000', group: '00', zone: '000' },
    { account: '1234', qualifier: '1', code: '130', group: '100', zone: '001' },
  ])('throws RangeError for %j', (input) => {
    expect(() => formatCidData(input)).toThrow(RangeError);
  });
});
