/**
 * Writes PROXY protocol headers (docs/proxy-protocol.md §2-4): what a load balancer sends, for tests and tools.
 * v1 LOCAL is the `UNKNOWN` line; v2 LOCAL has no address. Addresses are taken in any valid spelling.
 */
import { V1_PREFIX, V2_FIXED_BYTES, V2_SIGNATURE, type ProxyHeader } from './header.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip.js';

const V2_COMMAND = { local: 0x20, proxied: 0x21 } as const;
/** Family → v2 family/transport byte (TCP over IPv4 / IPv6), address size, reader and writer. */
const FAMILIES = {
  tcp4: { v1: 'TCP4', v2: 0x11, size: 4, parse: parseIpv4, format: formatIpv4 },
  tcp6: { v1: 'TCP6', v2: 0x21, size: 16, parse: parseIpv6, format: formatIpv6 },
} as const;

export function encodeProxyHeader(header: ProxyHeader): Buffer {
  return header.version === 1 ? encodeV1(header) : encodeV2(header);
}

function addressBytes(parse: (text: string) => Uint8Array | null, address: string): Uint8Array {
  const bytes = parse(address);
  if (!bytes) throw new RangeError(`not an address of the header's family: ${address}`);
  return bytes;
}

function encodeV1(header: ProxyHeader): Buffer {
  if (header.kind === 'local') return Buffer.from(`${V1_PREFIX} UNKNOWN\r\n`, 'latin1');
  const spec = FAMILIES[header.family];
  const text = (address: string) => spec.format(addressBytes(spec.parse, address));
  const { source, destination } = header;
  return Buffer.from(
    `${V1_PREFIX} ${spec.v1} ${text(source.address)} ${text(destination.address)} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

function encodeV2(header: ProxyHeader): Buffer {
  if (header.kind === 'local') return Buffer.concat([V2_SIGNATURE, Buffer.from([V2_COMMAND.local, 0x00, 0x00, 0x00])]);
  const spec = FAMILIES[header.family];
  const length = 2 * spec.size + 4;
  const out = Buffer.alloc(V2_FIXED_BYTES + length);
  V2_SIGNATURE.copy(out, 0);
  out[12] = V2_COMMAND.proxied;
  out[13] = spec.v2;
  out.writeUInt16BE(length, 14);
  out.set(addressBytes(spec.parse, header.source.address), V2_FIXED_BYTES);
  out.set(addressBytes(spec.parse, header.destination.address), V2_FIXED_BYTES + spec.size);
  out.writeUInt16BE(header.source.port, V2_FIXED_BYTES + 2 * spec.size);
  out.writeUInt16BE(header.destination.port, V2_FIXED_BYTES + 2 * spec.size + 2);
  return out;
}
