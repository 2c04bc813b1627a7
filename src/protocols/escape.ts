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

/** Encodes bytes with escapes for everything outside printable ASCII. */
export function escapeFrame(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x5c) out += '\\\\';
    else if (b < 0x20 || b > 0x7e) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
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
