/**
 * DC-09 encryption: AES-128/192/256-CBC, IV = 16 zero bytes, no PKCS padding; the sender pads the
 * plaintext at the front so it is a multiple of 16 (protocols.md §1.12).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ZERO_IV = Buffer.alloc(16);
const CIPHERS: Record<number, string> = { 16: 'aes-128-cbc', 24: 'aes-192-cbc', 32: 'aes-256-cbc' };

export type KeyParseResult = { ok: true; key: Buffer } | { ok: false; error: string };

/** A key as operators type it: `hex` = 32/48/64 hex digits, `ascii` = 16/24/32 characters used as bytes. */
export function parseKey(text: string, encoding: 'hex' | 'ascii'): KeyParseResult {
  if (encoding === 'hex') {
    if (!/^[0-9A-Fa-f]*$/.test(text) || ![32, 48, 64].includes(text.length)) {
      return { ok: false, error: `a hex key must be 32, 48 or 64 hex digits (found ${text.length} characters)` };
    }
    return { ok: true, key: Buffer.from(text, 'hex') };
  }
  const key = Buffer.from(text, 'latin1');
  if (![16, 24, 32].includes(key.length)) {
    return { ok: false, error: `an ascii key must be 16, 24 or 32 characters (found ${key.length})` };
  }
  return { ok: true, key };
}

function cipherName(key: Uint8Array): string {
  const name = CIPHERS[key.length];
  if (!name) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  return name;
}

/** Decrypts whole blocks; `cipherText.length` must be a multiple of 16. */
export function decryptBlocks(key: Uint8Array, cipherText: Uint8Array): Buffer {
  const decipher = createDecipheriv(cipherName(key), key, ZERO_IV);
  decipher.setAutoPadding(false);
  const head = decipher.update(cipherText);
  const tail = decipher.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/** Encrypts whole blocks; `plainText.length` must be a multiple of 16. */
export function encryptBlocks(key: Uint8Array, plainText: Uint8Array): Buffer {
  const cipher = createCipheriv(cipherName(key), key, ZERO_IV);
  cipher.setAutoPadding(false);
  const head = cipher.update(plainText);
  const tail = cipher.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/** Printable ASCII without `|`, `[`, `]` (§1.12: the standard excludes them from the pad). */
const PAD_ALPHABET = Buffer.from(
  Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))
    .filter((c) => c !== '|' && c !== '[' && c !== ']')
    .join(''),
  'latin1',
);

const PAD_ALPHABET_CHARS: readonly string[] = [...PAD_ALPHABET.toString('latin1')];

export type PadSource = (length: number) => string;

/** Random bytes are drawn from a pool refilled 4 KiB at a time: one CSPRNG call per ~250 pads, not per frame. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomAt = 0;

/** Random pad characters from PAD_ALPHABET. */
export const randomPad: PadSource = (length) => {
  if (randomAt + length > randomPool.length) {
    randomPool = randomBytes(Math.max(RANDOM_POOL_BYTES, length));
    randomAt = 0;
  }
  let pad = '';
  for (let i = 0; i < length; i++) pad += PAD_ALPHABET_CHARS[randomPool[randomAt + i]! % PAD_ALPHABET_CHARS.length]!;
  randomAt += length;
  return pad;
};

/** Pad length for a plaintext tail of `restLength` bytes: 1–16 so the total is a multiple of 16 (§1.12). */
export function padLengthFor(restLength: number): number {
  return 16 - (restLength % 16);
}
