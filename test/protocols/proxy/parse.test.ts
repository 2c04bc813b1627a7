import { describe, expect, it } from 'vitest';
import { parseProxyHeader, type ProxyParse } from '../../../src/protocols/proxy/index.js';
import { hex, latin1, proxied, ROUND_TRIP, V2_SIGNATURE_HEX } from './examples.js';

const SIG = V2_SIGNATURE_HEX;

describe('PROXY header parser (docs/proxy-protocol.md §2-4)', () => {
  it.each(ROUND_TRIP)('%s: gives the header and its length', (_name, header, bytes) => {
    expect(parseProxyHeader(bytes)).toEqual({ ...header, consumed: bytes.length });
  });

  it.each(ROUND_TRIP)('%s: leaves the bytes after the header to the connection', (_name, header, bytes) => {
    const frame = latin1('\n1234"SIA-DCS"0001L0#1234[]\r');
    expect(parseProxyHeader(Buffer.concat([bytes, frame]))).toEqual({ ...header, consumed: bytes.length });
  });

  const DECODE_ONLY: ReadonlyArray<readonly [name: string, bytes: Buffer, result: ProxyParse]> = [
    ['v1 UNKNOWN with addresses (ignored)', latin1('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'), { kind: 'local', version: 1, consumed: 35 }],
    [
      'v1 IPv6 written long and in upper case',
      latin1('PROXY TCP6 2001:0DB8:0:0:0:0:0:0007 0:0:0:0:0:FFFF:C000:0201 1 2\r\n'),
      { ...proxied(1, 'tcp6', ['2001:db8::7', 1], ['::ffff:192.0.2.1', 2]), consumed: 66 },
    ],
    [
      'v2 TCP4 followed by a NOOP TLV (skipped)',
      hex(`${SIG} 21 11 0013 7f000002 7f000001 0400 2f60 04 0004 00000000`),
      { ...proxied(2, 'tcp4', ['127.0.0.2', 1024], ['127.0.0.1', 12128]), consumed: 35 },
    ],
    [
      'v2 LOCAL with an address block (skipped)',
      hex(`${SIG} 20 11 000c 7f000002 7f000001 0400 2f60`),
      { kind: 'local', version: 2, consumed: 28 },
    ],
    ['v2 PROXY, family unspecified', hex(`${SIG} 21 00 0000`), { kind: 'local', version: 2, consumed: 16 }],
    ['v2 PROXY, UDP over IPv4', hex(`${SIG} 21 12 000c 7f000002 7f000001 0400 2f60`), { kind: 'local', version: 2, consumed: 28 }],
    ['v2 PROXY, Unix stream', Buffer.concat([hex(`${SIG} 21 31 00d8`), Buffer.alloc(216)]), { kind: 'local', version: 2, consumed: 232 }],
  ];

  it.each(DECODE_ONLY)('%s', (_name, bytes, result) => {
    expect(parseProxyHeader(bytes)).toEqual(result);
  });

  const INVALID: ReadonlyArray<readonly [name: string, bytes: Buffer, reason: string]> = [
    ['a DC-09 frame (no header)', latin1('\n5C2F0031"NULL"0001L0#1234[]\r'), 'not-proxy-protocol'],
    ['HTTP', latin1('GET / HTTP/1.1\r\n'), 'not-proxy-protocol'],
    ['PROXZ', latin1('PROXZ'), 'not-proxy-protocol'],
    ['v2 signature broken at its 8th byte', hex('0d0a0d0a000d0a52'), 'not-proxy-protocol'],
    ['v1 ended by a lone LF', latin1('PROXY TCP4 192.0.2.1 198.51.100.1 1 2\n'), 'v1-malformed'],
    ['v1 CR not followed by LF', latin1('PROXY TCP4 192.0.2.1 198.51.100.1 1 2\rX'), 'v1-malformed'],
    ['v1 leading zero in an address', latin1('PROXY TCP4 192.0.2.01 198.51.100.1 1 2\r\n'), 'v1-malformed'],
    ['v1 IPv6 address on TCP4', latin1('PROXY TCP4 ::1 198.51.100.1 1 2\r\n'), 'v1-malformed'],
    ['v1 IPv4 address on TCP6', latin1('PROXY TCP6 192.0.2.1 ::1 1 2\r\n'), 'v1-malformed'],
    ['v1 port over 65535', latin1('PROXY TCP4 192.0.2.1 198.51.100.1 65536 2\r\n'), 'v1-malformed'],
    ['v1 port with a leading zero', latin1('PROXY TCP4 192.0.2.1 198.51.100.1 080 2\r\n'), 'v1-malformed'],
    ['v1 two spaces', latin1('PROXY TCP4  192.0.2.1 198.51.100.1 1 2\r\n'), 'v1-malformed'],
    ['v1 a field missing', latin1('PROXY TCP4 192.0.2.1 198.51.100.1 1\r\n'), 'v1-malformed'],
    ['v1 UDP4', latin1('PROXY UDP4 192.0.2.1 198.51.100.1 1 2\r\n'), 'v1-malformed'],
    ['v1 IPv6 with two ::', latin1('PROXY TCP6 1::2::3 ::1 1 2\r\n'), 'v1-malformed'],
    ['v1 no CRLF within 107 bytes', latin1(`PROXY UNKNOWN ${'f'.repeat(93)}`), 'v1-too-long'],
    ['v1 CRLF at bytes 107-108', latin1(`PROXY UNKNOWN ${'f'.repeat(92)}\r\n`), 'v1-too-long'],
    ['v2 version 1', hex(`${SIG} 11`), 'v2-bad-version'],
    ['v2 command 2', hex(`${SIG} 22`), 'v2-bad-command'],
    ['v2 family 4', hex(`${SIG} 21 41 000c`), 'v2-bad-family'],
    ['v2 transport 3', hex(`${SIG} 21 13 000c`), 'v2-bad-family'],
    ['v2 IPv4 block shorter than 12 bytes', hex(`${SIG} 21 11 0008`), 'v2-short-address'],
    ['v2 IPv6 block shorter than 36 bytes', hex(`${SIG} 21 21 000c`), 'v2-short-address'],
  ];

  it.each(INVALID)('%s: invalid (%s)', (_name, bytes, reason) => {
    expect(parseProxyHeader(bytes)).toEqual({ kind: 'invalid', reason });
  });

  it('accepts the longest v1 line (107 bytes)', () => {
    const line = latin1(`PROXY UNKNOWN ${'f'.repeat(91)}\r\n`);
    expect(line.length).toBe(107);
    expect(parseProxyHeader(line)).toEqual({ kind: 'local', version: 1, consumed: 107 });
  });

  const INCOMPLETE: ReadonlyArray<readonly [name: string, bytes: Buffer, need: number]> = [
    ['nothing', Buffer.alloc(0), 1],
    ['PRO', latin1('PRO'), 4],
    ['v1 cut in an address', latin1('PROXY TCP4 192.0.2'), 19],
    ['v1 cut between CR and LF', latin1('PROXY UNKNOWN\r'), 15],
    ['v2 signature only', hex(SIG), 13],
    ['v2 without the length', hex(`${SIG} 21 11 00`), 16],
    ['v2 IPv4 without its last byte', hex(`${SIG} 21 11 000c c000020a c6336401 c738 2f`), 28],
    ['v2 LOCAL with an address block cut', hex(`${SIG} 20 11 000c 7f00`), 28],
    ['v2 with the longest length', hex(`${SIG} 21 11 ffff 7f00`), 65551],
  ];

  it.each(INCOMPLETE)('%s: needs more bytes', (_name, bytes, need) => {
    expect(parseProxyHeader(bytes)).toEqual({ kind: 'incomplete', need });
  });
});
