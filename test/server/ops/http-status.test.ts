import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import {
  isLocalPeer,
  registerDefaultMetrics,
  startStatusServer,
  type OutboxAction,
  type Readiness,
  type RunningStatusServer,
} from '../../../src/server/ops/http-status.js';
import { BridgeMetrics } from '../../../src/server/ops/metrics.js';

const logger = createLogger({ level: 'silent' });
const servers: RunningStatusServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(
  readiness: () => Promise<Readiness>,
  metrics = new BridgeMetrics(),
  extra: {
    readinessTimeoutMs?: number;
    outboxActions?: { retry: OutboxAction; discard: OutboxAction; token: string };
    logger?: typeof logger;
  } = {},
) {
  const server = await startStatusServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, readiness, logger, ...extra });
  servers.push(server);
  return { server, metrics, base: `http://127.0.0.1:${server.port}` };
}

const allReady = async (): Promise<Readiness> => ({
  ready: true,
  checks: { listeners: { ok: true }, outbox: { ok: true, detail: 'writable' } },
});

/** Raw bytes in, raw response text out (for requests fetch would not send). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('status server', () => {
  it('GET /healthz answers 200 {status:"ok"}', async () => {
    const { base } = await start(allReady);
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with the checks when all pass', async () => {
    const { base } = await start(allReady);
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, checks: { listeners: { ok: true }, outbox: { ok: true, detail: 'writable' } } });
  });

  it('GET /readyz answers 503 when a check fails, when the probe throws and when it hangs', async () => {
    let mode: 'failing' | 'throwing' | 'hanging' = 'failing';
    const { base } = await start(
      async () => {
        if (mode === 'throwing') throw new Error('outbox directory vanished');
        if (mode === 'hanging') return new Promise<Readiness>(() => undefined);
        return { ready: false, checks: { listeners: { ok: true }, delivery: { ok: false, detail: 'last 5 deliveries failed: 503' } } };
      },
      new BridgeMetrics(),
      { readinessTimeoutMs: 200 },
    );
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { delivery: { ok: false, detail: 'last 5 deliveries failed: 503' } } });

    mode = 'throwing';
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { readiness: { ok: false, detail: 'outbox directory vanished' } } });

    mode = 'hanging';
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toContain('no answer within 200 ms');
  });

  it('GET /readyz answers 200 with status "degraded" when a check passes degraded (journal damage skipped at start)', async () => {
    const { base } = await start(async () => ({
      ready: true,
      checks: { listeners: { ok: true }, journal: { ok: true, degraded: true, detail: '2 event(s) lost' } },
    }));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'degraded', ready: true, checks: { journal: { ok: true, degraded: true } } });
    const healthy = await start(allReady);
    expect(await (await fetch(`${healthy.base}/readyz`)).json()).toMatchObject({ status: 'ready' });
  });

  it('GET /readyz is 503 when `ready` claims true but a check is not ok', async () => {
    const { base } = await start(async () => ({ ready: true, checks: { token: { ok: false, detail: 'token exchange failing' } } }));
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it('GET /metrics serves the registry and the default process metrics in Prometheus text', async () => {
    const metrics = new BridgeMetrics();
    metrics.frames.inc({ transport: 'tcp', token: 'SIA-DCS', result: 'accepted' });
    metrics.supervisedAccounts.set(3);
    const { base } = await start(allReady, metrics);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    const text = await res.text();
    expect(text).toContain('# TYPE alarm_bridge_frames_total counter');
    expect(text).toContain('alarm_bridge_frames_total{transport="tcp",token="SIA-DCS",result="accepted"} 1');
    expect(text).toContain('alarm_bridge_supervised_accounts 3');
    expect(text).toContain('alarm_bridge_supervision_events_total');
    expect(text).toContain('alarm_bridge_process_cpu_user_seconds_total');
    expect(text).toContain('alarm_bridge_nodejs_eventloop_lag_seconds');
  });

  it('registers the default metrics once per registry', async () => {
    const metrics = new BridgeMetrics();
    registerDefaultMetrics(metrics.registry);
    registerDefaultMetrics(metrics.registry);
    const first = await start(allReady, metrics);
    const second = await start(allReady, metrics);
    const text = await (await fetch(`${second.base}/metrics`)).text();
    expect(text.match(/^# TYPE alarm_bridge_process_cpu_user_seconds_total /gm)).toHaveLength(1);
    expect((await fetch(`${first.base}/metrics`)).status).toBe(200);
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    const { base, server } = await start(allReady);
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const withQuery = await fetch(`${base}/healthz?verbose=1`);
    expect(withQuery.status).toBe(200);
    const head = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/healthz', method: 'HEAD' }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += String(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head).toEqual({ status: 200, body: '' });
  });

  it('survives malformed requests', async () => {
    const { base, server } = await start(allReady);
    const garbage = await raw(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const binary = await raw(server.port, '\u0000\u0001\u0002\r\n\r\n');
    expect(binary).toMatch(/^HTTP\/1\.1 400/);
    const oddPath = await raw(server.port, 'GET /%zz/../healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(oddPath).toMatch(/^HTTP\/1\.1 404/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('rejects start when the port is taken, and close() does not wait for keep-alive clients', async () => {
    const { server, base } = await start(allReady);
    await expect(
      startStatusServer({ host: '127.0.0.1', port: server.port, registry: new BridgeMetrics().registry, readiness: allReady, logger }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const res = await fetch(`${base}/healthz`, { headers: { connection: 'keep-alive' } });
    expect(res.status).toBe(200);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe('status server: outbox actions', () => {
  const TOKEN = 'test-control-token';
  /** Actions that answer what they were asked, so the test sees the parsed body arrive. */
  function echoActions(calls: unknown[]) {
    const echo =
      (name: string): OutboxAction =>
      async (request) => {
        calls.push({ name, request });
        return request === 'boom' ? { status: 400, body: { error: 'bad choice' } } : { status: 200, body: { name, request } };
      };
    return { retry: echo('retry'), discard: echo('discard'), token: TOKEN };
  }
  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, body });

  it('POST /outbox/retry and /outbox/discard hand the JSON body to the action and answer its status and body', async () => {
    const calls: unknown[] = [];
    const { base } = await start(allReady, undefined, { outboxActions: echoActions(calls) });
    const retried = await post(`${base}/outbox/retry`, '{"account":"1234"}');
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ name: 'retry', request: { account: '1234' } });
    const discarded = await post(`${base}/outbox/discard`, '', { 'content-type': 'Application/JSON; charset=utf-8' });
    expect(discarded.status).toBe(200);
    expect(await discarded.json()).toEqual({ name: 'discard' });
    const refused = await post(`${base}/outbox/discard`, '"boom"');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'bad choice' });
    expect(calls).toEqual([
      { name: 'retry', request: { account: '1234' } },
      { name: 'discard', request: undefined },
      { name: 'discard', request: 'boom' },
    ]);
  });

  it('answers 401 without the control token or with another, and logs the refusal without the token', async () => {
    const calls: unknown[] = [];
    const lines: string[] = [];
    const captured = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } });
    const { base } = await start(allReady, undefined, { outboxActions: echoActions(calls), logger: captured });
    const missing = await fetch(`${base}/outbox/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await post(`${base}/outbox/discard`, '{"all":true}', { authorization: 'Bearer another-bridges-token' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/control token/);
    const basic = await post(`${base}/outbox/retry`, '{}', { authorization: `Basic ${TOKEN}` });
    expect(basic.status).toBe(401);
    // The token is checked before anything else about the request: no 415 or 413 tells a stranger more.
    const untyped = await post(`${base}/outbox/retry`, '{}', { authorization: 'Bearer x', 'content-type': 'text/plain' });
    expect(untyped.status).toBe(401);
    const huge = await post(`${base}/outbox/retry`, `"${'x'.repeat(1024 * 1024 + 10)}"`, { authorization: 'Bearer x' });
    expect(huge.status).toBe(401);
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.includes('control token missing or wrong'))).toHaveLength(5);
    expect(lines.join('')).not.toContain('another-bridges-token');
  });

  it('answers 415 to a body that is not declared JSON (what a cross-site form or text post sends)', async () => {
    const calls: unknown[] = [];
    const { base } = await start(allReady, undefined, { outboxActions: echoActions(calls) });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(`${base}/outbox/discard`, '{"all":true}', { 'content-type': type });
      expect(res.status).toBe(415);
    }
    const untyped = await fetch(`${base}/outbox/discard`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: new Uint8Array(Buffer.from('{"all":true}')),
    });
    expect(untyped.status).toBe(415);
    expect(calls).toEqual([]);
  });

  it('answers 405 to other methods, 400 to a body that is not JSON, 413 to an oversized one (declared or chunked), without calling the action', async () => {
    const calls: unknown[] = [];
    const { base, server } = await start(allReady, undefined, { outboxActions: echoActions(calls) });
    const got = await fetch(`${base}/outbox/retry`);
    expect(got.status).toBe(405);
    expect(got.headers.get('allow')).toBe('POST');
    expect((await post(`${base}/outbox/retry`, '{not json')).status).toBe(400);
    expect((await post(`${base}/outbox/retry`, `"${'x'.repeat(1024 * 1024 + 10)}"`)).status).toBe(413);
    // Without a declared length the body is read to its end and dropped past the limit: the client still gets 413.
    const chunk = `${'x'.repeat(64 * 1024)}`;
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const reply = await raw(
      server.port,
      `POST /outbox/discard HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${TOKEN}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(calls).toEqual([]);
    // The ordinary routes still work on the same server.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('has no outbox paths without an outbox', async () => {
    const { base } = await start(allReady);
    expect((await post(`${base}/outbox/retry`, '{}')).status).toBe(404);
  });

  it('counts only clients on this host as local: loopback, or the server address itself', () => {
    expect(isLocalPeer({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' })).toBe(true);
    expect(isLocalPeer({ remoteAddress: '127.0.0.5', localAddress: '127.0.0.1' })).toBe(true);
    expect(isLocalPeer({ remoteAddress: '::1', localAddress: '::1' })).toBe(true);
    expect(isLocalPeer({ remoteAddress: '::ffff:127.0.0.1', localAddress: '::ffff:127.0.0.1' })).toBe(true);
    expect(isLocalPeer({ remoteAddress: '10.0.0.5', localAddress: '10.0.0.5' })).toBe(true);
    expect(isLocalPeer({ remoteAddress: '10.0.0.9', localAddress: '10.0.0.5' })).toBe(false);
    expect(isLocalPeer({ remoteAddress: '::ffff:192.168.1.20', localAddress: '::ffff:192.168.1.2' })).toBe(false);
    expect(isLocalPeer({ remoteAddress: undefined, localAddress: '127.0.0.1' })).toBe(false);
  });
});
