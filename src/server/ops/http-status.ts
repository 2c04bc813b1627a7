/**
 * The operations HTTP server (issue #7, "Health and metrics"), plain node:http:
 * - `GET /healthz`: 200 `{"status":"ok"}` as long as the process answers;
 * - `GET /readyz`: 200 when every readiness check passes, else 503, with the checks as JSON;
 * - `GET /metrics`: the registry in Prometheus text format (plus prom-client's default process metrics);
 * - `POST /outbox/retry`, `POST /outbox/discard` (with an outbox): what `alarm-bridge outbox retry|discard` asks a
 *   running bridge, which holds the outbox, to do. These change state while the server may listen on every
 *   interface for scrapers, so they need all of: a client on this host, the bridge's control token
 *   (`authorization: Bearer`, see control-token.ts) and a JSON body (`content-type: application/json`, which a
 *   browser cannot send cross-site without asking first).
 * - `/`, `/console/*`, `/api/*` (with `console`): the operator console (console.ts).
 * With `auth` (`http.auth`), the console and `/metrics` need its credentials (Prometheus sends them with
 * `authorization` or `basic_auth`); `/healthz` and `/readyz` stay open for probes that cannot authenticate and tell
 * nothing but up/ready; the outbox actions keep their own control token.
 * HEAD works like GET without a body; other methods get 405, other paths 404. A failing check, registry or
 * request never takes the process down.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { errorMessage, type Logger } from '../../log.js';
import { isLoopbackHost, mediaType, readRequestBody, sameSecret } from '../../http/incoming.js';
import { parseJson } from '../../sink/partner-api/body.js';
import { bearerToken } from './control-token.js';
import { authorized, refuseUnauthorized, type ConsoleAuth } from './console-auth.js';
import type { ConsoleRoutes, OutboxAction, Readiness } from './status-types.js';
import { bound } from '../sources/tcp-server.js';

export type { OutboxAction, Readiness, ReadinessCheck } from './status-types.js';

export interface StatusServerOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  registry: Registry;
  readiness: () => Promise<Readiness>;
  logger: Logger;
  /** A readiness probe that takes longer than this answers 503. Default 5 s. */
  readinessTimeoutMs?: number;
  /**
   * `POST /outbox/retry`, `/outbox/discard` and the live views `/outbox/status`, `/outbox/list`, allowed with
   * `token`; without them those paths are 404.
   */
  outboxActions?: { retry: OutboxAction; discard: OutboxAction; status?: OutboxAction; list?: OutboxAction; token: string };
  /** The operator console's pages and API. */
  console?: ConsoleRoutes;
  /** `http.auth`: required by the console and `/metrics` when set. */
  auth?: ConsoleAuth | null;
}

export interface RunningStatusServer {
  readonly port: number;
  close(): Promise<void>;
}

export const DEFAULT_METRICS_PREFIX = 'alarm_bridge_';

const withDefaults = new WeakSet<Registry>();

/**
 * Adds prom-client's default metrics (process CPU, memory, event loop lag, GC, handles…) to a registry once,
 * prefixed `alarm_bridge_`. Safe to call again for the same registry.
 */
export function registerDefaultMetrics(registry: Registry): void {
  if (withDefaults.has(registry)) return;
  withDefaults.add(registry);
  // Someone else may have registered them on this registry already: prom-client would throw on the duplicate.
  if (registry.getSingleMetric(`${DEFAULT_METRICS_PREFIX}process_cpu_user_seconds_total`)) return;
  collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  head: boolean,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extraHeaders,
  });
  res.end(head ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, head: boolean, extra?: Record<string, string>) =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head, extra);

const errorText = (err: unknown) => errorMessage(err).slice(0, 300);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
const OUTBOX_ROUTES: Readonly<Record<string, 'retry' | 'discard' | 'status' | 'list'>> = {
  '/outbox/retry': 'retry',
  '/outbox/discard': 'discard',
  '/outbox/status': 'status',
  '/outbox/list': 'list',
};
/** An action request names event ids, an account or a reason: a few KB at most. */
const MAX_ACTION_BODY_BYTES = 1024 * 1024;

/**
 * A client on this host: over loopback, or to an address of this host from that same address (what a local client
 * connecting to a specific interface looks like; a remote peer cannot appear with the server's own address).
 */
export function isLocalPeer(socket: { remoteAddress?: string | undefined; localAddress?: string | undefined }): boolean {
  const remote = socket.remoteAddress;
  if (!remote) return false;
  return isLoopbackHost(remote) || remote === socket.localAddress;
}

export async function startStatusServer(options: StatusServerOptions): Promise<RunningStatusServer> {
  const { registry, logger } = options;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 5000;
  registerDefaultMetrics(registry);

  async function readiness(): Promise<{ status: number; body: Readiness & { status: string } }> {
    let result: Readiness;
    try {
      result = await withTimeout(
        Promise.resolve().then(() => options.readiness()),
        readinessTimeoutMs,
      );
    } catch (err) {
      result = { ready: false, checks: { readiness: { ok: false, detail: errorText(err) } } };
    }
    const ready = result.ready && Object.values(result.checks).every((c) => c.ok);
    const degraded = Object.values(result.checks).some((c) => c.degraded === true);
    return {
      status: ready ? 200 : 503,
      body: { status: ready ? (degraded ? 'degraded' : 'ready') : 'not ready', ready, checks: result.checks },
    };
  }

  async function outboxAction(req: IncomingMessage, res: ServerResponse, action: OutboxAction, token: string): Promise<void> {
    const refuse = (status: number, error: string, headers?: Record<string, string>) => {
      req.resume();
      sendJson(res, status, { error }, false, headers);
    };
    if (req.method !== 'POST') return refuse(405, 'method not allowed', { allow: 'POST' });
    if (!isLocalPeer(req.socket)) {
      logger.warn({ peer: req.socket.remoteAddress, url: req.url?.slice(0, 200) }, 'outbox action refused: not a client on this host');
      return refuse(403, 'outbox actions are answered to clients on this host only');
    }
    const given = bearerToken(req.headers.authorization);
    if (given === null || !sameSecret(given, token)) {
      logger.warn(
        { peer: req.socket.remoteAddress, url: req.url?.slice(0, 200), tokenGiven: given !== null },
        'outbox action refused: control token missing or wrong',
      );
      return refuse(401, "control token missing or wrong: this server's bridge does not hold the outbox the client read its token from", {
        'www-authenticate': 'Bearer',
      });
    }
    if (mediaType(req.headers['content-type']) !== 'application/json') return refuse(415, 'expected content-type: application/json');
    const tooLarge = `request body over ${MAX_ACTION_BODY_BYTES} bytes`;
    if (Number(req.headers['content-length'] ?? 0) > MAX_ACTION_BODY_BYTES) return refuse(413, tooLarge, { connection: 'close' });
    const body = await readRequestBody(req, MAX_ACTION_BODY_BYTES);
    if (body.tooLarge) return refuse(413, tooLarge);
    const request = parseJson(body.bytes);
    if (body.bytes.length > 0 && request === undefined) return refuse(400, 'request body is not JSON');
    const { status, body: answer } = await action(request);
    sendJson(res, status, answer, false);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const head = req.method === 'HEAD';
    const actions = options.outboxActions;
    const outboxRoute = actions && Object.hasOwn(OUTBOX_ROUTES, path) ? actions[OUTBOX_ROUTES[path]!] : undefined;
    if (actions && outboxRoute) return outboxAction(req, res, outboxRoute, actions.token);
    if (options.console && !ROUTES.has(path) && (await options.console.handle(req, res, path))) return;
    // The request body is never needed: drain it so keep-alive works.
    req.resume();
    if (!ROUTES.has(path)) {
      sendJson(res, 404, { error: 'not found', paths: [...ROUTES] }, head);
      return;
    }
    if (req.method !== 'GET' && !head) {
      sendJson(res, 405, { error: 'method not allowed' }, false, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' }, head);
    } else if (path === '/readyz') {
      const { status, body } = await readiness();
      sendJson(res, status, body, head);
    } else if (!authorized(req, options.auth ?? null)) {
      refuseUnauthorized(req, res);
    } else {
      let text: string;
      try {
        text = await registry.metrics();
      } catch (err) {
        logger.error({ err: errorText(err) }, 'metrics collection failed');
        sendJson(res, 500, { error: 'metrics collection failed' }, head);
        return;
      }
      send(res, 200, registry.contentType, text, head);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (req.destroyed && !req.complete) {
        logger.debug({ err: errorText(err), url: req.url?.slice(0, 200) }, 'status client went away before its request was read');
        return;
      }
      logger.error({ err: errorText(err), url: req.url?.slice(0, 200) }, 'status request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' }, false);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('clientError', (err, socket) => {
    logger.debug({ err: errorText(err) }, 'bad status request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await bound(server, (done) => server.listen(options.port, options.host, done));
  server.on('error', (err) => logger.error({ err: errorText(err) }, 'status server error'));
  const port = (server.address() as AddressInfo).port;
  const paths = [
    ...ROUTES,
    ...Object.keys(OUTBOX_ROUTES).filter((path) => options.outboxActions?.[OUTBOX_ROUTES[path]!]),
    ...(options.console ? ['/ (operator console)'] : []),
  ];
  logger.info({ host: options.host, port }, `status server listening (${paths.join(', ')})`);

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        options.console?.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Scrapers hold keep-alive connections; a stop must not wait for them.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}
