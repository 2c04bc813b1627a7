import { describe, expect, it } from 'vitest';
import { cidCategory, lookupCidCode, normaliseQualifier, type CidBaseCategory } from '../../../src/protocols/contact-id/index.js';

describe('normaliseQualifier (docs/contact-id.md §2, docs/surgard.md §2)', () => {
  it.each([
    ['1', '1'],
    ['3', '3'],
    ['6', '6'],
    ['E', '1'],
    ['R', '3'],
    ['P', '6'],
    ['e', '1'],
    ['r', '3'],
    ['p', '6'],
  ])('%s → %s', (input, expected) => {
    expect(normaliseQualifier(input)).toBe(expected);
  });

  it.each(['0', '2', 'A', '', '11', ' 1'])('rejects %j', (input) => {
    expect(normaliseQualifier(input)).toBeNull();
  });
});

describe('cidCategory (docs/contact-id.md §2)', () => {
  const table: ReadonlyArray<[CidBaseCategory, string, string, string]> = [
    // base,        Q1,            Q3,                    Q6
    ['alarm', 'alarm', 'alarm-restore', 'status'],
    ['trouble', 'trouble', 'trouble-restore', 'status'],
    ['supervisory', 'supervisory', 'supervisory-restore', 'status'],
    ['opening', 'opening', 'closing', 'status'],
    ['bypass', 'bypass', 'unbypass', 'status'],
    ['access', 'access', 'access', 'status'],
    ['test', 'test', 'test', 'status'],
    ['system', 'system', 'system', 'status'],
    ['unknown', 'unknown', 'unknown', 'status'],
  ];

  it.each(table)('%s: Q1 %s, Q3 %s, Q6 %s', (category, q1, q3, q6) => {
    expect(cidCategory('1', { category })).toBe(q1);
    expect(cidCategory('3', { category })).toBe(q3);
    expect(cidCategory('6', { category })).toBe(q6);
    expect(cidCategory('E', { category })).toBe(q1);
    expect(cidCategory('R', { category })).toBe(q3);
    expect(cidCategory('P', { category })).toBe(q6);
  });

  it('opens on 1 (disarm) and closes on 3 (arm) for open/close codes', () => {
    expect(cidCategory('1', lookupCidCode('401'))).toBe('opening');
    expect(cidCategory('3', lookupCidCode('401'))).toBe('closing');
    expect(cidCategory('3', lookupCidCode('441'))).toBe('closing');
  });

  it('keeps the base category for a qualifier that is not 1/3/6', () => {
    expect(cidCategory('0', lookupCidCode('130'))).toBe('alarm');
  });
});
