import { createCipheriv, createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptBlocks, encryptBlocks } from '../../../src/protocols/dc09/crypto.js';

const CBC: Record<number, string> = { 16: 'aes-128-cbc', 24: 'aes-192-cbc', 32: 'aes-256-cbc' };

/** OpenSSL's own AES-CBC with a zero IV and no padding: what docs/dc09.md §12 specifies. */
function referenceDecrypt(key: Uint8Array, cipherText: Uint8Array): Buffer {
  const decipher = createDecipheriv(CBC[key.length]!, key, Buffer.alloc(16));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(cipherText), decipher.final()]);
}

function referenceEncrypt(key: Uint8Array, plainText: Uint8Array): Buffer {
  const cipher = createCipheriv(CBC[key.length]!, key, Buffer.alloc(16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plainText), cipher.final()]);
}

const keyArb = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const blocksArb = fc.integer({ min: 1, max: 12 }).chain((n) => fc.uint8Array({ minLength: n * 16, maxLength: n * 16 }));

describe('AES-CBC with a zero IV (docs/dc09.md §12)', () => {
  it('decrypts exactly as a fresh CBC decipher does, for every key size', () => {
    fc.assert(
      fc.property(keyArb, blocksArb, (key, cipherText) => {
        expect(decryptBlocks(key, cipherText).equals(referenceDecrypt(key, cipherText))).toBe(true);
      }),
    );
  });

  it('keeps no chaining state between frames of the same key (the decipher is reused)', () => {
    fc.assert(
      fc.property(keyArb, fc.array(blocksArb, { minLength: 2, maxLength: 5 }), (key, frames) => {
        for (const cipherText of frames) expect(decryptBlocks(key, cipherText).equals(referenceDecrypt(key, cipherText))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps keys apart when frames of different accounts interleave', () => {
    const a = Buffer.alloc(16, 1);
    const b = Buffer.alloc(32, 2);
    const plain = Buffer.from('0123456789ABCDEF0123456789ABCDEF', 'latin1');
    const fromA = encryptBlocks(a, plain);
    const fromB = encryptBlocks(b, plain);
    for (let i = 0; i < 3; i++) {
      expect(decryptBlocks(a, fromA).toString('latin1')).toBe(plain.toString('latin1'));
      expect(decryptBlocks(b, fromB).toString('latin1')).toBe(plain.toString('latin1'));
      expect(decryptBlocks(b, fromA).equals(plain)).toBe(false);
    }
  });

  it('encrypts exactly as a fresh zero-IV CBC cipher does, frame after frame on the kept cipher', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), blocksArb), { minLength: 1, maxLength: 8 }), (frames) => {
        // Fixed keys so frames of the same key follow each other with other keys in between; the last two are
        // separate buffers with the same bytes (two accounts, one key), which share their AES contexts.
        const keys = [Buffer.alloc(16, 0x11), Buffer.alloc(24, 0x22), Buffer.alloc(32, 0x33), Buffer.alloc(32, 0x33)];
        for (const [k, plain] of frames) {
          const copy = Buffer.from(plain);
          expect(encryptBlocks(keys[k]!, plain).equals(referenceEncrypt(keys[k]!, plain))).toBe(true);
          expect(Buffer.from(plain).equals(copy)).toBe(true); // the caller's bytes are left alone
        }
      }),
    );
  });

  it('round-trips encryptBlocks → decryptBlocks', () => {
    fc.assert(
      fc.property(keyArb, blocksArb, (key, plain) => {
        expect(decryptBlocks(key, encryptBlocks(key, plain)).equals(Buffer.from(plain))).toBe(true);
      }),
    );
  });

  it('follows a key buffer the caller rewrites (the cached context is checked against the key bytes)', () => {
    const key = Buffer.alloc(16, 7);
    const cipherText = encryptBlocks(Buffer.alloc(16, 9), Buffer.alloc(32, 0x41));
    expect(decryptBlocks(key, cipherText).toString('latin1')).not.toBe('A'.repeat(32));
    key.fill(9);
    expect(decryptBlocks(key, cipherText).toString('latin1')).toBe('A'.repeat(32));
  });

  it('refuses partial or no blocks and bad key sizes with a RangeError', () => {
    expect(() => decryptBlocks(Buffer.alloc(16), Buffer.alloc(15))).toThrow(RangeError);
    expect(() => decryptBlocks(Buffer.alloc(20), Buffer.alloc(16))).toThrow(RangeError);
    expect(() => encryptBlocks(Buffer.alloc(16), Buffer.alloc(17))).toThrow(RangeError);
    expect(() => encryptBlocks(Buffer.alloc(16), Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encryptBlocks(Buffer.alloc(15), Buffer.alloc(16))).toThrow(RangeError);
  });
});
