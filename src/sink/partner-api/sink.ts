/**
 * The Partner Event API sink: one POST per delivery attempt (undici Pool to the API origin), Bearer token from the
 * cached token provider (or an `X-API-KEY` header), a single re-authentication on 401, and the outcome classified
 * for the caller. Retrying is the caller's job (the delivery scheduler, with the backoff of `sink/retry.ts`): `deliver` makes one
 * attempt (two with a 401).
 *
 * When the API accepts an event and hands out pre-signed upload URLs, the snapshots are fetched from the event's
 * media source and uploaded in the background; their success or failure never changes the event's outcome.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, Pool, request, type Dispatcher } from 'undici';
import type { SinkConfig } from '../../config/types.js';
import { describeError, errorMessage, redactUrl, type Logger } from '../../log.js';
import { StartupError } from '../../startup-error.js';
import { fullJitterDelay } from '../retry.js';
import type { DeliveryOutcome, MediaSource, OutgoingEvent, Sink } from '../types.js';
import { bodyJsonAt } from '../body-json.js';
import { parseJson, readBody, str } from './body.js';
import { createTokenProvider, loadPrivateKey, parseRetryAfter, TokenRequestError, type TokenProvider } from './token.js';

export type PartnerApiSinkConfig = Extract<SinkConfig, { type: 'partner-api' }>;

export const EVENTS_PATH = '/partner/v1/events';

export interface PartnerApiSinkDeps {
  logger: Logger;
  /** Clock for `sent_at` and `Retry-After` dates (default: the system clock). */
  now?: () => Date;
  /** One dispatcher for every request (API, token, snapshots, uploads); the sink then does not close it. */
  dispatcher?: Dispatcher;
  /** Retries of each failed media step (snapshot GET, upload PUT, callback PUT); default 3. */
  mediaRetries?: number;
  /** Base of the media retries' full-jitter backoff; default 250 ms. */
  mediaRetryBaseMs?: number;
  /** Metric hooks: each events POST (seconds, HTTP status or 'error') and each token request. */
  observe?: {
    apiRequest?: (seconds: number, status: number | 'error') => void;
    tokenRequest?: (ok: boolean) => void;
  };
}

export interface PartnerApiSink extends Sink {
  /** Resolves once every background media upload started so far has finished (or given up). */
  mediaIdle(): Promise<void>;
}

const MAX_API_RESPONSE_BYTES = 1024 * 1024;
const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;
const USER_AGENT = 'alarm-bridge';

interface UploadTarget {
  seq?: number;
  upload_put_url: string;
  callback_put_url?: string;
}

interface UploadSet {
  snapshots: UploadTarget[];
  shortMp4: UploadTarget | null;
  eventMp4: UploadTarget | null;
}

/** A failed media step; `final` ones (4xx other than 408/429, a non-JPEG snapshot) are not retried. */
class MediaStepError extends Error {
  constructor(
    message: string,
    readonly final: boolean,
  ) {
    super(message);
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function asTarget(v: unknown): UploadTarget | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const put = str(o.upload_put_url);
  if (!put) return null;
  const target: UploadTarget = { upload_put_url: put };
  const callback = str(o.callback_put_url);
  if (callback) target.callback_put_url = callback;
  if (typeof o.seq === 'number') target.seq = o.seq;
  return target;
}

function parseUploads(v: unknown): UploadSet | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const snapshots = Array.isArray(o.snapshots) ? o.snapshots.map(asTarget).filter((t): t is UploadTarget => t !== null) : [];
  const set: UploadSet = { snapshots, shortMp4: asTarget(o.short_mp4), eventMp4: asTarget(o.event_mp4) };
  return set.snapshots.length || set.shortMp4 || set.eventMp4 ? set : null;
}

/** The URL to request plus basic-auth credentials taken from the media source or from the URL's userinfo. */
function snapshotRequest(media: MediaSource & { snapshotUrl: string }): { url: string; authorization?: string } {
  const url = new URL(media.snapshotUrl);
  let username = media.username;
  let password = media.password;
  if (username === undefined && url.username) {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  }
  url.username = '';
  url.password = '';
  if (username === undefined) return { url: url.toString() };
  const authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  return { url: url.toString(), authorization };
}

function isJpeg(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/** What `sink.auth.privateKeyFile` must hold, and how to make one. */
const PRIVATE_KEY_FORMAT =
  'expected a PKCS#8 PEM RSA private key ("-----BEGIN PRIVATE KEY-----"); make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out partner.key';

export function createPartnerApiSink(config: PartnerApiSinkConfig, deps: PartnerApiSinkDeps): PartnerApiSink {
  const log = deps.logger.child({ component: 'partner-api' });
  const now = deps.now ?? (() => new Date());
  const timeoutMs = config.timeoutSeconds * 1000;
  const mediaRetries = deps.mediaRetries ?? 3;
  const mediaRetryBaseMs = deps.mediaRetryBaseMs ?? 250;

  const base = new URL(config.baseUrl);
  const eventsUrl = `${base.origin}${base.pathname.replace(/\/+$/, '')}${EVENTS_PATH}`;

  const ownDispatchers: Dispatcher[] = [];
  let apiDispatcher: Dispatcher;
  let otherDispatcher: Dispatcher;
  if (deps.dispatcher) {
    apiDispatcher = otherDispatcher = deps.dispatcher;
  } else {
    apiDispatcher = new Pool(base.origin, {
      connections: config.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
    });
    // Token endpoint, camera snapshots and pre-signed upload URLs live on other (and varying) origins.
    otherDispatcher = new Agent({
      connections: config.connections,
      keepAliveTimeout: 10_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
    });
    ownDispatchers.push(apiDispatcher, otherDispatcher);
  }

  let tokens: TokenProvider | null = null;
  let apiKey: string | null = null;
  if ('apiKey' in config.auth) {
    apiKey = config.auth.apiKey;
  } else {
    const auth = config.auth;
    let privateKey: KeyObject;
    try {
      privateKey = loadPrivateKey(readFileSync(auth.privateKeyFile, 'utf8'));
    } catch (err) {
      // Unreadable file: its error code (ENOENT, EACCES, …); unusable content: loadPrivateKey's reason, which never quotes the key.
      const code = (err as NodeJS.ErrnoException).code;
      const problem = code
        ? `cannot read ${auth.privateKeyFile} (${code})`
        : `${auth.privateKeyFile}: ${errorMessage(err).replace(/^the (private )?key /, '')}`;
      throw new StartupError(`sink.auth.privateKeyFile: ${problem}`, PRIVATE_KEY_FORMAT, code);
    }
    tokens = createTokenProvider({
      tokenUrl: auth.tokenUrl,
      audience: auth.audience,
      assertionAudience: auth.assertionAudience,
      clientId: auth.clientId,
      ...(auth.keyId ? { keyId: auth.keyId } : {}),
      algorithm: auth.algorithm,
      privateKey,
      dispatcher: otherDispatcher,
      timeoutMs,
      logger: deps.logger,
      ...(deps.observe?.tokenRequest ? { onTokenRequest: deps.observe.tokenRequest } : {}),
    });
  }

  log.info(
    { baseUrl: redactUrl(config.baseUrl), mode: tokens ? 'bearer' : 'api-key', connections: config.connections },
    'partner-api sink ready',
  );

  const pendingMedia = new Set<Promise<void>>();
  let closing: Promise<void> | null = null;

  // ---- event delivery ----------------------------------------------------------------------------------------

  async function attempt(event: OutgoingEvent, reauthenticated: boolean): Promise<DeliveryOutcome> {
    const eventId = event.body.event_id;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': eventId,
      'user-agent': USER_AGENT,
    };
    let token: string | undefined;
    if (tokens) {
      try {
        token = await tokens.getToken();
      } catch (err) {
        const reason = err instanceof TokenRequestError ? err.message : `token request failed: ${describeError(err)}`;
        const afterMs = err instanceof TokenRequestError ? err.retryAfterMs : undefined;
        return afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', afterMs, reason };
      }
      headers.authorization = `Bearer ${token}`;
    } else {
      headers['x-api-key'] = apiKey ?? '';
    }

    const body = bodyJsonAt(event, now().toISOString());
    let res: Dispatcher.ResponseData;
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      res = await request(eventsUrl, { method: 'POST', headers, body, dispatcher: apiDispatcher });
    } catch (err) {
      deps.observe?.apiRequest?.(elapsed(), 'error');
      return { kind: 'retry', reason: `network error: ${describeError(err)}` };
    }
    deps.observe?.apiRequest?.(elapsed(), res.statusCode);

    const status = res.statusCode;
    let raw: Buffer | null;
    try {
      raw = await readBody(res.body, MAX_API_RESPONSE_BYTES);
    } catch (err) {
      // The headers arrived but the body did not: the API may or may not have stored the event.
      return { kind: 'retry', reason: `reading the ${status} response failed: ${describeError(err)}` };
    }

    if (status === 401) {
      if (tokens && token !== undefined && !reauthenticated) {
        tokens.invalidate(token);
        log.info({ event_id: eventId }, 'events endpoint answered 401; refreshing the access token once');
        return attempt(event, true);
      }
      return { kind: 'retry', reason: tokens ? 'unauthorized (401) after a token refresh' : 'API key rejected (401)' };
    }

    const json = parseJson(raw);
    if (status >= 200 && status < 300) return settle(event, status, json);

    if (isRetryableStatus(status)) {
      const afterMs = parseRetryAfter(res.headers['retry-after'], now().getTime());
      const reason = `HTTP ${status}`;
      return afterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', afterMs, reason };
    }

    const response = json ?? (raw && raw.length ? raw.toString('utf8').slice(0, 2000) : undefined);
    const detail =
      json && typeof json === 'object'
        ? (str((json as Record<string, unknown>).message) ?? str((json as Record<string, unknown>).error))
        : undefined;
    return { kind: 'permanent', status, reason: `HTTP ${status}${detail ? `: ${detail}` : ''}`, response };
  }

  function settle(event: OutgoingEvent, status: number, json: unknown): DeliveryOutcome {
    const eventId = event.body.event_id;
    const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    const responseId = str(o.response_id);
    if (o.status === 'discarded') {
      const reason = typeof o.reason === 'string' ? o.reason : null;
      log.info({ event_id: eventId, response_id: responseId, reason }, 'event discarded by the API');
      return { kind: 'discarded', reason };
    }
    if (o.status !== 'accepted') {
      log.warn({ event_id: eventId, http_status: status }, 'success response without status "accepted"; counted as accepted');
    } else {
      log.debug({ event_id: eventId, response_id: responseId }, 'event accepted');
    }
    const uploads = parseUploads(o.uploads);
    if (uploads) startMedia(event, uploads);
    return responseId === undefined ? { kind: 'accepted' } : { kind: 'accepted', responseId };
  }

  // ---- media ---------------------------------------------------------------------------------------------------

  function startMedia(event: OutgoingEvent, uploads: UploadSet): void {
    const job = runMedia(event, uploads).catch((err: unknown) => {
      log.error({ event_id: event.body.event_id, error: describeError(err) }, 'media upload crashed');
    });
    pendingMedia.add(job);
    void job.finally(() => pendingMedia.delete(job));
  }

  async function runMedia(event: OutgoingEvent, uploads: UploadSet): Promise<void> {
    const eventId = event.body.event_id;
    if (uploads.shortMp4 || uploads.eventMp4) {
      log.info(
        { event_id: eventId, short_mp4: uploads.shortMp4 !== null, event_mp4: uploads.eventMp4 !== null },
        'MP4 upload requested but no MP4 media source is configured; skipped',
      );
    }
    if (uploads.snapshots.length === 0) return;
    const media = event.media;
    if (!media?.snapshotUrl) {
      log.warn(
        { event_id: eventId, snapshots: uploads.snapshots.length },
        'snapshot upload requested but the event has no snapshot source; skipped',
      );
      return;
    }
    const source = { ...media, snapshotUrl: media.snapshotUrl };
    let uploaded = 0;
    for (const target of uploads.snapshots) {
      const seq = target.seq;
      try {
        const image = await step(eventId, 'snapshot', seq, source.snapshotUrl, () => fetchSnapshot(source));
        await step(eventId, 'upload', seq, target.upload_put_url, () => putJpeg(target.upload_put_url, image));
        if (target.callback_put_url) {
          const callback = target.callback_put_url;
          await step(eventId, 'callback', seq, callback, () => putEmpty(callback));
        }
        uploaded += 1;
      } catch {
        // Already logged by step(); the next snapshot still gets its chance.
      }
    }
    const fields = { event_id: eventId, uploaded, requested: uploads.snapshots.length };
    if (uploaded === uploads.snapshots.length) log.info(fields, 'snapshots uploaded');
    else log.warn(fields, 'some snapshots were not uploaded');
  }

  /** One media step with up to `mediaRetries` retries (full-jitter backoff); logs only redacted URLs. */
  async function step<T>(eventId: string, name: string, seq: number | undefined, url: string, fn: () => Promise<T>): Promise<T> {
    for (let attemptNo = 0; ; attemptNo++) {
      try {
        return await fn();
      } catch (err) {
        const final = err instanceof MediaStepError && err.final;
        const fields = { event_id: eventId, step: name, seq, url: redactUrl(url), attempt: attemptNo + 1 };
        const error = err instanceof MediaStepError ? err.message : describeError(err);
        if (final || attemptNo >= mediaRetries) {
          log.warn({ ...fields, error }, `media ${name} failed; giving up`);
          throw err;
        }
        log.debug({ ...fields, error }, `media ${name} failed; retrying`);
        await sleep(Math.max(1, fullJitterDelay(attemptNo + 1, mediaRetryBaseMs, 10_000)));
      }
    }
  }

  async function fetchSnapshot(source: MediaSource & { snapshotUrl: string }): Promise<Buffer> {
    const { url, authorization } = snapshotRequest(source);
    const headers: Record<string, string> = { accept: 'image/jpeg', 'user-agent': USER_AGENT };
    if (authorization) headers.authorization = authorization;
    const res = await request(url, { method: 'GET', headers, dispatcher: otherDispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new MediaStepError(`snapshot source answered ${res.statusCode}`, !isRetryableStatus(res.statusCode));
    }
    const image = await readBody(res.body, MAX_SNAPSHOT_BYTES);
    if (!image) throw new MediaStepError(`snapshot larger than ${MAX_SNAPSHOT_BYTES} bytes`, true);
    if (!isJpeg(image)) throw new MediaStepError('snapshot source did not return a JPEG image', false);
    return image;
  }

  async function put(url: string, body: Buffer, headers: Record<string, string>, what: string): Promise<void> {
    const res = await request(url, { method: 'PUT', headers, body, dispatcher: otherDispatcher });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new MediaStepError(`${what} answered ${res.statusCode}`, !isRetryableStatus(res.statusCode));
    }
  }

  function putJpeg(url: string, image: Buffer): Promise<void> {
    // A Buffer with an explicit Content-Length: pre-signed S3 PUTs reject chunked bodies.
    return put(url, image, { 'content-type': 'image/jpeg', 'content-length': String(image.length) }, 'upload URL');
  }

  function putEmpty(url: string): Promise<void> {
    return put(url, Buffer.alloc(0), { 'content-length': '0' }, 'callback URL');
  }

  async function mediaIdle(): Promise<void> {
    while (pendingMedia.size > 0) await Promise.allSettled([...pendingMedia]);
  }

  return {
    name: 'partner-api',
    deliver(event: OutgoingEvent): Promise<DeliveryOutcome> {
      if (closing) return Promise.resolve({ kind: 'retry', reason: 'partner-api sink is closed' });
      return attempt(event, false);
    },
    mediaIdle,
    close(): Promise<void> {
      closing ??= (async () => {
        await mediaIdle();
        await Promise.all(ownDispatchers.map((d) => d.close()));
      })();
      return closing;
    },
  };
}
