import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createClientAssertion, loadPrivateKey, parseRetryAfter, refreshMarginSeconds } from '../../../src/sink/partner-api/token.js';

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs1 = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('client assertion', () => {
  it.each([
    ['PKCS#8', pkcs8],
    ['PKCS#1', pkcs1],
  ])('signs with a %s PEM key and carries the RFC 7523 claims', async (_form, pem) => {
    const key = loadPrivateKey(pem);
    const nowMs = Date.now();
    const jwt = await createClientAssertion(key, {
      clientId: 'client-1',
      assertionAudience: 'https://auth.example/',
      keyId: 'kid-7',
      clock: () => nowMs,
    });
    const { payload, protectedHeader } = await jwtVerify(jwt, pair.publicKey, {
      algorithms: ['RS256'],
      audience: 'https://auth.example/',
      issuer: 'client-1',
      subject: 'client-1',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-7' });
    expect(payload.iat).toBe(Math.floor(nowMs / 1000));
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses a fresh jti every time and omits kid when not configured', async () => {
    const key = loadPrivateKey(pkcs8);
    const opts = { clientId: 'c', assertionAudience: 'https://a/' };
    const a = await createClientAssertion(key, opts);
    const b = await createClientAssertion(key, opts);
    const jti = async (jwt: string) => (await jwtVerify(jwt, pair.publicKey, { audience: 'https://a/' })).payload.jti;
    expect(await jti(a)).not.toBe(await jti(b));
    expect(decodeProtectedHeader(a).kid).toBeUndefined();
  });

  it.each(['RS384', 'PS256'] as const)('supports %s', async (algorithm) => {
    const jwt = await createClientAssertion(loadPrivateKey(pkcs8), {
      clientId: 'c',
      assertionAudience: 'https://a/',
      algorithm,
    });
    const { protectedHeader } = await jwtVerify(jwt, pair.publicKey, { algorithms: [algorithm] });
    expect(protectedHeader.alg).toBe(algorithm);
  });

  it('refuses lifetimes over five minutes', async () => {
    await expect(
      createClientAssertion(loadPrivateKey(pkcs8), { clientId: 'c', assertionAudience: 'a', lifetimeSeconds: 301 }),
    ).rejects.toThrow(RangeError);
  });

  it('rejects unusable keys without quoting them', () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----\n';
    expect(() => loadPrivateKey(garbage)).toThrow(/not a readable PEM private key/);
    try {
      loadPrivateKey(garbage);
    } catch (err) {
      expect((err as Error).message).not.toContain('Tk9UQUtFWQ');
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => loadPrivateKey(ec)).toThrow(/must be an RSA key/);
    expect(() => loadPrivateKey(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow();
  });
});

describe('timing helpers', () => {
  it('refreshes max(60 s, 10 %) before expiry, at most half-way', () => {
    expect(refreshMarginSeconds(3600)).toBe(360);
    expect(refreshMarginSeconds(86_400)).toBe(8640);
    expect(refreshMarginSeconds(300)).toBe(60);
    expect(refreshMarginSeconds(2)).toBe(1);
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-15T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 15 Jan 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Thu, 15 Jan 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(['7', '9'], now)).toBe(7000);
  });
});
