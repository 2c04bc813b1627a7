import { describe, expect, it } from 'vitest';
import { buildGalaxyBlock, GALAXY_ACK, GALAXY_REJECT, parseGalaxyBlock, type GalaxyBlock } from '../../../src/protocols/galaxy/index.js';

const hex = (text: string) => Buffer.from(text.replace(/ /g, ''), 'hex');
const withAscii = (head: string, ascii: string, parity: string) => Buffer.concat([hex(head), Buffer.from(ascii, 'latin1'), hex(parity)]);

/** Round trip (name, object, bytes): blocks published in a reverse-engineered Galaxy spec (docs/sia-dcs.md §4). */
const ROUND_TRIP: ReadonlyArray<readonly [name: string, block: GalaxyBlock, bytes: Buffer]> = [
  ['ACK @8', { function: '8', data: '' }, hex('40 38 87')],
  ['end of data @0', { function: '0', data: '' }, hex('40 30 8F')],
  ['reject @9', { function: '9', data: '' }, hex('40 39 86')],
  ['account F#027178', { function: '#', data: '027178' }, withAscii('46 23', '027178', '91')],
  ['event NNti11:46/BA1011', { function: 'N', data: 'ti11:46/BA1011' }, withAscii('4E 4E', 'ti11:46/BA1011', 'F7')],
  ['event VNti11:45/id001/pi010/CL', { function: 'N', data: 'ti11:45/id001/pi010/CL' }, withAscii('56 4E', 'ti11:45/id001/pi010/CL', 'F5')],
  ['event QNti12:16/va1440/RP', { function: 'N', data: 'ti12:16/va1440/RP' }, withAscii('51 4E', 'ti12:16/va1440/RP', 'D7')],
  ['event JNti11:46/BV', { function: 'N', data: 'ti11:46/BV' }, withAscii('4A 4E', 'ti11:46/BV', 'E5')],
  [
    '63 data bytes',
    { function: 'A', data: 'x'.repeat(63) },
    (() => {
      const b = Buffer.concat([hex('7F 41'), Buffer.from('x'.repeat(63)), hex('00')]);
      b[b.length - 1] = 0xff ^ b.subarray(0, -1).reduce((x, y) => x ^ y, 0);
      return b;
    })(),
  ],
];

describe('Galaxy blocks round trip (docs/sia-dcs.md §4)', () => {
  it.each(ROUND_TRIP)('%s: build gives the bytes', (_name, block, bytes) => {
    expect(buildGalaxyBlock(block).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.each(ROUND_TRIP)('%s: parse gives the block', (_name, block, bytes) => {
    expect(parseGalaxyBlock(bytes)).toEqual({ ok: true, block });
  });

  it('ACK and reject are the fixed blocks', () => {
    expect(GALAXY_ACK.toString('hex')).toBe('403887');
    expect(GALAXY_REJECT.toString('hex')).toBe('403986');
  });
});

describe('bad blocks', () => {
  it('a wrong parity byte is reported with both values', () => {
    expect(parseGalaxyBlock(withAscii('46 23', '027178', '99'))).toEqual({
      ok: false,
      code: 'parity',
      error: 'parity byte 0x99 should be 0x91',
    });
  });

  it('a length that does not match the header, or no header byte', () => {
    expect(parseGalaxyBlock(hex('41 38 87'))).toMatchObject({ ok: false, code: 'length' });
    expect(parseGalaxyBlock(hex('05 01'))).toMatchObject({ ok: false, code: 'header' });
    expect(parseGalaxyBlock(new Uint8Array())).toMatchObject({ ok: false, code: 'header' });
  });

  it('the builder refuses what a block cannot carry', () => {
    expect(() => buildGalaxyBlock({ function: 'N', data: 'x'.repeat(64) })).toThrow(RangeError);
    expect(() => buildGalaxyBlock({ function: 'NN', data: '' })).toThrow(RangeError);
  });
});
