/**
 * Access tokens for the Partner Event API: OAuth 2.0 client-credentials grant with RFC 7523 client authentication
 * (a JWT assertion signed with the partner's RSA key). The token is cached, refreshed ahead of its expiry, and
 * fetched single-flight: concurrent callers share one token request.
 *
 * Nothing secret leaves this module except the access token itself (returned to the caller): errors and log lines
 * carry the token endpoint's `error`/`error_description`, never the assertion, the key or a token.
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { request, type Dispatcher } from 'undici';
import { describeError, redactUrl, type Logger } from '../../log.js';
import { parseJson, readBody, str } from './body.js';

import type { AssertionAlgorithm } from '../../config/types.js';

export type { AssertionAlgorithm };

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Auth0 (and RFC 7523 practice) reject assertions living longer than this. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60;
/** Used when the token response has no usable `expires_in` (RFC 6749 makes it optional). */
const DEFAULT_EXPIRES_IN_SECONDS = 300;
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export interface AssertionOptions {
  clientId: string;
  assertionAudience: string;
  keyId?: string;
  algorithm?: AssertionAlgorithm;
  /** `exp - iat`; default 60 s, at most 300 s. */
  lifetimeSeconds?: number;
  /** Epoch milliseconds (default `Date.now`). */
  clock?: () => number;
}

export interface TokenProviderOptions extends AssertionOptions {
  tokenUrl: string;
  /** The API identifier sent as the `audience` form field. */
  audience: string;
  /** PEM text (PKCS#8 or PKCS#1) or an already-loaded key. */
  privateKey: string | KeyObject;
  /** Dispatcher for the token request (default: undici's global dispatcher). */
  dispatcher?: Dispatcher;
  /** Header and body timeout of the token request (default 10 s). */
  timeoutMs?: number;
  logger?: Logger;
  /** Called after each token request (metrics). */
  onTokenRequest?: (ok: boolean) => void;
}

export interface TokenProvider {
  /** A valid access token, from the cache or from one shared token request. */
  getToken(): Promise<string>;
  /**
   * Drops the cached token. With `token`, only when it is still the cached one, so that many callers reporting
   * the same rejected token cause a single refresh.
   */
  invalidate(token?: string): void;
}

/** A token request that failed; the message is safe to log. */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  constructor(
    message: string,
    readonly status?: number,
    readonly error?: string,
    readonly errorDescription?: string,
    /** From a `Retry-After` header on 429/503. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Loads an RSA private key from PEM (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`). The error,
 * if any, never quotes the input.
 */
export function loadPrivateKey(pem: string | KeyObject): KeyObject {
  let key: KeyObject;
  if (typeof pem === 'string') {
    try {
      key = createPrivateKey(pem);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`the private key is not a readable PEM private key${code ? ` (${code})` : ''}`);
    }
  } else {
    key = pem;
  }
  if (key.type !== 'private') throw new Error('the key is not a private key');
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    throw new Error(`the private key must be an RSA key, found ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

/** Signs one RFC 7523 client assertion (fresh `jti` every call). */
export async function createClientAssertion(key: KeyObject, opts: AssertionOptions): Promise<string> {
  const lifetime = opts.lifetimeSeconds ?? DEFAULT_ASSERTION_LIFETIME_SECONDS;
  if (!(lifetime > 0 && lifetime <= MAX_ASSERTION_LIFETIME_SECONDS)) {
    throw new RangeError(`assertion lifetime must be 1..${MAX_ASSERTION_LIFETIME_SECONDS} s, got ${lifetime}`);
  }
  const iat = Math.floor((opts.clock ?? Date.now)() / 1000);
  const header: { alg: AssertionAlgorithm; typ: 'JWT'; kid?: string } = {
    alg: opts.algorithm ?? 'RS256',
    typ: 'JWT',
  };
  if (opts.keyId) header.kid = opts.keyId;
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(opts.clientId)
    .setSubject(opts.clientId)
    .setAudience(opts.assertionAudience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .setJti(randomUUID())
    .sign(key);
}

/** How long before `expires_in` runs out the token is renewed: max(60 s, 10 %), but at most half its life. */
export function refreshMarginSeconds(expiresIn: number): number {
  return Math.min(Math.max(60, expiresIn * 0.1), expiresIn / 2);
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

interface CachedToken {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

/** What a token endpoint's error text may contain is not ours to trust: keep it short and JWT-free. */
function scrub(text: string): string {
  return text.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[jwt]').slice(0, 300);
}

export function createTokenProvider(opts: TokenProviderOptions): TokenProvider {
  const key = loadPrivateKey(opts.privateKey);
  const clock = opts.clock ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const log = opts.logger?.child({ component: 'token' });
  const tokenUrlForLog = redactUrl(opts.tokenUrl);
  let cached: CachedToken | null = null;
  let inflight: Promise<CachedToken> | null = null;

  async function fetchToken(): Promise<CachedToken> {
    let assertion: string;
    try {
      assertion = await createClientAssertion(key, { ...opts, clock });
    } catch (err) {
      throw new TokenRequestError(`cannot sign the client assertion: ${describeError(err)}`);
    }
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      audience: opts.audience,
    }).toString();
    const started = clock();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
    } catch (err) {
      throw new TokenRequestError(`token request failed: ${describeError(err)}`);
    }
    const json = parseJson(await readBody(res.body, MAX_TOKEN_RESPONSE_BYTES).catch(() => null));
    const obj = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const error = str(obj.error);
      const description = str(obj.error_description) ?? str(obj.message);
      const detail = [error, description && `(${scrub(description)})`].filter(Boolean).join(' ');
      throw new TokenRequestError(
        `token endpoint answered ${res.statusCode}${detail ? `: ${scrub(detail)}` : ''}`,
        res.statusCode,
        error && scrub(error),
        description && scrub(description),
        res.statusCode === 429 || res.statusCode >= 500 ? parseRetryAfter(res.headers['retry-after'], clock()) : undefined,
      );
    }
    const accessToken = str(obj.access_token);
    if (!accessToken) throw new TokenRequestError('token endpoint answered without an access_token', res.statusCode);
    const tokenType = str(obj.token_type);
    if (tokenType && tokenType.toLowerCase() !== 'bearer') {
      throw new TokenRequestError(`token endpoint issued an unsupported token_type ${scrub(tokenType)}`, res.statusCode);
    }
    const expiresInRaw = Number(obj.expires_in);
    const expiresIn = Number.isFinite(expiresInRaw) && expiresInRaw > 0 ? expiresInRaw : DEFAULT_EXPIRES_IN_SECONDS;
    const token: CachedToken = {
      value: accessToken,
      // Counted from when the request was sent, so the time on the wire shortens the cache, not the token.
      expiresAt: started + expiresIn * 1000,
      refreshAt: started + (expiresIn - refreshMarginSeconds(expiresIn)) * 1000,
    };
    log?.debug({ expiresIn, tokenUrl: tokenUrlForLog }, 'access token obtained');
    return token;
  }

  function refresh(): Promise<CachedToken> {
    if (!inflight) {
      const flight = fetchToken().then(
        (token) => {
          if (inflight === flight) inflight = null;
          cached = token;
          opts.onTokenRequest?.(true);
          return token;
        },
        (err: unknown) => {
          if (inflight === flight) inflight = null;
          opts.onTokenRequest?.(false);
          const e = err as TokenRequestError;
          log?.error(
            { tokenUrl: tokenUrlForLog, status: e.status, error: e.error, error_description: e.errorDescription },
            e instanceof TokenRequestError ? e.message : `token request failed: ${describeError(err)}`,
          );
          throw err;
        },
      );
      inflight = flight;
    }
    return inflight;
  }

  return {
    async getToken(): Promise<string> {
      const now = clock();
      const current = cached;
      if (current && now < current.refreshAt) return current.value;
      try {
        return (await refresh()).value;
      } catch (err) {
        // A failed early refresh is not fatal while the old token is still valid.
        if (current && current === cached && clock() < current.expiresAt - 5_000) return current.value;
        throw err;
      }
    },
    invalidate(token?: string): void {
      if (token === undefined || cached?.value === token) cached = null;
    },
  };
}
