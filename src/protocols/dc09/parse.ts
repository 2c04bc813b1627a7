/**
 * DC-09 frame parser: bytes of one frame (LF … CR, optional trailing NULs) → typed message or typed error.
 * Never throws. Rules cite docs/dc09.md; docs/dc09.md §17 gives the processing order followed here.
 */
import { readAccountWrapper } from '../account-wrapper.js';
import { dataAccountFor } from '../decode.js';
import { checkFrameCrc, formatCrc } from './crc.js';
import { decryptBlocks } from './crypto.js';
import { parseTimestamp, TIMESTAMP_LENGTH } from './timestamp.js';
import type { CrcForm, Dc09Error, Dc09ErrorCode, Dc09Message, ParseResult, XData } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const ZERO = 0x30;
/** The length field holds 3 hex digits (docs/dc09.md §4). */
export const MAX_BODY_LENGTH = 0xfff;

export interface ParseOptions {
  /**
   * AES keys to try for an encrypted message of this account (the header account, upper-cased: the data account
   * is inside the cipher text).
   * Several keys cover "hex or ascii?" ambiguity (docs/dc09.md §12). Empty or null: the account has no key.
   */
  keysFor?: (account: string) => readonly Uint8Array[] | null;
}

export interface FrameHeaderShape {
  form: CrcForm;
  /** Offset of the opening `"` (first covered byte). */
  bodyStart: number;
  /** Declared length, or -1 when the length digits are not hex. */
  declaredLength: number;
  /** Declared CRC, or -1 when the 4 ASCII digits are not hex. */
  declaredCrc: number;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function hexNumber(bytes: Uint8Array, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = hexValue(bytes[i]!);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * Detects the CRC form from the bytes after the LF at `lf` (docs/dc09.md §3 detection rule): `'0'` at +5 and `"` at +9
 * → 4 hex digits; `'0'` at +3 and `"` at +7 → 2 binary bytes. Null when neither shape fits.
 */
export function detectHeader(bytes: Uint8Array, lf: number): FrameHeaderShape | null {
  if (bytes[lf + 5] === ZERO && bytes[lf + 9] === QUOTE) {
    return { form: 'ascii', bodyStart: lf + 9, declaredLength: hexNumber(bytes, lf + 6, 3), declaredCrc: hexNumber(bytes, lf + 1, 4) };
  }
  if (bytes[lf + 3] === ZERO && bytes[lf + 7] === QUOTE) {
    return {
      form: 'binary',
      bodyStart: lf + 7,
      declaredLength: hexNumber(bytes, lf + 4, 3),
      declaredCrc: (bytes[lf + 1]! << 8) | bytes[lf + 2]!,
    };
  }
  return null;
}

function fail(code: Dc09ErrorCode, message: string, partial: Partial<Dc09Message> = {}): ParseResult {
  const error: Dc09Error = { code, message, partial };
  return { ok: false, error };
}

const NAK_HEADER = '"NAK"0000R0L0A0[';
const ACCOUNT_CHARS = /^[0-9A-Za-z]{1,16}$/;

interface Header extends Pick<Dc09Message, 'token' | 'encrypted' | 'sequence' | 'receiver' | 'line' | 'account'> {
  /** Index of the `[` that opens the data block. */
  dataStart: number;
}

function isHexChar(code: number): boolean {
  return hexValue(code) >= 0;
}

/** Counts hex characters from `at`, up to `max`. */
function hexRun(text: string, at: number, max: number): number {
  let n = 0;
  while (n < max && at + n < text.length && isHexChar(text.charCodeAt(at + n))) n++;
  return n;
}

function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** Parses `"ID"seq[Rr][Lp][#acct][` (docs/dc09.md §2, tolerances of docs/dc09.md §7). */
function parseHeader(body: string): Header | { error: Dc09ErrorCode; message: string; partial: Partial<Dc09Message> } {
  // docs/dc09.md §11: recognise the fixed NAK form first; `L0A0` would otherwise read as line `0A0`.
  if (body.startsWith(NAK_HEADER)) {
    return { token: 'NAK', encrypted: false, sequence: '0000', receiver: '0', line: '0', account: null, dataStart: NAK_HEADER.length - 1 };
  }
  const close = body.indexOf('"', 1);
  if (body.charCodeAt(0) !== QUOTE || close < 2)
    return { error: 'header', message: 'ID token is not enclosed in double quotes', partial: {} };
  let token = body.slice(1, close);
  const encrypted = token.startsWith('*');
  if (encrypted) token = token.slice(1);
  if (!/^[A-Z0-9-]{1,16}$/.test(token)) return { error: 'header', message: `ID token "${token}" is not a DC-09 token`, partial: {} };
  let at = close + 1;
  const sequence = body.slice(at, at + 4);
  if (!/^\d{4}$/.test(sequence)) {
    return { error: 'header', message: 'sequence number must be 4 decimal digits', partial: { token, encrypted } };
  }
  at += 4;
  let receiver: string | null = null;
  if (body[at] === 'R') {
    const n = hexRun(body, at + 1, 6);
    if (n === 0) return { error: 'header', message: 'receiver number R needs 1-6 hex digits', partial: { token, encrypted, sequence } };
    receiver = body.slice(at + 1, at + 1 + n);
    at += 1 + n;
  }
  let line: string | null = null;
  if (body[at] === 'L') {
    // docs/dc09.md §7: a bare `L` without digits occurs (Chinese hosts).
    const n = hexRun(body, at + 1, 6);
    line = body.slice(at + 1, at + 1 + n);
    at += 1 + n;
  }
  let account: string | null = null;
  if (body[at] === '#') {
    let n = 0;
    while (at + 1 + n < body.length && isAlnum(body.charCodeAt(at + 1 + n))) n++;
    account = body.slice(at + 1, at + 1 + n);
    if (!ACCOUNT_CHARS.test(account)) {
      return {
        error: 'account',
        message: `account "${account}" must be 1-16 characters [0-9A-Za-z]`,
        partial: { token, encrypted, sequence, receiver, line },
      };
    }
    at += 1 + n;
  }
  if (body[at] !== '[') {
    return {
      error: 'header',
      message: `expected "[" after the header at offset ${at}, found ${JSON.stringify(body.slice(at, at + 8))}`,
      partial: { token, encrypted, sequence, receiver, line, account },
    };
  }
  return { token, encrypted, sequence, receiver, line, account, dataStart: at };
}

interface Trailer {
  xdata: XData[];
  timestamp: Date | null;
}

/**
 * Parses what follows the data block's `]`: xdata blocks `[X…]` (docs/dc09.md §9) then an optional `_timestamp` (docs/dc09.md §10),
 * to the end of `text`. Returns an error string when anything else is there.
 */
function parseTrailer(text: string, at: number): Trailer | { error: Dc09ErrorCode; message: string } {
  const xdata: XData[] = [];
  while (text[at] === '[') {
    const end = text.indexOf(']', at + 1);
    if (end < 0) return { error: 'data', message: `extended data block at offset ${at} has no closing "]"` };
    const id = text[at + 1];
    if (id === undefined || end === at + 1 || id < 'A' || id > 'Z') {
      return { error: 'data', message: `extended data block at offset ${at} must start with an upper-case identifier` };
    }
    xdata.push({ id, value: text.slice(at + 2, end) });
    at = end + 1;
  }
  if (at === text.length) return { xdata, timestamp: null };
  if (text[at] !== '_') return { error: 'data', message: `unexpected ${JSON.stringify(text.slice(at, at + 8))} after the data block` };
  if (text.length - at !== TIMESTAMP_LENGTH) {
    return { error: 'timestamp', message: `timestamp must be _HH:MM:SS,MM-DD-YYYY, found ${JSON.stringify(text.slice(at))}` };
  }
  const timestamp = parseTimestamp(text, at);
  if (!timestamp) return { error: 'timestamp', message: `timestamp ${JSON.stringify(text.slice(at))} is not a valid UTC date and time` };
  return { xdata, timestamp };
}

/** `#acct|…` at the start of the data → the account; empty, absent or malformed → null (docs/dc09.md §8). */
export function dataAccountOf(data: string): string | null {
  const wrapper = readAccountWrapper(data);
  return 'error' in wrapper ? null : wrapper.account;
}

function isHexString(text: string, start: number): boolean {
  for (let i = start; i < text.length; i++) if (!isHexChar(text.charCodeAt(i))) return false;
  return true;
}

interface Decrypted {
  pad: string;
  data: string;
  trailer: Trailer;
}

/** Text that can start a data block: `#acct|`, a bare `|`, SIA `N`/`O` + code or modifier, Contact ID `QEEE`. */
const DATA_START = /^(?:#[0-9A-Za-z]{0,16}\||\||[NO]?(?:[A-Z]{2}|[a-z]{2}[0-9:-])|[0-9A-Fa-f]{4} ?[0-9A-Fa-f]{2} ?[0-9A-Fa-f]{3})/;

/** `#acct|` at the start of a data block (docs/dc09.md §8). */
const ACCOUNT_START = /^#[0-9A-Za-z]{1,16}\|/;
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** The pad is 1–16 bytes (16 when the rest is already block-aligned), so its `|` sits within the first 17. */
const MAX_PAD = 16;

/**
 * docs/dc09.md §12 robust decryption. Ajax pads with random bytes that may themselves be `]` or `|`, so neither "first `]`"
 * nor "first `|`" is safe: the data ends at the first `]` after which a valid trailer (xdata, timestamp) follows,
 * and the pad ends at the `|` (within the pad's maximum length) after which the data looks most like data (see
 * below) — else at the first `|`, else there is no data (NULL, ACK). Frames whose data looks like nothing a panel
 * sends are read with the first `|`, as every implementation does.
 */
function decryptPayload(key: Uint8Array, cipherHex: string): Decrypted | null {
  const plain = decryptBlocks(key, Buffer.from(cipherHex, 'hex')).toString('latin1');
  let close = -1;
  let trailer: Trailer | null = null;
  for (let at = plain.indexOf(']'); at >= 0; at = plain.indexOf(']', at + 1)) {
    const parsed = parseTrailer(plain, at + 1);
    if (!('error' in parsed) && parsed.timestamp !== null) {
      close = at;
      trailer = parsed;
      break;
    }
  }
  if (!trailer) return null; // docs/dc09.md §12 step 5: no valid trailer = wrong key
  // Candidates, best first: a `|` followed by `#acct|` (Ajax repeats its account there); else the first followed by
  // data-like text without control characters (random pad bytes are mostly control characters, panel data never
  // is); else the first followed by data-like text at all; else the first `|`.
  let bar = -1;
  let clean = -1;
  let likely = -1;
  for (let at = plain.indexOf('|'); at >= 0 && at < close && at <= MAX_PAD; at = plain.indexOf('|', at + 1)) {
    const rest = plain.slice(at + 1, close);
    if (bar < 0) {
      bar = at;
      if (rest === '') break; // pad | ] — no data (NULL)
    }
    if (ACCOUNT_START.test(rest)) {
      clean = at;
      break;
    }
    if (DATA_START.test(rest)) {
      if (likely < 0) likely = at;
      if (clean < 0 && !CONTROL_CHARACTER.test(rest)) clean = at;
    }
  }
  if (clean >= 0) bar = clean;
  else if (likely >= 0) bar = likely;
  if (bar < 0) {
    // No `|` where a pad could end: pad only (empty data), unless the "pad" is longer than a pad can be.
    const head = plain.indexOf('|');
    bar = head >= 0 && head < close ? head : -1;
  }
  return {
    pad: bar >= 0 ? plain.slice(0, bar) : plain.slice(0, close),
    data: bar >= 0 ? plain.slice(bar + 1, close) : '',
    trailer,
  };
}

/** Parses one frame. `bytes` must start with LF and end with CR, optionally followed by NULs (docs/dc09.md §1). */
export function parseFrame(bytes: Uint8Array, options: ParseOptions = {}): ParseResult {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--; // docs/dc09.md §1: some hosts append 0x00 after the CR
  if (bytes[0] !== LF || end < 2 || bytes[end - 1] !== CR) return fail('framing', 'a frame must start with LF and end with CR');
  const cr = end - 1;
  const shape = detectHeader(bytes, 0);
  if (!shape) return fail('framing', 'no CRC and length field after LF (neither 4 hex nor 2 binary CRC digits)');
  const bodyLength = cr - shape.bodyStart;
  if (bodyLength < 0) return fail('framing', 'frame ends inside its header');
  if (bodyLength > MAX_BODY_LENGTH) return fail('size', `body of ${bodyLength} bytes exceeds the 4095-byte DC-09 maximum`);
  const { declaredCrc } = shape;
  if (declaredCrc < 0) return fail('crc', 'CRC field is not 4 hex digits');
  if (shape.declaredLength < 0) return fail('length', 'length field is not "0" followed by 3 hex digits');

  const check = checkFrameCrc(bytes, shape.bodyStart, cr, declaredCrc);
  const crc = { value: declaredCrc, ok: check.ok, form: shape.form, includesCr: check.includesCr };
  const length = shape.declaredLength;
  if (!check.ok) {
    return fail('crc', `CRC mismatch: frame says ${formatCrc(declaredCrc)}, computed ${formatCrc(check.computed)}`, { crc, length });
  }
  // docs/dc09.md §4 length = covered byte count; docs/dc09.md §3 Eldes counts the CR.
  if (length !== bodyLength && length !== bodyLength + 1) {
    return fail('length', `length field says ${length} bytes, body has ${bodyLength}`, { crc, length });
  }

  const body = Buffer.from(bytes.buffer, bytes.byteOffset + shape.bodyStart, bodyLength).toString('latin1');
  const header = parseHeader(body);
  if ('error' in header) return fail(header.error, header.message, { ...header.partial, crc, length });
  const { token, encrypted, sequence, receiver, line, account } = header;
  const partial: Partial<Dc09Message> = { token, encrypted, sequence, receiver, line, account, crc, length };

  if (!encrypted) {
    const close = body.indexOf(']', header.dataStart + 1);
    if (close < 0) return fail('data', 'data block has no closing "]"', partial);
    const data = body.slice(header.dataStart + 1, close);
    const dataAccount = dataAccountFor(token, data);
    const trailer = parseTrailer(body, close + 1);
    if ('error' in trailer) return fail(trailer.error, trailer.message, { ...partial, data, dataAccount });
    return {
      ok: true,
      message: { token, encrypted, sequence, receiver, line, account, dataAccount, data, pad: null, ...trailer, crc, length },
    };
  }

  // docs/dc09.md §12: everything after `[` is hex cipher text, a whole number of 16-byte blocks.
  const hexStart = header.dataStart + 1;
  const hexLength = body.length - hexStart;
  if (hexLength === 0 || hexLength % 32 !== 0 || !isHexString(body, hexStart)) {
    return fail('decryption', `encrypted data must be hex in whole 16-byte blocks (found ${hexLength} characters)`, partial);
  }
  if (account === null) return fail('no-key', 'encrypted message without a header account: no key can be chosen', partial);
  const keys = options.keysFor?.(account.toUpperCase()) ?? null;
  if (!keys || keys.length === 0) return fail('no-key', `no AES key configured for account ${account}`, partial);
  const cipherHex = body.slice(hexStart);
  for (const key of keys) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) continue;
    const plain = decryptPayload(key, cipherHex);
    if (!plain) continue;
    return {
      ok: true,
      message: {
        token,
        encrypted,
        sequence,
        receiver,
        line,
        account,
        dataAccount: dataAccountFor(token, plain.data),
        data: plain.data,
        pad: plain.pad,
        ...plain.trailer,
        crc,
        length,
      },
      key,
    };
  }
  return fail('decryption', `decryption failed for account ${account}: wrong key or corrupted cipher text`, partial);
}
