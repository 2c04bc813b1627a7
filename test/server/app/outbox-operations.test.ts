import { describe, expect, it } from 'vitest';
import { parseChoice, parseViewRequest } from '../../../src/server/app/outbox-operations.js';

describe('parseChoice (the body of POST /outbox/retry|discard)', () => {
  it('takes ids, account, reason and all; an empty body chooses nothing', () => {
    expect(parseChoice(undefined)).toEqual({});
    expect(parseChoice({})).toEqual({});
    expect(parseChoice({ ids: ['e-1', 'e-2'], account: '1234', reason: 'unmapped-camera', all: true })).toEqual({
      ids: ['e-1', 'e-2'],
      account: '1234',
      reason: 'unmapped-camera',
      all: true,
    });
    expect(parseChoice({ all: false, account: '' })).toEqual({});
  });

  it('names the field that is wrong', () => {
    expect(() => parseChoice([])).toThrow(/expected a JSON object/);
    expect(() => parseChoice('all')).toThrow(/expected a JSON object/);
    expect(() => parseChoice({ ids: 'e-1' })).toThrow(/^ids: expected a list of event ids/);
    expect(() => parseChoice({ ids: [1] })).toThrow(/^ids:/);
    expect(() => parseChoice({ account: 1234 })).toThrow(/^account: expected a string/);
    expect(() => parseChoice({ reason: null })).toThrow(/^reason:/);
    expect(() => parseChoice({ all: 'yes' })).toThrow(/^all: expected true or false/);
    expect(() => parseChoice({ acount: '1234' })).toThrow(/unknown field "acount"/);
  });
});

describe('parseViewRequest (the body of POST /outbox/list|status)', () => {
  it('takes dead and limit; an empty body asks for the pending events, 1000 at most', () => {
    expect(parseViewRequest(undefined)).toEqual({ dead: false, limit: 1000 });
    expect(parseViewRequest({})).toEqual({ dead: false, limit: 1000 });
    expect(parseViewRequest({ dead: true, limit: 5 })).toEqual({ dead: true, limit: 5 });
  });

  it('names the field that is wrong', () => {
    expect(() => parseViewRequest([])).toThrow(/expected a JSON object/);
    expect(() => parseViewRequest({ dead: 'yes' })).toThrow(/^dead: expected true or false/);
    expect(() => parseViewRequest({ limit: -1 })).toThrow(/^limit: expected a whole number/);
    expect(() => parseViewRequest({ limit: 1.5 })).toThrow(/^limit:/);
    expect(() => parseViewRequest({ all: true })).toThrow(/unknown field "all"/);
  });
});
