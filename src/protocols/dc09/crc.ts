/**
 * CRC-16/ARC (poly 0x8005 reflected = 0xA001, init 0, no final xor): the DC-09 frame check
 * (docs/dc09.md §3). Check value of "123456789" is 0xBB3D.
 */

const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** Continues a CRC over `bytes[start, end)`; start from 0 for a fresh CRC. */
export function crc16Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = crc;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ TABLE[(c ^ bytes[i]!) & 0xff]!;
  return c;
}

/** Continues a CRC by one byte (used for the Eldes variant that covers the trailing CR, docs/dc09.md §3). */
export function crc16UpdateByte(crc: number, byte: number): number {
  return (crc >>> 8) ^ TABLE[(crc ^ byte) & 0xff]!;
}

export function crc16arc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc16Update(0, bytes, start, end);
}

const CR = 0x0d;

/**
 * docs/dc09.md §3: checks a declared CRC against `bytes[start, end)`, where `end` is the frame's CR. Eldes panels cover that CR
 * too; `includesCr` says the CRC matched only that way (replies then mirror it).
 */
export function checkFrameCrc(
  bytes: Uint8Array,
  start: number,
  end: number,
  declared: number,
): { ok: boolean; includesCr: boolean; computed: number } {
  const computed = crc16arc(bytes, start, end);
  const includesCr = computed !== declared && crc16UpdateByte(computed, CR) === declared;
  return { ok: computed === declared || includesCr, includesCr, computed };
}

/** Four upper-case hex digits, zero padded (docs/dc09.md §3: "Output upper-case hex, zero padded to 4"). */
export function formatCrc(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}
