/** Headers and their bytes (docs/proxy-protocol.md §2-4), shared by the parser's and the writer's tests. */
import type { ProxiedHeader, ProxyHeader } from '../../../src/protocols/proxy/index.js';

export const V2_SIGNATURE_HEX = '0d0a0d0a000d0a515549540a';

/** Hex with spaces for reading, or text for v1 lines. */
export const hex = (text: string) => Buffer.from(text.replace(/ /g, ''), 'hex');
export const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** A relayed connection's header: source and destination as [address, port]. */
export const proxied = (
  version: 1 | 2,
  family: 'tcp4' | 'tcp6',
  [sourceAddress, sourcePort]: [string, number],
  [destinationAddress, destinationPort]: [string, number],
): ProxiedHeader => ({
  kind: 'proxied',
  version,
  family,
  source: { address: sourceAddress, port: sourcePort },
  destination: { address: destinationAddress, port: destinationPort },
});

/** Round trip (name, object, bytes): the writer gives the bytes, the parser gives the object back. */
export const ROUND_TRIP: ReadonlyArray<readonly [name: string, header: ProxyHeader, bytes: Buffer]> = [
  [
    'v1 TCP over IPv4',
    proxied(1, 'tcp4', ['192.0.2.10', 51000], ['198.51.100.1', 12128]),
    latin1('PROXY TCP4 192.0.2.10 198.51.100.1 51000 12128\r\n'),
  ],
  [
    'v1 TCP over IPv6',
    proxied(1, 'tcp6', ['2001:db8::7', 4242], ['2001:db8::1', 12128]),
    latin1('PROXY TCP6 2001:db8::7 2001:db8::1 4242 12128\r\n'),
  ],
  [
    'v1 ports 0 and 65535',
    proxied(1, 'tcp4', ['0.0.0.0', 0], ['255.255.255.255', 65535]),
    latin1('PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n'),
  ],
  ['v1 UNKNOWN (short form)', { kind: 'local', version: 1 }, latin1('PROXY UNKNOWN\r\n')],
  [
    'v2 TCP over IPv4',
    proxied(2, 'tcp4', ['192.0.2.10', 51000], ['198.51.100.1', 12128]),
    hex(`${V2_SIGNATURE_HEX} 21 11 000c c000020a c6336401 c738 2f60`),
  ],
  [
    'v2 TCP over IPv6',
    proxied(2, 'tcp6', ['2001:db8::7', 4242], ['2001:db8::1', 12128]),
    hex(`${V2_SIGNATURE_HEX} 21 21 0024 20010db8000000000000000000000007 20010db8000000000000000000000001 1092 2f60`),
  ],
  [
    'v2 IPv4-mapped IPv6 source',
    proxied(2, 'tcp6', ['::ffff:203.0.113.5', 1], ['::1', 2]),
    hex(`${V2_SIGNATURE_HEX} 21 21 0024 00000000000000000000ffffcb007105 00000000000000000000000000000001 0001 0002`),
  ],
  ['v2 LOCAL (health check)', { kind: 'local', version: 2 }, hex(`${V2_SIGNATURE_HEX} 20 00 0000`)],
];
