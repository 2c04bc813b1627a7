/**
 * The bridge's logger: pino JSON lines with every secret-bearing field redacted.
 *
 * Redaction only covers structured fields. Message strings and error messages are NOT redacted, so code must
 * never interpolate a token, assertion, key, password or signed URL into a message; URLs that have to be logged
 * go through `redactUrl` first.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

/** Field names that hold a secret wherever they appear (top level and one object level down). */
const SECRET_KEYS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_assertion',
  'assertion',
  'client_secret',
  'authorization',
  'Authorization',
  'cookie',
  '["x-api-key"]',
  '["X-API-KEY"]',
  'privateKey',
  'privateKeyPem',
  'key',
  'apiKey',
  'password',
  'snapshotPassword',
  'secret',
  'token',
  'upload_put_url',
  'callback_put_url',
] as const;

/** Header containers whose credential headers are redacted (top level and one level down). */
const HEADER_CONTAINERS = ['headers', 'requestHeaders'] as const;
const SECRET_HEADERS = ['authorization', 'Authorization', '["x-api-key"]', '["X-API-KEY"]', 'cookie'] as const;

/** Where the Partner Event API's pre-signed upload URLs sit in a 201 response. */
const UPLOAD_PATHS = [
  'uploads.snapshots[*].upload_put_url',
  'uploads.snapshots[*].callback_put_url',
  'uploads.short_mp4.upload_put_url',
  'uploads.short_mp4.callback_put_url',
  'uploads.event_mp4.upload_put_url',
  'uploads.event_mp4.callback_put_url',
] as const;

function join(prefix: string, key: string): string {
  return key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`;
}

function buildRedactPaths(): string[] {
  const paths = new Set<string>();
  for (const key of SECRET_KEYS) {
    paths.add(key);
    paths.add(join('*', key));
  }
  for (const container of HEADER_CONTAINERS) {
    for (const header of SECRET_HEADERS) {
      paths.add(join(container, header));
      paths.add(join(`*.${container}`, header));
    }
  }
  for (const path of UPLOAD_PATHS) {
    paths.add(path);
    paths.add(`*.${path}`);
  }
  return [...paths];
}

/** Every path the logger censors (exported for tests and for child loggers that override options). */
export const REDACT_PATHS: readonly string[] = Object.freeze(buildRedactPaths());

export const REDACTED = '[Redacted]';

export interface CreateLoggerOptions {
  level: string;
  /** Where the JSON lines go; stdout (fd 1) when absent. */
  destination?: pino.DestinationStream | NodeJS.WritableStream;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'alarm-bridge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  // Without a destination pino writes to stdout its own (exit-safe) way.
  return opts.destination ? pino(options, opts.destination as pino.DestinationStream) : pino(options);
}

/**
 * A URL made safe for a log line: userinfo, query string and fragment are dropped (pre-signed URLs carry their
 * credential in the query). Something that does not parse as a URL is replaced entirely.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[invalid url]';
  }
  const origin = parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}//${parsed.host}`;
  return `${origin}${parsed.pathname}`;
}

/**
 * A one-line description of an error that is safe to log: its code (or name) and message, with any URL in the
 * message reduced by `redactUrl`.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
  return `${code ?? err.name}: ${message}`.slice(0, 500);
}
