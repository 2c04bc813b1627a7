import { describe, expect, it } from 'vitest';
import { CID_CODES, lookupCidCode } from '../../../src/protocols/contact-id/index.js';

describe('Contact ID code table (docs/contact-id.md §3)', () => {
  it('gives every row a description, a base category and an address kind', () => {
    expect(CID_CODES.size).toBeGreaterThanOrEqual(177); // docs/contact-id.md §3 rows with ranges expanded
    for (const [code, info] of CID_CODES) {
      expect(code).toMatch(/^[0-9A-F]{3}$/);
      expect(info.code).toBe(code);
      expect(info.description.trim()).not.toBe('');
      expect(info.known).toBe(true);
      expect(info.category).not.toBe('unknown');
      expect(['zone', 'user']).toContain(info.address);
    }
  });

  it.each([
    ['141', 'trouble'],
    ['142', 'trouble'],
    ['370', 'trouble'],
    ['371', 'trouble'],
    ['372', 'trouble'],
    ['385', 'trouble'],
    ['386', 'trouble'],
    ['387', 'trouble'],
    ['388', 'trouble'],
    ['520', 'bypass'],
    ['521', 'bypass'],
    ['522', 'bypass'],
    ['523', 'bypass'],
    ['524', 'bypass'],
    ['525', 'bypass'],
    ['526', 'bypass'],
    ['527', 'bypass'],
    // docs/contact-id.md §4: 350–360 → YC/YK, the whole range.
    ...['350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '360'].map((code) => [code, 'trouble']),
  ])('expands the ranges of the reference: %s is %s', (code, category) => {
    expect(lookupCidCode(code)).toMatchObject({ known: true, category });
  });

  it.each([
    ['130', 'alarm', 'zone', false, 'Burglary'],
    ['121', 'alarm', 'user', false, 'Duress'],
    ['200', 'supervisory', 'zone', false, 'Fire supervisory'],
    ['301', 'trouble', 'zone', false, 'AC loss'],
    ['401', 'opening', 'user', true, 'Open/close by user'],
    ['409', 'opening', 'zone', true, 'Keyswitch open/close'],
    ['422', 'access', 'user', false, 'Access by user'],
    ['570', 'bypass', 'zone', false, 'Zone/sensor bypass'],
    ['602', 'test', 'zone', false, 'Periodic test'],
    ['627', 'system', 'zone', false, 'Program mode entry'],
    ['654', 'supervisory', 'zone', false, 'System inactivity'],
  ])('maps the Cat column: %s → %s, CCC is %s', (code, category, address, openClose, description) => {
    expect(lookupCidCode(code)).toEqual({ code, category, address, openClose, description, known: true });
  });

  it('keeps 406 (cancel) out of the open/close codes: a cancel is not a disarm', () => {
    expect(lookupCidCode('406')).toMatchObject({ category: 'cancel', openClose: false });
  });

  it('marks exactly the OC rows as open/close codes, all in the 400s', () => {
    const openClose = [...CID_CODES.values()].filter((info) => info.openClose).map((info) => info.code);
    expect(openClose).toEqual(['400', '401', '402', '403', '407', '408', '409', '441', '442', '450', '451', '452', '456', '458', '463']);
  });

  it('returns an unknown entry for codes outside the table', () => {
    expect(lookupCidCode('900')).toEqual({
      code: '900',
      category: 'unknown',
      openClose: false,
      description: 'Unknown Contact ID code 900',
      address: 'zone',
      known: false,
    });
    expect(lookupCidCode('712').known).toBe(false);
  });

  it('looks hex codes up case-insensitively', () => {
    expect(lookupCidCode('abc')).toMatchObject({ code: 'ABC', known: false, description: 'Unknown Contact ID code ABC' });
  });
});
