/**
 * DC-09 encryption: AES-128/192/256-CBC, IV = 16 zero bytes, no PKCS padding; the sender pads the
 * plaintext at the front so it is a multiple of 16 (docs/dc09.md §12).
 */
import { createCipheriv, createDecipheriv, randomBytes, type Cipher, type Decipher } from 'node:crypto';

const ZERO_IV = Buffer.alloc(16);
const BLOCK = 16;
const CIPHERS: Record<number, string> = { 16: 'aes-128-cbc', 24: 'aes-192-cbc', 32: 'aes-256-cbc' };
const ECB_CIPHERS: Record<number, string> = { 16: 'aes-128-ecb', 24: 'aes-192-ecb', 32: 'aes-256-ecb' };

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

/**
 * AES contexts kept per key, so that a frame does not pay for building them (several times the cost of the
 * cipher work itself on a 64-byte frame):
 *
 * - decryption: an AES-ECB decipher without padding keeps no state between whole-block updates, and CBC decryption
 *   is ECB decryption of each block XORed with the previous ciphertext block (the zero IV for the first);
 * - encryption: a CBC cipher that is never finalised carries only its last ciphertext block into the next update,
 *   as if it were the IV. A frame must start from the zero IV, so its first plaintext block is XORed with that
 *   carried block before the update: the cipher XORs it in again, and the result is a fresh zero-IV encryption.
 *
 * Both are checked against OpenSSL's own CBC in the tests. Contexts are shared by every account with the same key
 * bytes (installers often give all their panels one key) and cost ~3.5 KB per distinct key.
 */
interface KeyContexts {
  bytes: Buffer;
  decipher: Decipher;
  cipher: Cipher;
  carried: Buffer;
}

/** Fast path: the account table's key buffers themselves (long-lived); the bytes are compared on every hit. */
const byBuffer = new WeakMap<Uint8Array, KeyContexts>();
/** By key bytes, so equal keys share contexts. Cleared if it ever holds this many (keys rotated over years). */
const byBytes = new Map<string, KeyContexts>();
const MAX_DISTINCT_KEYS = 100_000;

function contextsFor(key: Uint8Array): KeyContexts {
  const cached = byBuffer.get(key);
  if (cached && cached.bytes.equals(key)) return cached;
  const bytes = Buffer.from(key);
  const id = bytes.toString('latin1');
  let contexts = byBytes.get(id);
  if (!contexts) {
    const ecb = ECB_CIPHERS[key.length];
    if (!ecb) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
    const decipher = createDecipheriv(ecb, bytes, null);
    decipher.setAutoPadding(false);
    const cipher = createCipheriv(cipherName(key), bytes, ZERO_IV);
    cipher.setAutoPadding(false);
    contexts = { bytes, decipher, cipher, carried: Buffer.alloc(BLOCK) };
    if (byBytes.size >= MAX_DISTINCT_KEYS) byBytes.clear();
    byBytes.set(id, contexts);
  }
  byBuffer.set(key, contexts);
  return contexts;
}

/** Decrypts whole blocks (AES-CBC, zero IV); `cipherText.length` must be a multiple of 16. */
export function decryptBlocks(key: Uint8Array, cipherText: Uint8Array): Buffer {
  if (cipherText.length % BLOCK !== 0)
    throw new RangeError(`cipher text must be whole ${BLOCK}-byte blocks, got ${cipherText.length} bytes`);
  const plain = contextsFor(key).decipher.update(cipherText);
  for (let i = BLOCK; i < plain.length; i++) plain[i] = plain[i]! ^ cipherText[i - BLOCK]!;
  return plain;
}

/** Encrypts whole blocks (AES-CBC, zero IV); `plainText.length` must be a multiple of 16. */
export function encryptBlocks(key: Uint8Array, plainText: Uint8Array): Buffer {
  if (plainText.length === 0 || plainText.length % BLOCK !== 0) {
    throw new RangeError(`plain text must be one or more whole ${BLOCK}-byte blocks, got ${plainText.length} bytes`);
  }
  const state = contextsFor(key);
  const input = Buffer.allocUnsafe(plainText.length);
  input.set(plainText);
  for (let i = 0; i < BLOCK; i++) input[i] = input[i]! ^ state.carried[i]!;
  const out = state.cipher.update(input);
  out.copy(state.carried, 0, out.length - BLOCK);
  return out;
}

/** Printable ASCII without `|`, `[`, `]` (docs/dc09.md §12: the standard excludes them from the pad). */
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

/** Pad length for a plaintext tail of `restLength` bytes: 1–16 so the total is a multiple of 16 (docs/dc09.md §12). */
export function padLengthFor(restLength: number): number {
  return 16 - (restLength % 16);
}
