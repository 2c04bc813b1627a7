import { describe, expect, it } from 'vitest';
import { decodePayload } from '../../src/protocols/decode.js';
import { crc16arc, parseFrame, routingAccount } from '../../src/protocols/dc09/index.js';

/** A frame as a panel (or a test tool) writes it: the CRC and length computed over the body given. */
function frame(body: string): Buffer {
  const bytes = Buffer.from(body, 'latin1');
  const head = `${crc16arc(bytes).toString(16).toUpperCase().padStart(4, '0')}0${bytes.length.toString(16).toUpperCase().padStart(3, '0')}`;
  return Buffer.concat([Buffer.from(`\n${head}`, 'latin1'), bytes, Buffer.from('\r', 'latin1')]);
}

describe('decodePayload (docs/dc09.md §8)', () => {
  it('decodes a DC09Gen frame whose data account has no "#" (docs/dc09.md §7): the fire alarm is not lost', () => {
    const parsed = parseFrame(frame('"SIA-DCS"0002R1L232#78919[1234|NFA129][S123Main St., 55123]_11:10:00,10-12-2019'));
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.message).toMatchObject({ account: '78919', data: '1234|NFA129' });
    const payload = decodePayload(parsed.message);
    expect(payload.dataError).toBeNull();
    expect(payload.events).toMatchObject([{ protocol: 'sia', code: 'FA', address: '129', category: 'alarm' }]);
  });

  it('decodes Contact ID data the same way, and reports data that does not decode', () => {
    expect(decodePayload({ token: 'ADM-CID', data: '1234|1130 01 015' })).toMatchObject({
      dataError: null,
      events: [{ protocol: 'cid', code: '130', zone: '015' }],
    });
    expect(decodePayload({ token: 'SIA-DCS', data: '#1234|BA1^open' })).toMatchObject({
      events: [],
      dataError: expect.stringMatching(/never closed/),
    });
    expect(decodePayload({ token: 'NULL', data: 'anything' })).toEqual({ events: [], dataError: null });
  });
});

describe('data account without "#" (field dialect, docs/dc09.md §7)', () => {
  it.each([
    ['SIA DCS', '"SIA-DCS"0002R1L232#78919[1234|NFA129]', '1234'],
    ['SIA DCS, word account, no header account', '"SIA-DCS"0003L0[alarm2|Nri1OP0001*Familie*]', 'alarm2'],
    ['Contact ID', '"ADM-CID"0004L0#1234[1234|1130 01 015]', '1234'],
    ['Contact ID, whole DC-05 string', '"ADM-CID"0005L0#1234[1234|181131010153]', '1234'],
  ])('%s: dataAccount is reported', (_name, body, dataAccount) => {
    const parsed = parseFrame(frame(body));
    expect(parsed.ok && parsed.message.dataAccount).toBe(dataAccount);
  });

  it('no data account where the decoder reads none: `NRR|Atest` is a code and its text', () => {
    const parsed = parseFrame(frame('"SIA-DCS"0006L0#1234[NRR|Atest]'));
    expect(parsed.ok && parsed.message.dataAccount).toBeNull();
  });

  it('routes a frame without a header account under the bare data account', () => {
    const parsed = parseFrame(frame('"SIA-DCS"0007L0[9999|NBA2]'));
    expect(parsed.ok && routingAccount(parsed.message)).toBe('9999');
  });
});
