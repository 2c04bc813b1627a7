import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAccountWrapper } from '../../src/protocols/account-wrapper.js';
import { parseCidData } from '../../src/protocols/contact-id/index.js';
import { dataAccountOf } from '../../src/protocols/dc09/index.js';
import { parseSiaData } from '../../src/protocols/sia/index.js';

describe('readAccountWrapper (docs/dc09.md §8, docs/sia-dcs.md §1, docs/contact-id.md §4)', () => {
  it('reads #acct|, a bare | and no wrapper', () => {
    expect(readAccountWrapper('#1234|NBA1')).toEqual({ account: '1234', bodyStart: 6 });
    expect(readAccountWrapper('#0123456789abcdef|x')).toEqual({ account: '0123456789abcdef', bodyStart: 18 });
    expect(readAccountWrapper('|NBA1')).toEqual({ account: null, bodyStart: 1 });
    expect(readAccountWrapper('NBA1')).toEqual({ account: null, bodyStart: 0 });
    expect(readAccountWrapper('')).toEqual({ account: null, bodyStart: 0 });
  });

  it('says where a wrapper goes wrong', () => {
    expect(readAccountWrapper('#|NBA1')).toEqual({
      error: 'account after "#" must be 1-16 letters or digits closed by "|": found "|" at offset 1 after 0 account characters',
    });
    expect(readAccountWrapper('#12-3|NBA1')).toEqual({
      error: 'account after "#" must be 1-16 letters or digits closed by "|": found "-" at offset 3 after 2 account characters',
    });
    expect(readAccountWrapper('#1234')).toEqual({
      error: 'account after "#" must be 1-16 letters or digits closed by "|": found end of data at offset 5 after 4 account characters',
    });
    expect(readAccountWrapper(`#${'1'.repeat(17)}|`)).toEqual({
      error: 'account after "#" is too long: 17 letters or digits from offset 1, at most 16',
    });
    expect(readAccountWrapper(`#${'A'.repeat(16)}|`)).toEqual({ account: 'A'.repeat(16), bodyStart: 18 });
  });

  it('accepts exactly #, 1-16 letters or digits and |; SIA, Contact ID and the frame parser agree on every wrapper', () => {
    const accountChar = fc.constantFrom('1', '9', 'A', 'K', 'z', 'é', '-', ' ', '#');
    const account = fc.array(accountChar, { maxLength: 18 }).map((chars) => chars.join(''));
    const prefix = fc.oneof(
      fc.constant(''),
      fc.constant('|'),
      account.map((a) => `#${a}|`),
      account.map((a) => `#${a}`),
    );
    const body = fc.constantFrom('1130 01 015', '  ', 'NBA1', '');
    fc.assert(
      fc.property(prefix, body, (head, rest) => {
        const data = head + rest;
        const expected = /^#([0-9A-Za-z]{1,16})\|/.exec(data);
        const wrapper = readAccountWrapper(data);
        if (data.startsWith('#')) {
          expect('error' in wrapper).toBe(expected === null);
          if (expected) expect(wrapper).toEqual({ account: expected[1], bodyStart: expected[0].length });
        } else {
          expect(wrapper).toEqual({ account: null, bodyStart: data.startsWith('|') ? 1 : 0 });
        }
        expect(dataAccountOf(data)).toBe(expected ? expected[1] : null);
        const sia = parseSiaData(data);
        const cid = parseCidData(data);
        if ('error' in wrapper) {
          // A bad wrapper fails both decoders, whatever follows it.
          expect([sia.ok, cid.ok]).toEqual([false, false]);
          return;
        }
        // A good one leaves the body to the decoder it belongs to, which then reports the wrapper's account.
        const body = data.slice(wrapper.bodyStart);
        const cidBody = body === '1130 01 015' || body.trim() === '';
        const siaBody = body === 'NBA1' || body.trim() === '';
        expect(cid.ok).toBe(cidBody);
        expect(sia.ok).toBe(siaBody);
        if (cid.ok) expect(cid.account).toBe(wrapper.account);
        if (sia.ok) expect(sia.account).toBe(wrapper.account);
      }),
      { numRuns: 1000 },
    );
  });
});
