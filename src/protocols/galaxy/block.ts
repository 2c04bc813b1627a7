/**
 * Honeywell Galaxy native "SIA over IP" blocks (docs/sia-dcs.md §4): raw DC-03 blocks over TCP,
 * `header(1) function(1) data(n) parity(1)` with header = 0x40 + n and parity = 0xFF ^ xor(header, function, data).
 * Pure: building and parsing single blocks; the framer cuts them out of a stream.
 */

/** Header bit 6 is set in all observed traffic; the low 6 bits are the data length (docs/sia-dcs.md §4). */
export const GALAXY_HEADER_BASE = 0x40;
export const GALAXY_MAX_DATA = 0x3f;
/** Header, function and parity around the data. */
export const GALAXY_BLOCK_OVERHEAD = 3;

/** Function bytes (docs/sia-dcs.md §4) the receiver acts on or sends. */
export const GALAXY_FUNCTION = {
  account: '#',
  newEvent: 'N',
  oldEvent: 'O',
  text: 'A',
  endOfData: '0',
  ack: '8',
  reject: '9',
} as const;

export interface GalaxyBlock {
  /** One character: `#` account, `N`/`O` event, `A` text, `0` end of data, `8` ACK, `9` reject, … */
  function: string;
  /** The data bytes as latin-1 text (one character per byte), at most 63. */
  data: string;
}

export type GalaxyBlockResult = { ok: true; block: GalaxyBlock } | { ok: false; code: 'header' | 'length' | 'parity'; error: string };

/** 0xFF ^ the XOR of every byte in [start, end). */
export function galaxyParity(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i]!;
  return 0xff ^ x;
}

/** The bytes of one block. Throws RangeError for a function that is not one byte or data over 63 bytes. */
export function buildGalaxyBlock(block: GalaxyBlock): Buffer {
  const data = Buffer.from(block.data, 'latin1');
  if (block.function.length !== 1 || block.function.charCodeAt(0) > 0xff) {
    throw new RangeError(`Galaxy block function must be one byte, got ${JSON.stringify(block.function)}`);
  }
  if (data.length > GALAXY_MAX_DATA) throw new RangeError(`Galaxy block data is at most ${GALAXY_MAX_DATA} bytes, got ${data.length}`);
  const bytes = Buffer.alloc(data.length + GALAXY_BLOCK_OVERHEAD);
  bytes[0] = GALAXY_HEADER_BASE + data.length;
  bytes[1] = block.function.charCodeAt(0);
  data.copy(bytes, 2);
  bytes[bytes.length - 1] = galaxyParity(bytes, 0, bytes.length - 1);
  return bytes;
}

/** The receiver's acknowledgement `@8` → `40 38 87` (docs/sia-dcs.md §4). */
export const GALAXY_ACK = buildGalaxyBlock({ function: GALAXY_FUNCTION.ack, data: '' });
/** The reject block `@9` → `40 39 86`: the panel sends the block again. */
export const GALAXY_REJECT = buildGalaxyBlock({ function: GALAXY_FUNCTION.reject, data: '' });

/** Whether a byte can open a block: bit 6 set, bit 7 clear (docs/sia-dcs.md §4). */
export const isGalaxyHeader = (byte: number): boolean => (byte & 0xc0) === GALAXY_HEADER_BASE;

/** Bytes of a whole block opening with `header`. */
export const galaxyBlockLength = (header: number): number => (header & GALAXY_MAX_DATA) + GALAXY_BLOCK_OVERHEAD;

/** Parses one whole block (as the framer cuts it). Never throws. */
export function parseGalaxyBlock(bytes: Uint8Array): GalaxyBlockResult {
  if (bytes.length === 0 || !isGalaxyHeader(bytes[0]!)) {
    return {
      ok: false,
      code: 'header',
      error: `a Galaxy block starts with a header byte 0x40-0x7F, found ${bytes.length === 0 ? 'nothing' : `0x${hex(bytes[0]!)}`}`,
    };
  }
  const expected = galaxyBlockLength(bytes[0]!);
  if (bytes.length !== expected) {
    return { ok: false, code: 'length', error: `header 0x${hex(bytes[0]!)} announces a ${expected}-byte block, got ${bytes.length} bytes` };
  }
  const parity = galaxyParity(bytes, 0, bytes.length - 1);
  const sent = bytes[bytes.length - 1]!;
  if (parity !== sent) return { ok: false, code: 'parity', error: `parity byte 0x${hex(sent)} should be 0x${hex(parity)}` };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return { ok: true, block: { function: text.charAt(1), data: text.slice(2, -1) } };
}

const hex = (byte: number) => byte.toString(16).toUpperCase().padStart(2, '0');
