/**
 * C-style escapes for frames on the command line and in capture files: `\n`, `\r`, `\t`, `\0`, `\xHH`, `\\`.
 * Frames are bytes; text here is latin-1 (one character = one byte).
 */

const NAMED: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\', '"': '"' };

/** Decodes escapes into latin-1 bytes. Unknown escapes keep the character after the backslash. */
export function unescapeFrame(text: string): Buffer {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[i + 1]!;
    if (next === 'x' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out += NAMED[next] ?? next;
      i += 1;
    }
  }
  return Buffer.from(out, 'latin1');
}

const HEX = '0123456789abcdef';

function escapeByte(b: number): string {
  if (b === 0x0a) return '\\n';
  if (b === 0x0d) return '\\r';
  if (b === 0x5c) return '\\\\';
  return `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
}

const printable = (b: number) => b >= 0x20 && b <= 0x7e && b !== 0x5c;

/**
 * Encodes bytes with escapes for everything outside printable ASCII. Runs a frame per event (the stored raw
 * frame), so printable stretches are copied as one slice instead of growing the string a character at a time.
 */
export function escapeFrame(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  let runStart = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (printable(b)) continue;
    if (i > runStart) out += buf.toString('latin1', runStart, i);
    out += escapeByte(b);
    runStart = i + 1;
  }
  if (runStart === 0) return buf.toString('latin1');
  return runStart < buf.length ? out + buf.toString('latin1', runStart) : out;
}

/** Adds the leading LF and trailing CR when an operator left them out (NULs after the CR are kept). */
export function completeFrame(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const needsLf = bytes[0] !== 0x0a;
  const needsCr = end === 0 || bytes[end - 1] !== 0x0d;
  if (!needsLf && !needsCr) return bytes;
  return Buffer.concat([
    needsLf ? Buffer.from([0x0a]) : Buffer.alloc(0),
    bytes.subarray(0, end),
    needsCr ? Buffer.from([0x0d]) : Buffer.alloc(0),
    bytes.subarray(end),
  ]);
}
