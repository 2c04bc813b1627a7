/**
 * A local stand-in for the CHeKT Partner Event API and its Auth0-style token endpoint (reference
 * docs/partner-event-api.md; issue #5, "The emulator"). Plain node:http, jose for verifying client assertions.
 *
 * Endpoints
 * - `POST /oauth/token` — client credentials grant with an RFC 7523 JWT client assertion.
 * - `POST /partner/v1/events` — Bearer token (or `X-API-KEY` in API-key mode), body checked by
 *   `validatePartnerEvent`, 201 with pre-signed-looking upload URLs that point back here.
 * - `PUT /_uploads/...`, `PUT /_callbacks/...` — record size, content type and Content-Length (411 without it).
 * - `GET /_emulator/events|uploads|faults`, `POST /_emulator/faults|expire-tokens|reset` — inspection and faults.
 *
 * Fault injection (added latency, a random 503 rate, a scripted status sequence, token lifetime, token expiry) is
 * available through the options, `setFaults`/`expireTokens` and the admin endpoints.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, createPublicKey, generateKeyPair, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { errors as joseErrors, jwtVerify } from 'jose';
import { drainRequest, mediaType, readRequestBody, sameSecret, urlHost } from '../http/incoming.js';
import { errorMessage } from '../log.js';
import { isPlainObject, validatePartnerEvent } from '../sink/partner-event-schema.js';

export const DEFAULT_CLIENT_ID = 'alarm-bridge-test';
export const DEFAULT_AUDIENCE = 'https://partner-api.local/';
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Signature algorithms Auth0 offers for private-key-JWT credentials. */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'PS256'] as const;
/** Auth0's limit on an assertion's lifetime. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** More snapshot URLs than this in one answer is refused (protects the emulator, not a rule of the API). */
export const MAX_EMULATED_SNAPSHOTS = 1000;
export const TOKEN_PATH = '/oauth/token';
export const EVENTS_PATH = '/partner/v1/events';

const MAX_JSON_BYTES = 1024 * 1024;
const MAX_FORM_BYTES = 64 * 1024;
const DISCARD_REASON_DISARMED = 'device is disarmed';

export interface EmulatorFaults {
  /** Added to every event POST before it is answered. */
  latencyMs: number;
  /** Probability (0..1) that an event POST is answered 503. */
  failureRate: number;
  /** Statuses returned, in order, for the next event POSTs (2xx entries mean "behave normally"). */
  statusScript: number[];
  /** Lifetime of tokens issued from now on (seconds, `expires_in`). */
  tokenLifetimeSeconds: number;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  /** SPKI/PKCS#1 public key, X.509 certificate or private key PEM; without it a key pair is generated. */
  publicKeyPem?: string;
  /** Expected `iss` = `sub` of assertions. Default `alarm-bridge-test`. */
  clientId?: string;
  /** Expected `audience` form field of token requests. Default `https://partner-api.local/`. */
  audience?: string;
  /** Expected `aud` of assertions. Default `<emulator url>/`. */
  assertionAudience?: string;
  /** Enables the X-API-KEY header mode (Bearer tokens keep working). */
  apiKey?: string;
  tokenLifetimeSeconds?: number;
  /** Locations whose alarm/trouble events are answered `discarded` ("device is disarmed"). */
  disarmedLocations?: string[];
  latencyMs?: number;
  failureRate?: number;
  statusScript?: number[];
  /** No request log on stderr. */
  quiet?: boolean;
}

export interface ReceivedEvent {
  /** ISO time of arrival. */
  receivedAt: string;
  body: unknown;
  headers: IncomingHttpHeaders;
  status: 'accepted' | 'discarded';
  reason: string | null;
  responseId: string;
}

export interface ReceivedUpload {
  kind: 'upload' | 'callback';
  /** The path without the query string (the signature never gets recorded). */
  path: string;
  /** Bytes received. */
  size: number;
  contentType: string | null;
  /** The Content-Length header as sent. */
  contentLength: string | null;
  /** True when the path and signature are ones this emulator handed out. */
  signatureValid: boolean;
  receivedAt: string;
}

export interface Emulator {
  readonly url: string;
  readonly port: number;
  /** PKCS#8 PEM of the generated key pair; null when `publicKeyPem` was given. */
  readonly privateKeyPem: string | null;
  readonly clientId: string;
  readonly audience: string;
  readonly assertionAudience: string;
  events(): ReceivedEvent[];
  uploads(): ReceivedUpload[];
  /** Requests to the token endpoint (successful or not) since start or the last reset. */
  tokenRequests(): number;
  faults(): EmulatorFaults;
  setFaults(faults: Partial<EmulatorFaults>): void;
  /** Every token issued so far becomes invalid (401); new ones can be fetched. */
  expireTokens(): void;
  /** Forgets received events, uploads and the token-request count, and restores the faults given at start. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const initialFaults = checkFaults({
    latencyMs: options.latencyMs ?? 0,
    failureRate: options.failureRate ?? 0,
    statusScript: options.statusScript ?? [],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
  }) as EmulatorFaults;
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('port must be an integer 0..65535');
  if (options.apiKey !== undefined && options.apiKey === '') throw new RangeError('apiKey must not be empty');

  let publicKey: KeyObject;
  let privateKeyPem: string | null = null;
  if (options.publicKeyPem !== undefined) {
    publicKey = createPublicKey(options.publicKeyPem);
  } else {
    const pair = await promisify(generateKeyPair)('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    publicKey = createPublicKey(pair.publicKey);
    privateKeyPem = pair.privateKey;
  }
  if (publicKey.asymmetricKeyType !== 'rsa' && publicKey.asymmetricKeyType !== 'rsa-pss') {
    throw new TypeError(`publicKeyPem must be an RSA key (got ${publicKey.asymmetricKeyType ?? 'unknown'})`);
  }

  const emulator = new PartnerApiEmulator(options, initialFaults, publicKey, privateKeyPem);
  await emulator.listen(options.host ?? '127.0.0.1', port);
  return emulator;
}

/**
 * Checks a fault object (from code or from the admin endpoint's JSON) and returns it typed; throws a RangeError
 * naming the first bad key.
 */
export function checkFaults(input: unknown): Partial<EmulatorFaults> {
  if (!isPlainObject(input)) throw new RangeError('faults must be an object');
  const out: Partial<EmulatorFaults> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    switch (key) {
      case 'latencyMs':
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          throw new RangeError('latencyMs must be a number >= 0');
        }
        out.latencyMs = value;
        break;
      case 'failureRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
          throw new RangeError('failureRate must be a number from 0 to 1');
        }
        out.failureRate = value;
        break;
      case 'statusScript':
        if (!Array.isArray(value) || !value.every((s) => Number.isInteger(s) && s >= 200 && s <= 599)) {
          throw new RangeError('statusScript must be an array of HTTP statuses 200..599');
        }
        out.statusScript = [...(value as number[])];
        break;
      case 'tokenLifetimeSeconds':
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          throw new RangeError('tokenLifetimeSeconds must be a number >= 0');
        }
        out.tokenLifetimeSeconds = value;
        break;
      default:
        throw new RangeError(`unknown fault "${key}"`);
    }
  }
  return out;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

function oauthError(status: number, error: string, description: string): HttpError {
  return new HttpError(status, { error, error_description: description }, { 'cache-control': 'no-store' });
}

function apiError(status: number, error: string, message: string, headers?: Record<string, string>): HttpError {
  return new HttpError(status, { error, message }, headers);
}

const SCRIPTED_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  429: 'too_many_requests',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

class PartnerApiEmulator implements Emulator {
  readonly privateKeyPem: string | null;
  readonly clientId: string;
  readonly audience: string;
  private readonly configuredAssertionAudience: string | undefined;
  private readonly apiKey: string | undefined;
  private readonly disarmed: ReadonlySet<string>;
  private readonly quiet: boolean;
  private readonly server: Server;
  /** Signs the fake pre-signed URLs so PUTs can be told apart from made-up ones. */
  private readonly urlSecret = randomBytes(32);
  private boundUrl = '';
  private boundPort = 0;
  private currentFaults: EmulatorFaults;
  private receivedEvents: ReceivedEvent[] = [];
  private receivedUploads: ReceivedUpload[] = [];
  private tokenRequestCount = 0;
  /** access token → expiry (ms since epoch). */
  private readonly tokens = new Map<string, number>();
  /** assertion jti → its exp (ms); kept until the assertion could no longer be accepted anyway. */
  private readonly usedJtis = new Map<string, number>();

  constructor(
    options: EmulatorOptions,
    private readonly initialFaults: EmulatorFaults,
    private readonly publicKey: KeyObject,
    privateKeyPem: string | null,
  ) {
    this.privateKeyPem = privateKeyPem;
    this.clientId = options.clientId ?? DEFAULT_CLIENT_ID;
    this.audience = options.audience ?? DEFAULT_AUDIENCE;
    this.configuredAssertionAudience = options.assertionAudience;
    this.apiKey = options.apiKey;
    this.disarmed = new Set(options.disarmedLocations ?? []);
    this.quiet = options.quiet ?? false;
    this.currentFaults = { ...initialFaults, statusScript: [...initialFaults.statusScript] };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  get url(): string {
    return this.boundUrl;
  }

  get port(): number {
    return this.boundPort;
  }

  get assertionAudience(): string {
    return this.configuredAssertionAudience ?? `${this.boundUrl}/`;
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.boundPort = address.port;
    this.boundUrl = `http://${urlHost(address.address)}:${address.port}`;
  }

  events(): ReceivedEvent[] {
    return [...this.receivedEvents];
  }

  uploads(): ReceivedUpload[] {
    return [...this.receivedUploads];
  }

  tokenRequests(): number {
    return this.tokenRequestCount;
  }

  faults(): EmulatorFaults {
    return { ...this.currentFaults, statusScript: [...this.currentFaults.statusScript] };
  }

  setFaults(faults: Partial<EmulatorFaults>): void {
    Object.assign(this.currentFaults, checkFaults(faults));
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  reset(): void {
    this.receivedEvents = [];
    this.receivedUploads = [];
    this.tokenRequestCount = 0;
    this.currentFaults = { ...this.initialFaults, statusScript: [...this.initialFaults.statusScript] };
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // ---- dispatch -------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    const method = req.method ?? 'GET';
    this.logWhenDone(req, res, method, path);

    if (path === TOKEN_PATH) return this.only(method, 'POST', req, () => this.token(req, res));
    if (path === EVENTS_PATH) return this.only(method, 'POST', req, () => this.event(req, res));
    if (path.startsWith('/_uploads/')) {
      return this.only(method, 'PUT', req, () => this.upload('upload', path, query, req, res));
    }
    if (path.startsWith('/_callbacks/')) {
      return this.only(method, 'PUT', req, () => this.upload('callback', path, query, req, res));
    }
    switch (path) {
      case '/_emulator/events':
        // Over HTTP the credentials the bridge sent are not echoed back (they would end up in someone's terminal).
        return this.only(method, 'GET', req, async () =>
          sendJson(
            res,
            200,
            this.events().map((e) => ({ ...e, headers: withoutCredentials(e.headers) })),
          ),
        );
      case '/_emulator/uploads':
        return this.only(method, 'GET', req, async () => sendJson(res, 200, this.uploads()));
      case '/_emulator/faults':
        if (method === 'GET') {
          await drainRequest(req);
          return sendJson(res, 200, this.faults());
        }
        return this.only(method, 'POST', req, () => this.adminFaults(req, res));
      case '/_emulator/expire-tokens':
        return this.only(method, 'POST', req, async () => {
          await drainRequest(req);
          this.expireTokens();
          sendJson(res, 200, { ok: true });
        });
      case '/_emulator/reset':
        return this.only(method, 'POST', req, async () => {
          await drainRequest(req);
          this.reset();
          sendJson(res, 200, { ok: true });
        });
      default:
        await drainRequest(req);
        throw apiError(404, 'not_found', `no route for ${method} ${path}`);
    }
  }

  private async only(method: string, allowed: string, req: IncomingMessage, run: () => Promise<void>): Promise<void> {
    if (method === allowed) return run();
    await drainRequest(req);
    throw apiError(405, 'method_not_allowed', `use ${allowed}`, { allow: allowed });
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (err instanceof HttpError) {
      sendJson(res, err.status, err.body, err.headers);
      return;
    }
    if (res.destroyed) return; // the client went away (aborted upload or request)
    if (!this.quiet) process.stderr.write(`[emulator] internal error: ${errorMessage(err)}\n`);
    sendJson(res, 500, { error: 'internal_error', message: 'the emulator failed on this request' });
  }

  private logWhenDone(req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
    if (this.quiet) return;
    const started = Date.now();
    res.once('finish', () => {
      const note = res.getHeader('x-emulator-note');
      process.stderr.write(`[emulator] ${method} ${path} ${res.statusCode}${note ? ` ${String(note)}` : ''} ${Date.now() - started}ms\n`);
    });
    req.once('error', () => undefined);
  }

  // ---- POST /oauth/token ----------------------------------------------------------------------------------------

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.tokenRequestCount += 1;
    const body = await readRequestBody(req, MAX_FORM_BYTES);
    if (body.tooLarge) throw oauthError(413, 'invalid_request', 'request body too large');
    if (mediaType(req.headers['content-type']) !== 'application/x-www-form-urlencoded') {
      throw oauthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(body.bytes.toString('utf8'));
    const grantType = form.get('grant_type');
    if (!grantType) throw oauthError(400, 'invalid_request', 'missing grant_type');
    if (grantType !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
    }
    const assertionType = form.get('client_assertion_type');
    if (!assertionType) throw oauthError(400, 'invalid_request', 'missing client_assertion_type');
    if (assertionType !== CLIENT_ASSERTION_TYPE) {
      throw oauthError(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw oauthError(400, 'invalid_request', 'missing client_assertion');
    const audience = form.get('audience');
    if (!audience) throw oauthError(400, 'invalid_request', 'missing audience');
    if (audience !== this.audience) throw oauthError(400, 'invalid_request', 'unknown audience');
    const clientId = form.get('client_id');
    if (clientId !== null && clientId !== this.clientId) {
      throw oauthError(401, 'invalid_client', 'client_id does not match the assertion client');
    }

    await this.verifyAssertion(assertion);

    const lifetime = this.currentFaults.tokenLifetimeSeconds;
    const accessToken = randomBytes(32).toString('base64url');
    const now = Date.now();
    for (const [known, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(known);
    this.tokens.set(accessToken, now + lifetime * 1000);
    res.setHeader('x-emulator-note', 'token issued');
    sendJson(
      res,
      200,
      { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime },
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  }

  /** Throws 401 invalid_client for every way the assertion can be wrong; records its jti when it is right. */
  private async verifyAssertion(assertion: string): Promise<void> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(assertion, this.publicKey, {
        algorithms: [...ASSERTION_ALGORITHMS],
        issuer: this.clientId,
        subject: this.clientId,
        audience: this.assertionAudience,
        requiredClaims: ['exp', 'jti'],
      }));
    } catch (err) {
      throw oauthError(401, 'invalid_client', describeJoseError(err));
    }
    const nowSeconds = Math.floor(Date.now() / 1000);
    const exp = payload.exp as number; // required above, and jose checked it is a number
    if (exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS) {
      throw oauthError(401, 'invalid_client', `assertion exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS} s ahead`);
    }
    if (typeof payload.iat === 'number' && exp - payload.iat > MAX_ASSERTION_LIFETIME_SECONDS) {
      throw oauthError(401, 'invalid_client', `assertion lifetime (exp - iat) exceeds ${MAX_ASSERTION_LIFETIME_SECONDS} s`);
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '') throw oauthError(401, 'invalid_client', 'assertion jti must be a non-empty string');
    const nowMs = Date.now();
    for (const [seen, expiresAt] of this.usedJtis) if (expiresAt <= nowMs) this.usedJtis.delete(seen);
    if (this.usedJtis.has(jti)) throw oauthError(401, 'invalid_client', 'assertion jti has already been used');
    this.usedJtis.set(jti, exp * 1000);
  }

  // ---- POST /partner/v1/events ----------------------------------------------------------------------------------

  private async event(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req, MAX_JSON_BYTES);
    const faults = this.currentFaults;
    if (faults.latencyMs > 0) await delay(faults.latencyMs);

    const scripted = faults.statusScript.shift();
    if (scripted !== undefined && (scripted < 200 || scripted > 299)) {
      res.setHeader('x-emulator-note', 'scripted');
      throw scriptedError(scripted);
    }
    if (scripted === undefined && faults.failureRate > 0 && Math.random() < faults.failureRate) {
      res.setHeader('x-emulator-note', 'injected failure');
      throw apiError(503, 'service_unavailable', 'injected failure');
    }

    this.authorize(req);

    if (body.tooLarge) throw apiError(413, 'payload_too_large', `body exceeds ${MAX_JSON_BYTES} bytes`);
    if (mediaType(req.headers['content-type']) !== 'application/json') {
      throw apiError(400, 'invalid_request', 'content-type: must be application/json');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.bytes.toString('utf8'));
    } catch {
      throw apiError(400, 'invalid_request', 'body: is not valid JSON');
    }
    const checked = validatePartnerEvent(parsed);
    if (!checked.ok) throw apiError(400, 'invalid_request', `${checked.field}: ${checked.message}`);
    const event = checked.value;
    if (event.upload_snapshot_count > MAX_EMULATED_SNAPSHOTS) {
      throw apiError(400, 'invalid_request', `upload_snapshot_count: the emulator hands out at most ${MAX_EMULATED_SNAPSHOTS}`);
    }

    const responseId = randomUUID();
    const discarded = event.event_type !== 'arming' && this.disarmed.has(event.location_id);
    const reason = discarded ? DISCARD_REASON_DISARMED : null;
    const uploads = discarded
      ? {}
      : this.uploadUrls(req, responseId, event.upload_snapshot_count, event.upload_short_mp4, event.upload_event_mp4);
    const status = discarded ? 'discarded' : 'accepted';
    this.receivedEvents.push({
      receivedAt: new Date().toISOString(),
      body: parsed,
      headers: { ...req.headers },
      status,
      reason,
      responseId,
    });
    res.setHeader('x-emulator-note', status);
    sendJson(res, 201, { event_id: event.event_id, response_id: responseId, uploads, status, reason });
  }

  private authorize(req: IncomingMessage): void {
    const apiKeyHeader = req.headers['x-api-key'];
    if (this.apiKey !== undefined && typeof apiKeyHeader === 'string' && sameSecret(apiKeyHeader, this.apiKey)) return;
    const authorization = req.headers.authorization;
    const match = typeof authorization === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) {
      const what = this.apiKey !== undefined ? 'a valid X-API-KEY header or bearer token' : 'a bearer token';
      throw apiError(401, 'unauthorized', `${what} is required`, { 'www-authenticate': 'Bearer' });
    }
    const expiresAt = this.tokens.get(match[1] as string);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      throw apiError(401, 'invalid_token', 'the access token is invalid or has expired', {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
  }

  private uploadUrls(
    req: IncomingMessage,
    responseId: string,
    snapshots: number,
    shortMp4: boolean,
    eventMp4: boolean,
  ): Record<string, unknown> {
    const base = this.publicBase(req);
    const pair = (name: string): { upload_put_url: string; callback_put_url: string } => ({
      upload_put_url: `${base}${this.signedPath(`/_uploads/${responseId}/${name}`)}`,
      callback_put_url: `${base}${this.signedPath(`/_callbacks/${responseId}/${name}`)}`,
    });
    const uploads: Record<string, unknown> = {};
    if (snapshots > 0) {
      uploads.snapshots = Array.from({ length: snapshots }, (_, i) => ({ seq: i + 1, ...pair(`snapshot-${i + 1}.jpg`) }));
    }
    if (shortMp4) uploads.short_mp4 = pair('short.mp4');
    if (eventMp4) uploads.event_mp4 = pair('event.mp4');
    return uploads;
  }

  /** The origin the client used (so the URLs work through a container port mapping), else the bound URL. */
  private publicBase(req: IncomingMessage): string {
    const host = req.headers.host;
    return host !== undefined && /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
      ? `http://${host}`
      : this.boundUrl;
  }

  /** A path with an S3-like query string whose signature is an HMAC of the path. */
  private signedPath(path: string): string {
    const now = new Date();
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `EMULATOR/${stamp.slice(0, 8)}/local/s3/aws4_request`,
      'X-Amz-Date': stamp,
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': this.sign(path),
    });
    return `${path}?${query.toString()}`;
  }

  private sign(path: string): string {
    return createHmac('sha256', this.urlSecret).update(path).digest('hex');
  }

  // ---- PUT /_uploads/..., /_callbacks/... -----------------------------------------------------------------------

  private async upload(
    kind: 'upload' | 'callback',
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const contentLength = req.headers['content-length'];
    if (contentLength === undefined) {
      // S3 refuses bodies without a length (chunked transfer encoding) before reading them.
      await drainRequest(req);
      res.setHeader('x-emulator-note', 'missing content-length');
      sendXml(res, 411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
      return;
    }
    const hash = createHash('md5');
    let size = 0;
    for await (const chunk of req) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      hash.update(bytes);
    }
    const signature = query.get('X-Amz-Signature');
    this.receivedUploads.push({
      kind,
      path,
      size,
      contentType: req.headers['content-type'] ?? null,
      contentLength,
      signatureValid: signature !== null && sameSecret(signature, this.sign(path)),
      receivedAt: new Date().toISOString(),
    });
    res.setHeader('x-emulator-note', `${size} bytes`);
    res.writeHead(200, { etag: `"${hash.digest('hex')}"`, 'content-length': '0' });
    res.end();
  }

  // ---- POST /_emulator/faults -----------------------------------------------------------------------------------

  private async adminFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req, MAX_JSON_BYTES);
    if (body.tooLarge) throw apiError(413, 'payload_too_large', 'body too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.bytes.toString('utf8'));
    } catch {
      throw apiError(400, 'invalid_request', 'body: is not valid JSON');
    }
    try {
      this.setFaults(checkFaults(parsed));
    } catch (err) {
      throw apiError(400, 'invalid_request', errorMessage(err));
    }
    sendJson(res, 200, this.faults());
  }
}

function scriptedError(status: number): HttpError {
  const headers: Record<string, string> = {};
  if (status === 429) headers['retry-after'] = '1';
  if (status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  return apiError(status, SCRIPTED_ERRORS[status] ?? `http_${status}`, `scripted status ${status}`, headers);
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'assertion has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `assertion claim ${err.claim} is invalid: ${err.reason}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `assertion alg must be one of ${ASSERTION_ALGORITHMS.join(', ')}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'assertion signature verification failed';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'client_assertion is not a valid JWT';
  if (err instanceof joseErrors.JOSEError) return `assertion rejected (${err.code})`;
  return 'assertion rejected';
}

function withoutCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { authorization, 'x-api-key': apiKey, ...rest } = headers;
  return { ...rest, ...(authorization ? { authorization: '[Redacted]' } : {}), ...(apiKey ? { 'x-api-key': '[Redacted]' } : {}) };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function sendXml(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent || res.destroyed) return;
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
