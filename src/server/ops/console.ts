/**
 * The operator console on the status server: static pages (`/`, `/console/*`, plain HTML/CSS/ES modules read from
 * `console/` beside this module's source) and the JSON they use:
 * - `GET /api/overview`: listeners, the last hour per minute, replies by kind, outbox (or, in cluster mode, this
 *   instance, its role and the stream backlog), last delivery, token, readiness;
 * - `GET /api/accounts`, `GET /api/accounts/<account>` (recent events, raw frames decoded as `decode` shows them);
 * - `GET /api/events`: Server-Sent Events of mapped events and rejections;
 * - `GET /api/dead-letters`, `POST /api/dead-letters/retry|discard` (`{ "ids": [...] }`, the functions behind
 *   `POST /outbox/retry|discard`).
 * Security: `http.auth` when configured (401 otherwise); without it, only Host headers naming an IP address or
 * localhost (a DNS-rebinding page cannot read the console); actions need the page's CSRF token in `x-csrf-token`,
 * a same-origin Origin when the browser sends one, and a JSON body. Nothing secret is sent: every answer is built
 * from chosen fields (no account keys, snapshot URLs or passwords, sink credentials, control token).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mediaType, readRequestBody, sameSecret } from '../../http/incoming.js';
import { describeError, type Logger } from '../../log.js';
import { decideReply, parseFrame } from '../../protocols/dc09/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { DECODE_POLICY, frameReport } from '../../protocols/report.js';
import { parseJson } from '../../sink/partner-api/body.js';
import type { StoredDeadLetter } from '../../sink/outbox/index.js';
import type { RunningBridge } from '../app/bridge.js';
import { deliveryCheck } from '../app/readiness.js';
import { accountDirectory } from '../pipeline/policy.js';
import type { ActivityRecorder, LiveItem, RecentFrame } from './activity.js';
import { authorized, refuseUnauthorized, type ConsoleAuth } from './console-auth.js';

export type { ConsoleRoutes };
import type { ConsoleRoutes, OutboxAction, Readiness } from './status-types.js';

export interface ConsoleDeps {
  activity: ActivityRecorder;
  bridge: Pick<RunningBridge, 'pipeline' | 'outbox' | 'cluster' | 'health' | 'supervisor' | 'metrics' | 'listeners'>;
  readiness: () => Promise<Readiness>;
  /** Dead-letter retry and discard (with an outbox, or in cluster mode on the dead-letter stream). */
  actions?: { retry: OutboxAction; discard: OutboxAction } | undefined;
  auth: ConsoleAuth | null;
  logger: Logger;
  now?: () => Date;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Live-stream clients at once; one more is refused (a console left open in many tabs should not grow without end). */
const MAX_STREAMS = 32;
/** A stream client that lets this much pile up unread is cut off. */
const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;
const STREAM_HEARTBEAT_MS = 15_000;
const MAX_ACTION_BODY_BYTES = 256 * 1024;
const DEAD_LETTERS_SHOWN = 500;
const CSRF_PLACEHOLDER = '__CSRF_TOKEN__';

/**
 * The static files: beside this module (a copy under dist/), else in the source tree (the build compiles only
 * TypeScript, so from dist/src/server/ops/ that is four levels up, then src/server/ops/console/).
 */
function staticDir(): string {
  const candidates = [new URL('./console/', import.meta.url), new URL('../../../../src/server/ops/console/', import.meta.url)];
  const found = candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(`${dir}index.html`));
  if (!found) throw new Error(`operator console files not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
  return found;
}

function loadStaticFiles(): Map<string, { type: string; bytes: Buffer }> {
  const dir = staticDir();
  const files = new Map<string, { type: string; bytes: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
    if (type) files.set(name, { type, bytes: readFileSync(`${dir}${name}`) });
  }
  return files;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head = false,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(head ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, head = false) =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head);

/** The host part of a Host header (without port or IPv6 brackets). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  return header.split(':')[0]!;
}

/** Without credentials, a page served under a DNS name could be a rebinding attacker's: only addresses and localhost. */
function trustedHost(req: IncomingMessage): boolean {
  const name = hostName(req.headers.host).toLowerCase();
  return name === 'localhost' || isIP(name) !== 0;
}

/**
 * A same-origin request, as far as the browser tells: its Origin (when sent) names this server's host and port
 * (http, or https behind a TLS proxy).
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin';
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === req.headers.host;
  } catch {
    return false;
  }
}

function decodedSegment(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

/** A dead letter as the page shows it: what happened and what to change, no body, media or API response. */
function letterView(letter: StoredDeadLetter) {
  const partial = letter.partial as { event_type?: unknown } | undefined;
  return {
    id: letter.id,
    account: letter.account,
    reason: letter.reason,
    detail: letter.detail ?? null,
    configKey: letter.configKey ?? null,
    deadAt: letter.deadAt,
    acceptedAt: letter.acceptedAt ?? null,
    attempts: letter.attempts ?? null,
    status: letter.status ?? null,
    eventType: letter.event?.body.event_type ?? (typeof partial?.event_type === 'string' ? partial.event_type : null),
  };
}

export function createConsole(deps: ConsoleDeps): ConsoleRoutes {
  const { activity, bridge, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const files = loadStaticFiles();
  const csrf = randomBytes(32).toString('base64url');
  const index = Buffer.from(files.get('index.html')!.bytes.toString('utf8').replace(CSRF_PLACEHOLDER, csrf));
  const streams = new Set<ServerResponse>();

  async function overview() {
    const config = bridge.pipeline.currentConfig;
    const replies: Record<string, number> = {};
    for (const v of (await bridge.metrics.replies.get()).values)
      replies[String(v.labels.kind)] = (replies[String(v.labels.kind)] ?? 0) + v.value;
    let ready: Readiness;
    try {
      ready = await deps.readiness();
    } catch (err) {
      ready = { ready: false, checks: { readiness: { ok: false, detail: describeError(err) } } };
    }
    const outbox = bridge.outbox?.status() ?? null;
    const cluster = bridge.cluster;
    const last = bridge.health.lastDelivery;
    return {
      now: now().toISOString(),
      ready: ready.ready && Object.values(ready.checks).every((c) => c.ok),
      checks: ready.checks,
      listeners: config.listeners.map((l, i) => ({
        protocol: l.protocol,
        transport: l.transport,
        host: l.host,
        port: bridge.listeners[i]?.port ?? l.port,
      })),
      minutes: activity.series(now()),
      replies,
      outbox: outbox && {
        depth: outbox.depth,
        oldestAgeSeconds: outbox.oldestAgeSeconds,
        deadLetters: outbox.deadLetters,
        state: outbox.state,
        inFlight: outbox.inFlight,
      },
      cluster: cluster && {
        instance: cluster.runtime.config.instance,
        role: cluster.runtime.role.current,
        connected: cluster.runtime.connection.connected,
        pending: cluster.status().depth,
        oldestAgeSeconds: cluster.status().oldestAgeSeconds,
      },
      lastDelivery: last && { outcome: last.outcome.kind, ...deliveryCheck(last), at: new Date(last.atMs).toISOString() },
      token: bridge.health.lastToken,
      sink: config.sink.type,
      accounts: { configured: Object.keys(config.accounts).length, inFailure: bridge.supervisor.accountsInFailure().length },
    };
  }

  function accountRow(account: string) {
    const config = bridge.pipeline.currentConfig;
    const cfg = config.accounts[account];
    const seen = bridge.supervisor.status(account);
    const recorded = activity.accountActivity(account, now());
    const lastSeen = seen?.lastSeen ?? recorded?.lastSeen ?? null;
    return {
      account,
      configured: cfg !== undefined,
      encrypted: cfg?.key !== undefined,
      locationId: cfg?.locationId ?? null,
      lastSeen: iso(lastSeen),
      peer: seen?.peer ?? recorded?.peer ?? null,
      supervision: !seen?.supervised ? 'off' : seen.inFailure ? 'failed' : 'ok',
      eventsToday: recorded?.eventsToday ?? 0,
    };
  }

  function accounts() {
    const names = new Set([...Object.keys(bridge.pipeline.currentConfig.accounts), ...activity.accountNames()]);
    return [...names].sort().map(accountRow);
  }

  function frameView(frame: RecentFrame, keysFor: ReturnType<typeof accountDirectory>['keysFor']) {
    const result = parseFrame(frame.bytes, { keysFor });
    return {
      at: frame.at.toISOString(),
      peer: frame.peer,
      reply: frame.reply,
      reason: frame.reason,
      raw: escapeFrame(frame.bytes),
      decoded: frameReport(result, decideReply(result, DECODE_POLICY, { now: frame.at })),
    };
  }

  function account(name: string) {
    const upper = name.toUpperCase();
    const recorded = activity.accountActivity(upper, now());
    if (!recorded && !Object.hasOwn(bridge.pipeline.currentConfig.accounts, upper)) return null;
    const { keysFor } = accountDirectory(bridge.pipeline.currentConfig);
    return {
      ...accountRow(upper),
      events: [...(recorded?.events ?? [])].reverse(),
      frames: [...(recorded?.frames ?? [])].reverse().map((f) => frameView(f, keysFor)),
    };
  }

  function stream(res: ServerResponse): void {
    if (streams.size >= MAX_STREAMS) return sendJson(res, 503, { error: `at most ${MAX_STREAMS} live streams at once` });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      ...SECURITY_HEADERS,
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': alarm-bridge live events\n\n');
    streams.add(res);
    const unsubscribe = activity.subscribe((item: LiveItem) => {
      if (res.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        res.destroy();
        return;
      }
      res.write(`event: ${item.kind}\ndata: ${JSON.stringify(item)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), STREAM_HEARTBEAT_MS).unref();
    const end = () => {
      unsubscribe();
      clearInterval(heartbeat);
      streams.delete(res);
    };
    // Not req's 'close': that fires once the (empty) request is read, with the response still open.
    res.on('close', end);
  }

  async function action(req: IncomingMessage, res: ServerResponse, run: OutboxAction | undefined): Promise<void> {
    if (req.method !== 'POST')
      return void (
        req.resume(),
        send(res, 405, 'application/json; charset=utf-8', '{"error":"method not allowed"}\n', false, { allow: 'POST' })
      );
    const token = req.headers['x-csrf-token'];
    if (typeof token !== 'string' || !sameSecret(token, csrf) || !sameOrigin(req)) {
      req.resume();
      logger.warn(
        { peer: req.socket.remoteAddress, url: req.url?.slice(0, 200), origin: req.headers.origin?.slice(0, 200) },
        'console action refused: CSRF token or origin wrong',
      );
      return sendJson(res, 403, { error: 'CSRF token missing or wrong, or another origin: reload the console page' });
    }
    if (mediaType(req.headers['content-type']) !== 'application/json')
      return void (req.resume(), sendJson(res, 415, { error: 'expected content-type: application/json' }));
    if (!run) return void (req.resume(), sendJson(res, 404, { error: 'no outbox: there are no dead letters' }));
    const body = await readRequestBody(req, MAX_ACTION_BODY_BYTES);
    if (body.tooLarge) return sendJson(res, 413, { error: `request body over ${MAX_ACTION_BODY_BYTES} bytes` });
    const request = parseJson(body.bytes) as { ids?: unknown } | undefined;
    // The console acts on the letters the operator picked, never on "all of them" by an empty choice.
    if (!request || !Array.isArray(request.ids) || request.ids.length === 0)
      return sendJson(res, 400, { error: 'expected {"ids": [event ids]}' });
    const answer = await run({ ids: request.ids });
    logger.info({ url: req.url, ids: request.ids.length, status: answer.status }, 'console dead-letter action');
    const reply = answer.body as { letters?: unknown } | null;
    // discard answers with the dropped letters themselves: the page needs only the ids.
    const { letters: _dropped, ...rest } = reply && typeof reply === 'object' ? reply : { letters: undefined };
    sendJson(res, answer.status, rest);
  }

  /** The dead-letter stream did not answer (NATS down, no quorum): said so, and logged. */
  function deadStreamUnreadable(err: unknown): Error {
    logger.warn({ err: describeError(err) }, 'console: the dead-letter stream could not be read');
    return new Error(`the dead-letter stream could not be read (${describeError(err)}): check the NATS servers, then reload`);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/api/dead-letters/retry') return action(req, res, deps.actions?.retry);
    if (path === '/api/dead-letters/discard') return action(req, res, deps.actions?.discard);
    req.resume();
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head)
      return send(res, 405, 'application/json; charset=utf-8', '{"error":"method not allowed"}\n', false, { allow: 'GET, HEAD' });
    if (path === '/api/overview') return sendJson(res, 200, await overview(), head);
    if (path === '/api/accounts') return sendJson(res, 200, accounts(), head);
    if (path === '/api/events') return head ? send(res, 200, 'text/event-stream; charset=utf-8', '', true) : stream(res);
    if (path === '/api/dead-letters') {
      const letters = bridge.outbox
        ? ((await bridge.outbox.list({ dead: true, limit: DEAD_LETTERS_SHOWN })) as StoredDeadLetter[])
        : bridge.cluster
          ? await bridge.cluster.dead.readAll(DEAD_LETTERS_SHOWN).catch((err: unknown) => deadStreamUnreadable(err))
          : null;
      if (letters instanceof Error) return sendJson(res, 503, { error: letters.message }, head);
      // `outbox`: dead letters are kept here (the local outbox, or the cluster's dead-letter stream).
      return sendJson(
        res,
        200,
        {
          outbox: bridge.outbox !== null || bridge.cluster !== null,
          letters: (letters ?? []).map(letterView),
          limit: DEAD_LETTERS_SHOWN,
        },
        head,
      );
    }
    if (path.startsWith('/api/accounts/')) {
      const name = decodedSegment(path.slice('/api/accounts/'.length));
      if (name === null) return sendJson(res, 400, { error: 'the account in the path is not valid percent-encoding' }, head);
      const found = account(name);
      return found
        ? sendJson(res, 200, found, head)
        : sendJson(res, 404, { error: 'no such account (not configured, not seen since start)' }, head);
    }
    sendJson(res, 404, { error: 'not found' }, head);
  }

  return {
    async handle(req, res, path) {
      const page = path === '/' || path === '/index.html';
      const asset = path.startsWith('/console/') ? files.get(path.slice('/console/'.length)) : undefined;
      if (!page && !asset && !path.startsWith('/api/')) return false;
      if (!authorized(req, deps.auth)) {
        refuseUnauthorized(req, res);
        return true;
      }
      if (deps.auth === null && !trustedHost(req)) {
        req.resume();
        sendJson(res, 421, { error: 'the console answers requests to an IP address or localhost (or configure http.auth)' });
        return true;
      }
      if (path.startsWith('/api/')) {
        await api(req, res, path);
        return true;
      }
      req.resume();
      if (req.method !== 'GET' && req.method !== 'HEAD')
        send(res, 405, 'application/json; charset=utf-8', '{"error":"method not allowed"}\n', false, { allow: 'GET, HEAD' });
      else if (page) send(res, 200, CONTENT_TYPES['.html']!, index, req.method === 'HEAD');
      else send(res, 200, asset!.type, asset!.bytes, req.method === 'HEAD');
      return true;
    },
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
