import { describe, expect, it } from 'vitest';
import { cidChecksum, cidDigitValue, isCidChecksumValid } from '../../../src/protocols/contact-id/index.js';

describe('cidDigitValue (docs/contact-id.md §1)', () => {
  it.each([
    ['0', 10],
    ['1', 1],
    ['9', 9],
    ['A', 10],
    ['a', 10],
    ['b', 11],
    ['C', 12],
    ['F', 15],
  ])('%s counts %i', (digit, value) => {
    expect(cidDigitValue(digit)).toBe(value);
  });

  it.each(['G', '', '12', ' '])('is null for %j', (text) => {
    expect(cidDigitValue(text)).toBeNull();
  });
});

describe('cidChecksum (docs/contact-id.md §1)', () => {
  it.each([
    ['1234 18 1 131 01 015', '8'], // worked example: digit sum 52 → 60 − 52
    ['1234 18 3 401 01 001', '6'], // worked example
    ['123418113101015', '8'], // spaces are optional
    ['111111111111119', '7'], // 23 → 30 − 23
    ['11111111111111F', '1'], // 29 → 30 − 29
    ['111111111111116', '0'], // 20 → 10, written as the digit 0
    ['111111111111111', 'F'], // 15: already a multiple of 15 → F
  ])('%s → %s', (first15, expected) => {
    expect(cidChecksum(first15)).toBe(expected);
  });

  it.each(['', '12341811310101', '1234181131010150', '1234 18 1 131 01 01G'])('throws RangeError for %j', (bad) => {
    expect(() => cidChecksum(bad)).toThrow(RangeError);
  });
});

describe('isCidChecksumValid (docs/contact-id.md §1)', () => {
  it.each([
    ['1234 18 1 131 01 015 8', true],
    ['1234181131010158', true],
    ['1234 18 3 401 01 001 6', true],
    ['1111111111111160', true], // 20 + 10
    ['111111111111116A', true], // A and 0 both count as 10
    ['111111111111111F', true],
    ['1234 18 1 131 01 015 7', false],
    ['1234 18 1 131 01 016 8', false],
    ['1234 18 3 401 01 001 5', false],
    ['123418113101015', false], // 15 digits
    ['123418113101015G', false],
  ])('%s → %s', (message, expected) => {
    expect(isCidChecksumValid(message)).toBe(expected);
  });
});
