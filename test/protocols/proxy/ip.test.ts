import fc from 'fast-check';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../../src/protocols/proxy/index.js';

const CANONICAL_IPV6: ReadonlyArray<readonly [written: string, canonical: string]> = [
  ['::', '::'],
  ['::1', '::1'],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ['fe80::', 'fe80::'],
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
  ['0:0:0:0:0:ffff:c000:201', '::ffff:192.0.2.1'],
  ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
];

describe('IP addresses of PROXY headers (docs/proxy-protocol.md §2)', () => {
  it.each(CANONICAL_IPV6)('IPv6 %s is written %s', (written, canonical) => {
    expect(formatIpv6(parseIpv6(written)!)).toBe(canonical);
  });

  it.each(['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-4', '', 'a.b.c.d', ' 1.2.3.4'])('IPv4 %j is refused', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });

  it.each([':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', '::1.2.3', '1.2.3.4::', '1:2:3:4:5:6:7::8:9'])(
    'IPv6 %j is refused',
    (text) => {
      expect(parseIpv6(text)).toBeNull();
    },
  );

  it('bytes → text → bytes, and the text is a valid address for Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const v6 = formatIpv6(bytes);
        expect(isIPv6(v6)).toBe(true);
        expect(parseIpv6(v6)).toEqual(bytes);
        const v4 = formatIpv4(bytes, 12);
        expect(isIPv4(v4)).toBe(true);
        expect(parseIpv4(v4)).toEqual(bytes.subarray(12));
      }),
    );
  });

  it('accepts an IPv6 text exactly when Node does (hex groups, one ::, a final dotted quad)', () => {
    const group = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 5 }),
      fc.constant(''),
      fc.constant('1.2.3.4'),
      fc.constant('01.2.3.4'),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 10 }), (groups) => {
        const text = groups.join(':');
        expect(parseIpv6(text) !== null).toBe(isIPv6(text));
      }),
      { numRuns: 2000 },
    );
  });
});
