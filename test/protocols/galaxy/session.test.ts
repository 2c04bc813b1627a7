import { describe, expect, it } from 'vitest';
import { buildGalaxyBlock, readGalaxyBlock } from '../../../src/protocols/galaxy/index.js';

const block = (fn: string, data = '') => buildGalaxyBlock({ function: fn, data });

describe('readGalaxyBlock: what a block means to the receiver (docs/sia-dcs.md §4)', () => {
  it('account block', () => {
    expect(readGalaxyBlock(block('#', '123456'))).toEqual({ kind: 'account', account: '123456' });
  });

  it('new and old event blocks decode with the DC-03 grammar and the SIA tables (docs/sia-dcs.md §1)', () => {
    const n = readGalaxyBlock(block('N', 'ti11:46/BA1011'));
    expect(n).toMatchObject({
      kind: 'event',
      data: 'Nti11:46/BA1011',
      decoded: {
        ok: true,
        events: [{ protocol: 'sia', code: 'BA', address: '1011', function: 'N', category: 'alarm', modifiers: { ti: '11:46' } }],
      },
    });
    const o = readGalaxyBlock(block('O', 'ti11:45/id001/pi010/CL'));
    expect(o).toMatchObject({
      kind: 'event',
      decoded: { ok: true, events: [{ code: 'CL', function: 'O', user: '001', area: '010', category: 'closing' }] },
    });
  });

  it('an event block whose data is off-grammar still reads as an event, with the decode error', () => {
    expect(readGalaxyBlock(block('N', 'BA1^open'))).toMatchObject({
      kind: 'event',
      decoded: { ok: false, error: expect.stringMatching(/never closed/) },
    });
  });

  it('text, end of data, other functions and bad parity', () => {
    expect(readGalaxyBlock(block('A', 'FRONT DOOR'))).toEqual({ kind: 'text', text: 'FRONT DOOR' });
    expect(readGalaxyBlock(block('0'))).toEqual({ kind: 'end' });
    expect(readGalaxyBlock(block('1'))).toEqual({ kind: 'other', function: '1', data: '' });
    const bad = block('#', '1234');
    bad[bad.length - 1]! ^= 1;
    expect(readGalaxyBlock(bad)).toMatchObject({ kind: 'bad-block', code: 'parity' });
  });
});
