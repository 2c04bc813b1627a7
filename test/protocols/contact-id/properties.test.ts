import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildCidDtmf,
  cidDigitValue,
  formatCidData,
  normaliseQualifier,
  parseCidData,
  parseCidDtmf,
} from '../../../src/protocols/contact-id/index.js';

const hexField = (width: number) => fc.stringMatching(new RegExp(`^[0-9A-Fa-f]{${width}}$`));
const qualifierSymbol = fc.constantFrom('1', '3', '6', 'E', 'R', 'P', 'e', 'r', 'p');
const eventFields = fc.record({ qualifier: qualifierSymbol, code: hexField(3), group: hexField(2), zone: hexField(3) });

/** Text made of the characters the decoders care about, so that near-misses are tried often. */
const cidLikeText = fc.array(fc.constantFrom(...'#|0123456789AaBbEeFfGPpRr -'.split('')), { maxLength: 30 }).map((chars) => chars.join(''));

describe('decoders never throw', () => {
  it('parseCidData and parseCidDtmf return a result for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), cidLikeText), (text) => {
        const data = parseCidData(text);
        const dtmf = parseCidDtmf(text);
        expect(typeof data.ok).toBe('boolean');
        expect(typeof dtmf.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatCidData → parseCidData round trip', () => {
  it('gives back the account and the fields, qualifier in digit form', () => {
    const account = fc.option(fc.stringMatching(/^[0-9A-Za-z]{1,16}$/), { nil: undefined });
    fc.assert(
      fc.property(account, eventFields, (acct, fields) => {
        const result = parseCidData(formatCidData({ ...fields, account: acct }));
        expect(result).toMatchObject({ ok: true, account: acct ?? null });
        if (!result.ok) return;
        expect(result.events).toEqual([
          expect.objectContaining({
            qualifier: normaliseQualifier(fields.qualifier),
            code: fields.code,
            group: fields.group,
            zone: fields.zone,
          }),
        ]);
      }),
    );
  });
});

describe('buildCidDtmf → parseCidDtmf round trip (docs/contact-id.md §1)', () => {
  const dtmfFields = fc.record({
    account: hexField(4),
    messageType: fc.constantFrom('18' as const, '98' as const),
    qualifier: fc.constantFrom('1', '3', '6'),
    code: hexField(3),
    group: hexField(2),
    zone: hexField(3),
  });

  it('decodes what it built, with a good checksum', () => {
    fc.assert(
      fc.property(dtmfFields, (fields) => {
        const message = buildCidDtmf(fields);
        expect(message).toMatch(/^[0-9A-Fa-f]{15}[1-9B-F0]$/);
        const result = parseCidDtmf(message);
        expect(result).toMatchObject({ ok: true, account: fields.account, messageType: fields.messageType, checksumOk: true });
        if (result.ok) expect(result.event).toMatchObject({ code: fields.code, group: fields.group, zone: fields.zone });
      }),
    );
  });

  // Positions whose digit may change and still leave a well-formed message: AAAA, EEE, GG, CCC and S
  // (MT and Q are fixed by the grammar).
  const freePositions = [0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const hexDigits = '0123456789ABCDEF'.split('');

  it('flags any single changed digit, unless 0 and A swap (both count as 10)', () => {
    fc.assert(
      fc.property(dtmfFields, fc.constantFrom(...freePositions), fc.constantFrom(...hexDigits), (fields, index, digit) => {
        const message = buildCidDtmf(fields);
        const original = message.charAt(index);
        const changed = `${message.slice(0, index)}${digit}${message.slice(index + 1)}`;
        const result = parseCidDtmf(changed);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        // Digit values run 1..15, so one changed digit moves the sum by at most 14 and never by a
        // multiple of 15: the checksum still holds only when the value is unchanged (0 ↔ A, both 10).
        const sameValue = cidDigitValue(original) === cidDigitValue(digit);
        expect(result.checksumOk).toBe(sameValue);
      }),
      { numRuns: 1000 },
    );
  });

  it('treats 0 and A as the same digit value', () => {
    expect(parseCidDtmf('1234 18 1 131 01 015 8')).toMatchObject({ checksumOk: true });
    expect(parseCidDtmf('1234 18 1 131 A1 A15 8')).toMatchObject({ checksumOk: true });
  });
});

/** `[AAAA ]18 Q EEE GG CCC S` from the digits without spaces (12 or 16 of them). */
const spaceOut = (digits: string) => {
  const widths = digits.length === 16 ? [4, 2, 1, 3, 2, 3, 1] : [2, 1, 3, 2, 3, 1];
  let at = 0;
  return widths.map((w) => digits.slice(at, (at += w))).join(' ');
};

describe('the whole DC-05 string inside ADM-CID', () => {
  it('decodes with or without AAAA and spaces; checksumOk is true exactly when the DC-05 digit is right', () => {
    const digit = fc.constantFrom(...'0123456789ABCDEF'.split(''));
    const fields = fc.record({ qualifier: fc.constantFrom('1', '3', '6'), code: hexField(3), group: hexField(2), zone: hexField(3) });
    fc.assert(
      fc.property(hexField(4), fields, fc.boolean(), fc.boolean(), digit, (account, f, withAccount, spaced, wrong) => {
        const dtmf = buildCidDtmf({ ...f, account });
        const right = dtmf.slice(15);
        const sent = `${dtmf.slice(0, 15)}${wrong}`;
        const body = withAccount ? sent : sent.slice(4);
        const text = spaced ? spaceOut(body) : body;
        const result = parseCidData(`#${account}|${text}`);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.events[0]).toMatchObject({ qualifier: f.qualifier, code: f.code, group: f.group, zone: f.zone });
        // With AAAA only the right digit sums to a multiple of 15; without, the account-covering digit holds too.
        if (withAccount)
          expect(result.events[0]).toMatchObject({
            checksumOk: wrong === right || (right === '0' && wrong === 'A') || (right === 'A' && wrong === '0'),
          });
        else if (wrong === right) expect(result.events[0]).toMatchObject({ checksumOk: true });
      }),
      { numRuns: 500 },
    );
  });
});
