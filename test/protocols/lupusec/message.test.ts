import { describe, expect, it } from 'vitest';
import {
  buildLupusecMessage,
  LUPUSEC_ACK,
  LUPUSEC_NAK,
  parseLupusecMessage,
  type LupusecMessageInput,
} from '../../../src/protocols/lupusec/index.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/**
 * Round trip (name, object, bytes), docs/contact-id.md §5. The published example `[test 18160201010B]` keeps its check
 * digit B although DC-05 over the digits sent gives F (they already sum to 60): the builder writes the digit it is given.
 */
const ROUND_TRIP: ReadonlyArray<readonly [name: string, input: LupusecMessageInput, bytes: string]> = [
  [
    'published example',
    { subscriber: 'test', qualifier: '1', code: '602', group: '01', zone: '010', checkDigit: 'B' },
    '[test 18160201010B]',
  ],
  ['burglary, DC-05 digit', { subscriber: '1234', qualifier: '1', code: '130', group: '01', zone: '015' }, '[1234 181130010159]'],
  [
    'restore, 16-character subscriber',
    { subscriber: 'Haus-am-See-0001', qualifier: '3', code: '401', group: '02', zone: '003' },
    '[Haus-am-See-0001 18340102003D]',
  ],
  ['subscriber with a space', { subscriber: 'my house', qualifier: '1', code: '110', group: '00', zone: '004' }, '[my house 181110000049]'],
];

describe('Lupusec messages round trip (docs/contact-id.md §5)', () => {
  it.each(ROUND_TRIP)('%s: build gives the bytes', (_name, input, bytes) => {
    expect(buildLupusecMessage(input).toString('latin1')).toBe(bytes);
  });

  it.each(ROUND_TRIP)('%s: parse gives the subscriber and event', (_name, input, bytes) => {
    const result = parseLupusecMessage(latin1(bytes));
    expect(result).toMatchObject({
      ok: true,
      message: {
        subscriber: input.subscriber,
        event: { protocol: 'cid', qualifier: input.qualifier, code: input.code, group: input.group, zone: input.zone },
      },
    });
  });

  it('replies are the single bytes ACK 0x06 and NAK 0x15', () => {
    expect([...LUPUSEC_ACK, ...LUPUSEC_NAK]).toEqual([0x06, 0x15]);
  });
});

describe('check digit (not reliable in the field: flagged, not refused)', () => {
  it('the published example decodes with checksumOk false; a DC-05 digit gives true', () => {
    expect(parseLupusecMessage(latin1('[test 18160201010B]'))).toMatchObject({
      ok: true,
      message: { event: { code: '602', category: 'test', checksumOk: false } },
    });
    expect(parseLupusecMessage(latin1('[test 18160201010F]'))).toMatchObject({ ok: true, message: { event: { checksumOk: true } } });
  });
});

describe('messages that cannot be parsed', () => {
  it.each([
    ['no subscriber', '[ 18160201010B]'],
    ['subscriber over 16 characters', '[abcdefghijklmnopq 18160201010B]'],
    ['11 digits', '[test 18160201010]'],
    ['qualifier 2', '[test 18260201010B]'],
    ['message type 17', '[test 17160201010B]'],
    ['no closing bracket (cut by the framer)', '[test 18160201010B'],
    ['not hex', '[test 1816020101XB]'],
  ])('%s: %s', (_name, text) => {
    expect(parseLupusecMessage(latin1(text))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not a Lupusec Contact ID message/),
    });
  });

  it('the builder refuses a subscriber it cannot send', () => {
    for (const subscriber of ['', ' x', 'a]b', 'x'.repeat(17)]) {
      expect(() => buildLupusecMessage({ subscriber, qualifier: '1', code: 130, group: 1, zone: 1 })).toThrow(RangeError);
    }
  });
});
