/**
 * Reads a PROXY protocol header (v1 or v2) from the first bytes of a TCP stream (docs/proxy-protocol.md §2-4).
 * Pure and prefix-stable: once the bytes so far decide (a header or a rejection), more bytes never change the
 * answer, so a reader may call it again on each longer prefix. Garbage is rejected as soon as a byte proves it.
 */
import {
  V1_MAX_BYTES,
  V1_PREFIX,
  V2_FIXED_BYTES,
  V2_SIGNATURE,
  type ProxiedHeader,
  type ProxyParse,
  type ProxyRejection,
} from './header.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip.js';

const incomplete = (need: number): ProxyParse => ({ kind: 'incomplete', need });
/** Undecided until the next byte. */
const nextByte = (bytes: Uint8Array) => incomplete(bytes.length + 1);
const invalid = (reason: ProxyRejection): ProxyParse => ({ kind: 'invalid', reason });

const CR = 0x0d;
const LF = 0x0a;

export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  if (bytes.length === 0) return nextByte(bytes);
  if (bytes[0] === V1_PREFIX.charCodeAt(0)) return parseV1(bytes);
  if (bytes[0] === V2_SIGNATURE[0]) return parseV2(bytes);
  return invalid('not-proxy-protocol');
}

// v1 -------------------------------------------------------------------------------------------------------------

const PORT = /^(?:0|[1-9]\d{0,4})$/;
/** v1 protocol word → the family and its address reader and writer. */
const V1_FAMILIES = {
  TCP4: { family: 'tcp4', parse: parseIpv4, format: formatIpv4 },
  TCP6: { family: 'tcp6', parse: parseIpv6, format: formatIpv6 },
} as const;

function parseV1(bytes: Uint8Array): ProxyParse {
  const window = Math.min(bytes.length, V1_MAX_BYTES);
  for (let i = 1; i < Math.min(window, V1_PREFIX.length); i++) {
    if (bytes[i] !== V1_PREFIX.charCodeAt(i)) return invalid('not-proxy-protocol');
  }
  for (let i = 0; i < window; i++) {
    // Only CRLF ends the line: a lone LF, or a CR followed by anything else, is malformed (docs/proxy-protocol.md §2).
    if (bytes[i] === LF) return invalid('v1-malformed');
    if (bytes[i] !== CR) continue;
    if (i + 1 >= V1_MAX_BYTES) return invalid('v1-too-long');
    if (i + 1 >= bytes.length) return nextByte(bytes);
    if (bytes[i + 1] !== LF) return invalid('v1-malformed');
    return v1Line(Buffer.from(bytes.buffer, bytes.byteOffset, i).toString('latin1'), i + 2);
  }
  return bytes.length >= V1_MAX_BYTES ? invalid('v1-too-long') : nextByte(bytes);
}

function v1Line(line: string, consumed: number): ProxyParse {
  const fields = line.split(' ');
  if (fields[0] !== V1_PREFIX) return invalid('v1-malformed');
  // UNKNOWN: whatever follows up to the CRLF is ignored and the socket's own addresses stand (docs/proxy-protocol.md §2).
  if (fields[1] === 'UNKNOWN') return { kind: 'local', version: 1, consumed };
  const spec = fields[1] === 'TCP4' || fields[1] === 'TCP6' ? V1_FAMILIES[fields[1]] : undefined;
  if (!spec || fields.length !== 6) return invalid('v1-malformed');
  const [, , sourceText, destinationText, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const source = spec.parse(sourceText);
  const destination = spec.parse(destinationText);
  const ports = [sourcePort, destinationPort].map((p) => (PORT.test(p) ? Number(p) : NaN));
  if (!source || !destination || !ports.every((p) => p <= 0xffff)) return invalid('v1-malformed');
  return {
    kind: 'proxied',
    version: 1,
    family: spec.family,
    source: { address: spec.format(source), port: ports[0]! },
    destination: { address: spec.format(destination), port: ports[1]! },
    consumed,
  };
}

// v2 -------------------------------------------------------------------------------------------------------------

const COMMAND_LOCAL = 0x0;
const COMMAND_PROXY = 0x1;
const TRANSPORT_STREAM = 0x1;
/** Address family nibble → its address block's length and, for the families the bridge takes over, how to read it (docs/proxy-protocol.md §4). */
const V2_FAMILIES: Readonly<
  Record<number, { block: number; read?: (b: Uint8Array, at: number) => Omit<ProxiedHeader, 'kind' | 'version'> }>
> = {
  0x0: { block: 0 },
  0x1: { block: 12, read: (b, at) => addresses(b, at, 4, 'tcp4', formatIpv4) },
  0x2: { block: 36, read: (b, at) => addresses(b, at, 16, 'tcp6', formatIpv6) },
  0x3: { block: 216 },
};
const MAX_TRANSPORT = 0x2;

function addresses(b: Uint8Array, at: number, size: number, family: 'tcp4' | 'tcp6', format: (b: Uint8Array, at: number) => string) {
  const ports = at + 2 * size;
  return {
    family,
    source: { address: format(b, at), port: (b[ports]! << 8) | b[ports + 1]! },
    destination: { address: format(b, at + size), port: (b[ports + 2]! << 8) | b[ports + 3]! },
  };
}

function parseV2(bytes: Uint8Array): ProxyParse {
  for (let i = 1; i < Math.min(bytes.length, V2_SIGNATURE.length); i++) {
    if (bytes[i] !== V2_SIGNATURE[i]) return invalid('not-proxy-protocol');
  }
  if (bytes.length <= 12) return nextByte(bytes);
  if (bytes[12]! >> 4 !== 2) return invalid('v2-bad-version');
  const command = bytes[12]! & 0x0f;
  if (command !== COMMAND_LOCAL && command !== COMMAND_PROXY) return invalid('v2-bad-command');
  if (bytes.length < V2_FIXED_BYTES) return nextByte(bytes);
  const length = (bytes[14]! << 8) | bytes[15]!;
  const consumed = V2_FIXED_BYTES + length;
  // LOCAL: the family byte and any address are ignored (docs/proxy-protocol.md §3).
  if (command === COMMAND_LOCAL) return bytes.length < consumed ? incomplete(consumed) : { kind: 'local', version: 2, consumed };
  const family = V2_FAMILIES[bytes[13]! >> 4];
  const transport = bytes[13]! & 0x0f;
  if (!family || transport > MAX_TRANSPORT) return invalid('v2-bad-family');
  if (length < family.block) return invalid('v2-short-address');
  if (bytes.length < consumed) return incomplete(consumed);
  // Unspecified, Unix and datagram connections carry no TCP peer: the socket's own address stands (docs/proxy-protocol.md §4).
  if (!family.read || transport !== TRANSPORT_STREAM) return { kind: 'local', version: 2, consumed };
  return { kind: 'proxied', version: 2, ...family.read(bytes, V2_FIXED_BYTES), consumed };
}
