/**
 * The bridge's logger: pino JSON lines with every secret-bearing field redacted.
 *
 * Redaction only covers structured fields. Message strings and error messages are NOT redacted, so code must
 * never interpolate a token, assertion, key, password or signed URL into a message; URLs that have to be logged
 * go through `redactUrl` first.
 */
import { pino } from 'pino';
import { isoClock } from './iso-time.js';

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

/**
 * Paths pino censors itself: the secrets at the top level, credential headers, the upload URLs. The one-level-down
 * copies (`*.key`) are NOT given to pino: its leading-wildcard paths cost ~90 µs per line (measured: 10k lines/s
 * instead of 250k), far too much for one line per panel event. `scrubNested` below covers them instead.
 */
function buildRedactPaths(): string[] {
  const paths = new Set<string>();
  for (const key of SECRET_KEYS) paths.add(key);
  for (const container of HEADER_CONTAINERS) {
    for (const header of SECRET_HEADERS) paths.add(join(container, header));
  }
  for (const path of UPLOAD_PATHS) paths.add(path);
  return [...paths];
}

/** Every path the logger censors (exported for tests and for child loggers that override options). */
export const REDACT_PATHS: readonly string[] = Object.freeze(buildRedactPaths());

/** Secret field names as plain keys (bracket notation removed) for the nested scrub. */
const SECRET_NAMES: ReadonlySet<string> = new Set(SECRET_KEYS.map((k) => (k.startsWith('["') ? k.slice(2, -2) : k)));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep enough for `x.uploads.snapshots[0].upload_put_url`; log fields are never deeper in this project. */
const MAX_SCRUB_DEPTH = 5;

/**
 * Censors secret fields inside the plain objects and arrays of a log line (pino's own paths cover the top level).
 * Returns the value itself when nothing needs censoring, so the common line allocates nothing.
 */
function scrubNested<T>(value: T, depth = 0): T {
  if (depth > MAX_SCRUB_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const cleaned = scrubNested(item, depth + 1);
      if (cleaned !== item) (out ??= [...value])[i] = cleaned;
    }
    return (out ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | null = null;
  for (const key in value) {
    const item = value[key];
    const cleaned = depth > 0 && SECRET_NAMES.has(key) ? REDACTED : scrubNested(item, depth + 1);
    if (cleaned !== item) (out ??= { ...value })[key] = cleaned;
  }
  return (out ?? value) as T;
}

export const REDACTED = '[Redacted]';

export interface CreateLoggerOptions {
  level: string;
  /** Where the JSON lines go; stdout (fd 1) when absent. */
  destination?: pino.DestinationStream | NodeJS.WritableStream;
}

/** What pino's asynchronous file destination (sonic-boom) offers and the batcher passes on. */
interface BufferedDestination {
  write(chunk: string): boolean;
  flush?(cb?: (err?: Error) => void): void;
  flushSync(): void;
  end?(): void;
}

const isBuffered = (d: unknown): d is BufferedDestination =>
  typeof d === 'object' &&
  d !== null &&
  typeof (d as BufferedDestination).flushSync === 'function' &&
  typeof (d as BufferedDestination).write === 'function';

/**
 * Hands the lines of one turn of the event loop to `inner` as one string. sonic-boom appends each write to its
 * pending chunk and measures that chunk's UTF-8 length again on every write, which flattens the growing string
 * each time: at one line per panel event that copied ~7 KB per line. One write per turn measures it once.
 */
export class TurnBatchedDestination {
  private lines: string[] = [];
  private scheduled = false;
  private failed = false;

  constructor(private readonly inner: BufferedDestination) {}

  write(line: string): boolean {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /** Passes the collected lines on now (also what `flush`, `flushSync` and `end` do first). */
  readonly drain = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const chunk = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    try {
      this.inner.write(chunk);
    } catch (err) {
      // Runs from setImmediate: a destination that throws (ended, destroyed) must not take the process down.
      if (!this.failed) process.stderr.write(`log destination failed, lines dropped: ${errorMessage(err)}\n`);
      this.failed = true;
    }
  };

  flush(cb?: (err?: Error) => void): void {
    this.drain();
    if (this.inner.flush) this.inner.flush(cb);
    else cb?.();
  }

  flushSync(): void {
    this.drain();
    this.inner.flushSync();
  }

  end(): void {
    this.drain();
    this.inner.end?.();
  }
}

/**
 * pino's `isoTime`, formatted once per millisecond: at one line per panel event many lines share a millisecond, and
 * each would otherwise build a Date and its ISO text.
 */
export function isoTimeOncePerMs(): () => string {
  const clock = isoClock();
  let text = '';
  let field = '';
  return () => {
    const now = clock();
    if (now !== text) {
      text = now;
      field = `,"time":"${now}"`;
    }
    return field;
  };
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { service: 'alarm-bridge' },
    timestamp: isoTimeOncePerMs(),
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    formatters: { log: (fields) => scrubNested(fields) },
  };
  // stdout through an asynchronous sonic-boom: lines queue while a write is in flight and go out together, so a
  // burst of events does not block the event loop on one write per line. `serve` flushes it when it stops.
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, isBuffered(destination) ? new TurnBatchedDestination(destination) : (destination as pino.DestinationStream));
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

/** An error's message (or the thrown value as text), for a log field or a reply that names what went wrong. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The stack of an unexpected error (where it came from matters), else its message. */
export function errorStack(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
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
