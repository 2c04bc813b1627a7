import { describe, expect, it } from 'vitest';
import { EVENT_CATEGORIES } from '../../../src/protocols/events.js';
import type { AddressKind, EventCategory } from '../../../src/protocols/events.js';
import { lookupSiaCode, SIA_CODES } from '../../../src/protocols/sia/index.js';

const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);

/** docs/sia-dcs.md §3, by category ("Cat" column), with JV/JX/JY and DL/DM written out. */
const SECTION_2_3_BY_CATEGORY: Partial<Record<EventCategory, string>> = {
  alarm: 'BA BG BM BV FA GA HA KA MA PA QA SA TA UA WA ZA CR JA DF DL EA UX',
  'alarm-restore': 'BH BR FH FR GH GR HH HR KH KR MH MR PH PR QR SR TR TH UR WH WR ZR DR',
  trouble: 'BT FT GT HT KT PT ST TT UT WT CI CT OI OT AT YT YM YP YA YC YS YX YF XT XL XQ XS ET ES EM LT NT DM EE IA',
  'trouble-restore': 'BJ FJ GJ AR YR YQ YH YK YZ XR XH XC ER EJ EN LR NR IR',
  supervisory: 'BS FS NA',
  bypass: 'BB FB',
  unbypass: 'BU FU',
  opening: 'NP OA OG OJ OK OP OQ OR OS',
  closing: 'CA CF CG CJ CK CL CP CQ CS CW NL NF',
  test: 'BX FI FK FX RP RX RY TX TS TE',
  access: 'DD DG DK',
  system: 'CE RR RB RS LB LX JC JT JD JL JO JV JX JY YG YW YN',
  cancel: 'BC FC OC',
};

/** docs/sia-dcs.md §3 "Addr" column for every code whose address is not a zone. */
const SECTION_2_3_NON_ZONE_ADDRESSES: Partial<Record<AddressKind, string>> = {
  user: 'BC CE CF CJ CK CL CP CQ CR OC OJ OK OP OQ OR OT RX JT JD JV JX JY EE',
  area: 'BV FI FK CA CG CI CT CW NL NF OA OG OI JA JC',
  door: 'DD DF DG DK DL DM DR',
  line: 'LT LR',
  device: 'XQ XH XS ET ER ES EJ EM EN NT NR IA IR',
  none: 'TH AT AR YT YR YM YP YQ YA YH YC YK YS YX YZ YG YW YF RP TX TS TE RR RB RS LB LX JL JO UX YN',
};

const SECTION_2_3_CODES = Object.values(SECTION_2_3_BY_CATEGORY).flatMap((list) => words(list ?? ''));
const NON_ZONE_CODES = new Set(Object.values(SECTION_2_3_NON_ZONE_ADDRESSES).flatMap((l) => words(l ?? '')));

/** Categories chosen for the Ajax additions after docs/sia-dcs.md §3 (see the comment on AJAX_CODES in codes.ts). */
const AJAX_CATEGORIES: ReadonlyArray<readonly [string, EventCategory]> = [
  ['PC', 'system'],
  ['PD', 'system'],
  ['PE', 'system'],
  ['PG', 'system'],
  ['PF', 'trouble'],
  ['PO', 'trouble-restore'],
  ['SM', 'trouble'],
  ['ZY', 'system'],
  ['ZZ', 'system'],
  ['AF', 'closing'],
  ['CB', 'closing'],
  ['NB', 'closing'],
  ['OB', 'opening'],
  ['ND', 'opening'],
  ['NO', 'opening'],
  ['CC', 'trouble'],
  ['NE', 'trouble'],
];

/** A sample of the rows added from the fuller DC-03 list that docs/sia-dcs.md §3 points to (see DC03_CODES in codes.ts). */
const FULLER_LIST_SAMPLES: ReadonlyArray<readonly [string, EventCategory, AddressKind]> = [
  ['CZ', 'closing', 'zone'],
  ['OZ', 'opening', 'zone'],
  ['NM', 'closing', 'area'],
  ['OH', 'opening', 'user'],
  ['OL', 'opening', 'user'],
  ['CD', 'trouble', 'area'],
  ['DH', 'alarm-restore', 'door'],
  ['DJ', 'trouble', 'door'],
  ['FW', 'trouble', 'zone'],
  ['FV', 'supervisory-restore', 'zone'],
  ['XX', 'trouble', 'none'],
];

const ADDRESS_KINDS: readonly AddressKind[] = ['zone', 'user', 'area', 'door', 'line', 'device', 'none'];

describe('SIA_CODES table', () => {
  it('has well-formed rows: two upper-case letters, a description, a known category and address kind', () => {
    expect(SIA_CODES.size).toBeGreaterThan(200);
    for (const [code, info] of SIA_CODES) {
      expect(code, code).toMatch(/^[A-Z]{2}$/);
      expect(info.description.trim().length, code).toBeGreaterThan(0);
      expect(EVENT_CATEGORIES, code).toContain(info.category);
      expect(info.category, code).not.toBe('unknown');
      expect(ADDRESS_KINDS, code).toContain(info.address);
    }
  });

  it('lists every docs/sia-dcs.md §3 code once in the category lists of this test (159 rows after expansion)', () => {
    expect(SECTION_2_3_CODES).toHaveLength(159);
    expect(new Set(SECTION_2_3_CODES).size).toBe(159);
  });

  it.each(
    Object.entries(SECTION_2_3_BY_CATEGORY).flatMap(([category, list]) => words(list ?? '').map((code) => [code, category] as const)),
  )('docs/sia-dcs.md §3 %s is %s', (code, category) => {
    expect(lookupSiaCode(code)?.category).toBe(category);
  });

  it('gives every docs/sia-dcs.md §3 code the address kind of its "Addr" column', () => {
    for (const [kind, list] of Object.entries(SECTION_2_3_NON_ZONE_ADDRESSES)) {
      for (const code of words(list ?? '')) expect(lookupSiaCode(code)?.address, code).toBe(kind);
    }
    for (const code of SECTION_2_3_CODES) {
      if (!NON_ZONE_CODES.has(code)) expect(lookupSiaCode(code)?.address, code).toBe('zone');
    }
  });

  it('splits DL (door left open, alarm) and DM (door left open, trouble)', () => {
    expect(lookupSiaCode('DL')).toMatchObject({ category: 'alarm', address: 'door' });
    expect(lookupSiaCode('DM')).toMatchObject({ category: 'trouble', address: 'door' });
  });

  it.each(AJAX_CATEGORIES)('Ajax addition %s is %s', (code, category) => {
    expect(lookupSiaCode(code)?.category).toBe(category);
  });

  it('adds docs/sia-dcs.md §2 zone-type rows with the pattern meaning of their second letter', () => {
    expect(lookupSiaCode('HB')?.category).toBe('bypass');
    expect(lookupSiaCode('WU')?.category).toBe('unbypass');
    expect(lookupSiaCode('QH')?.category).toBe('alarm-restore');
    expect(lookupSiaCode('ZJ')?.category).toBe('trouble-restore');
    expect(lookupSiaCode('SS')?.category).toBe('supervisory');
    expect(lookupSiaCode('GX')?.category).toBe('test');
    expect(lookupSiaCode('MT')?.category).toBe('trouble');
  });

  it('keeps codes that docs/sia-dcs.md §3 defines against the docs/sia-dcs.md §2 pattern', () => {
    expect(lookupSiaCode('TS')?.description).toMatch(/test start/i);
    expect(lookupSiaCode('UX')?.category).toBe('alarm');
    expect(lookupSiaCode('TR')?.category).toBe('alarm-restore');
    expect(lookupSiaCode('AR')?.category).toBe('trouble-restore');
  });

  it.each(FULLER_LIST_SAMPLES)('fuller DC-03 list: %s is %s on a %s address', (code, category, address) => {
    expect(lookupSiaCode(code)).toMatchObject({ category, address });
  });

  it('holds the whole 325-code list that docs/sia-dcs.md §3 names as the lookup source', () => {
    expect(SIA_CODES.size).toBe(325);
  });

  it('returns undefined for codes outside the table, lower case included', () => {
    expect(lookupSiaCode('QQ')).toBeUndefined();
    // XX ("fail to test") is a row since the fuller DC-03 list was added; XY is in no list.
    expect(lookupSiaCode('XY')).toBeUndefined();
    expect(lookupSiaCode('ba')).toBeUndefined();
    expect(lookupSiaCode('')).toBeUndefined();
  });
});
