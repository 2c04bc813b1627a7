import { createPrivateKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/server.js';
import { createTokenProvider, TokenRequestError, type TokenProviderOptions } from '../../../src/sink/partner-api/token.js';
import { captureLog, startTokenServer, type TokenAnswer } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function emulator(opts: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startEmulator({ quiet: true, ...opts });
  cleanups.push(() => emu.close());
  return emu;
}

function optionsFor(emu: Emulator, extra: Partial<TokenProviderOptions> = {}): TokenProviderOptions {
  return {
    tokenUrl: `${emu.url}/oauth/token`,
    audience: emu.audience,
    assertionAudience: emu.assertionAudience,
    clientId: emu.clientId,
    privateKey: emu.privateKeyPem!,
    ...extra,
  };
}

/** A token endpoint answering from a script; the last answer repeats. */
async function scriptedTokenServer(answers: TokenAnswer[]): Promise<{ url: string; forms: URLSearchParams[] }> {
  const server = await startTokenServer(() => (answers.length > 1 ? answers.shift()! : answers[0]!));
  cleanups.push(() => server.close());
  return server;
}

describe('token provider against the emulator', () => {
  it('is single-flight: concurrent callers share one token request', async () => {
    const emu = await emulator({ latencyMs: 0 });
    const tokens = createTokenProvider(optionsFor(emu, { keyId: 'kid-1' }));
    const got = await Promise.all(Array.from({ length: 50 }, () => tokens.getToken()));
    expect(new Set(got).size).toBe(1);
    expect(emu.tokenRequests()).toBe(1);
    expect(await tokens.getToken()).toBe(got[0]);
    expect(emu.tokenRequests()).toBe(1);
  });

  it('invalidate(token) only drops the token it names', async () => {
    const emu = await emulator();
    const tokens = createTokenProvider(optionsFor(emu));
    const first = await tokens.getToken();
    tokens.invalidate(first);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    tokens.invalidate(first); // a late report about the old token
    expect(await tokens.getToken()).toBe(second);
    tokens.invalidate();
    expect(await tokens.getToken()).not.toBe(second);
    expect(emu.tokenRequests()).toBe(3);
  });

  it.each([
    ['PKCS#1 key, RS384', 'pkcs1', 'RS384'],
    ['PKCS#8 key, PS256', 'pkcs8', 'PS256'],
  ] as const)('works with a %s', async (_name, type, algorithm) => {
    const emu = await emulator();
    const pem = createPrivateKey(emu.privateKeyPem!).export({ type, format: 'pem' }).toString();
    const tokens = createTokenProvider(optionsFor(emu, { privateKey: pem, algorithm }));
    expect(await tokens.getToken()).toMatch(/\S{20,}/);
  });

  it('reports the error and error_description of a refused request and tries again next time', async () => {
    const emu = await emulator();
    const log = captureLog();
    const tokens = createTokenProvider(optionsFor(emu, { clientId: 'someone-else', logger: log.logger }));
    const err = await tokens.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRequestError);
    expect(err).toMatchObject({ status: 401, error: 'invalid_client' });
    expect((err as Error).message).toMatch(/^token endpoint answered 401: invalid_client \(assertion claim/);
    await expect(tokens.getToken()).rejects.toThrow(TokenRequestError);
    expect(emu.tokenRequests()).toBe(2);
    const logged = log.records().filter((r) => r.component === 'token' && r.level === 50);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});

describe('token provider against a scripted endpoint', () => {
  it('sends the RFC 7523 form and never repeats an assertion', async () => {
    const server = await scriptedTokenServer([{ status: 200, body: { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 } }]);
    const tokens = createTokenProvider({
      tokenUrl: server.url,
      audience: 'https://api.example/',
      assertionAudience: 'https://auth.example/',
      clientId: 'c1',
      privateKey: (await emulator()).privateKeyPem!,
    });
    expect(await tokens.getToken()).toBe('tok-1');
    tokens.invalidate();
    await tokens.getToken();
    const [a, b] = server.forms;
    expect(Object.fromEntries(a!)).toMatchObject({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      audience: 'https://api.example/',
    });
    expect(a!.get('client_assertion')).not.toBe(b!.get('client_assertion'));
  });

  it('keeps using a still-valid token when an early refresh fails, then reports the failure', async () => {
    const server = await scriptedTokenServer([
      { status: 200, body: { access_token: 'tok-A', token_type: 'Bearer', expires_in: 3600 } },
      { status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '7' } },
    ]);
    let now = Date.now();
    const tokens = createTokenProvider({
      tokenUrl: server.url,
      audience: 'a',
      assertionAudience: 'b',
      clientId: 'c',
      privateKey: (await emulator()).privateKeyPem!,
      clock: () => now,
    });
    expect(await tokens.getToken()).toBe('tok-A');
    now += 3000 * 1000; // before the refresh point (3600 - 360 s)
    expect(await tokens.getToken()).toBe('tok-A');
    expect(server.forms).toHaveLength(1);
    now += 300 * 1000; // past the refresh point, token still valid
    expect(await tokens.getToken()).toBe('tok-A');
    expect(server.forms).toHaveLength(2);
    now += 299 * 1000; // 1 s before expiry: no longer good enough
    const err = await tokens.getToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, error: 'temporarily_unavailable', retryAfterMs: 7000 });
  });

  it('refuses answers without an access token or with another token type', async () => {
    const key = (await emulator()).privateKeyPem!;
    for (const body of [
      { token_type: 'Bearer', expires_in: 60 },
      { access_token: 'x', token_type: 'mac' },
    ]) {
      const server = await scriptedTokenServer([{ status: 200, body }]);
      const tokens = createTokenProvider({ tokenUrl: server.url, audience: 'a', assertionAudience: 'b', clientId: 'c', privateKey: key });
      await expect(tokens.getToken()).rejects.toThrow(TokenRequestError);
    }
  });
});
