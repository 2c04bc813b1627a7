/**
 * The console's routes on a real status server in front of a real bridge (loopback sockets, a real outbox): static
 * files, the JSON the pages read, the live stream, and the checks around them (Host header without auth, CSRF token
 * and origin on actions, http.auth on the console and /metrics).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startStatus, type StatusHandle } from '../../../src/server/app/status.js';
import { createLogger } from '../../../src/log.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { ActivityRecorder } from '../../../src/server/ops/activity.js';
import { startTestBridge, TcpPanel, type TestBridge } from '../harness.js';
import { until } from '../../e2e/api-harness.js';
import { startNatsCluster } from '../../cluster/nats-servers.js';
import { UNDELIVERABLE_SINK } from '../../cluster/undeliverable-sink.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
let test: TestBridge | null = null;
let status: StatusHandle | null = null;
afterEach(async () => {
  await status?.close();
  await test?.stop();
  status = null;
  test = null;
});

async function startConsole(http: Record<string, unknown> = {}, files: Record<string, string> = {}) {
  const activity = new ActivityRecorder();
  test = await startTestBridge(
    {
      accounts: {
        '1234': {
          key: KEY,
          keyEncoding: 'hex',
          locationId: 'LOC-1',
          cameraId: 'CAM-1',
          snapshotUrl: 'http://192.0.2.1/snap.jpg',
          snapshotPassword: 'cam-password-xyz',
        },
        '5555': { locationId: 'LOC-5' },
      },
      outbox: { dir: 'outbox' },
      http: { host: '127.0.0.1', port: 0, ...http },
    },
    { activity },
  );
  for (const [name, text] of Object.entries(files)) await writeFile(join(test.dir, name), text);
  status = await startStatus(test.config, test.bridge, createLogger({ level: 'silent' }), activity);
  const base = `http://127.0.0.1:${status!.port}`;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${base}${path}`, { headers });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };
  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await request(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as any };
  };
  return { base, get, post, port: status!.port, bridge: test };
}

const frame = (account: string, seq: string, data: string, key?: string) =>
  buildRequest({
    token: 'SIA-DCS',
    sequence: seq,
    line: '0',
    account,
    data,
    timestamp: new Date(),
    ...(key ? { key: Buffer.from(key, 'hex') } : {}),
  });

async function send(port: number, ...frames: Buffer[]): Promise<void> {
  const panel = await TcpPanel.open(port);
  for (const f of frames) panel.write(f);
  await panel.waitForReplies(frames.length);
  panel.end();
}

describe('operator console routes', () => {
  it('serves the page with its CSRF token and strict headers, and only the console files', async () => {
    const c = await startConsole();
    const page = await c.get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.text).toMatch(/<meta name="csrf-token" content="[A-Za-z0-9_-]{43}" ?\/?>/);
    expect((await c.get('/console/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await c.get('/console/../../../package.json')).status).toBe(404);
    expect((await c.get('/console/nothing.js')).status).toBe(404);
    expect((await c.get('/healthz')).status).toBe(200);
    expect((await c.get('/metrics')).status).toBe(200);
  });

  it('answers overview, accounts and one account (frames decoded) without any configured secret', async () => {
    const c = await startConsole();
    await send(c.bridge.bridge.port('tcp'), frame('1234', '0001', '#1234|NBA1', KEY), frame('5555', '0002', '#5555|NFA7'));
    const overview = JSON.parse((await c.get('/api/overview')).text);
    expect(overview.replies.ACK).toBe(2);
    expect(overview.minutes).toHaveLength(60);
    expect(overview.minutes.at(-1)).toMatchObject({ frames: 2, events: 2 });
    expect(overview.outbox).toMatchObject({ depth: expect.any(Number), deadLetters: 1 });
    expect(overview.listeners[0]).toEqual({ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: c.bridge.bridge.port('tcp') });
    const accounts = JSON.parse((await c.get('/api/accounts')).text);
    expect(accounts.map((a: any) => [a.account, a.encrypted, a.eventsToday])).toEqual([
      ['1234', true, 1],
      ['5555', false, 1],
    ]);
    expect(accounts[0].lastSeen).toMatch(/^\d{4}-/);
    const one = JSON.parse((await c.get('/api/accounts/1234')).text);
    expect(one.events[0]).toMatchObject({ code: 'BA', forwarded: true });
    expect(one.frames[0].decoded).toMatchObject({ ok: true, encrypted: true, data: '#1234|NBA1' });
    expect((await c.get('/api/accounts/9999')).status).toBe(404);
    expect((await c.get('/api/accounts/%E0%A4%A')).status).toBe(400);
    const letters = JSON.parse((await c.get('/api/dead-letters')).text);
    expect(letters.letters[0]).toMatchObject({
      account: '5555',
      reason: 'unmapped-camera',
      configKey: 'accounts["5555"].zones["7"].cameraId',
    });
    for (const path of ['/', '/api/overview', '/api/accounts', '/api/accounts/1234', '/api/dead-letters']) {
      const text = (await c.get(path)).text;
      for (const secret of [KEY, KEY.toUpperCase(), 'cam-password-xyz']) expect(text).not.toContain(secret);
    }
  });

  it('streams mapped events and rejections as Server-Sent Events', async () => {
    const c = await startConsole();
    const res = await request(`${c.base}/api/events`);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    let received = '';
    res.body.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    const port = c.bridge.bridge.port('tcp');
    await send(port, frame('1234', '0003', '#1234|NBA2', KEY));
    // Clear text for an account with a key: NAKed, and shown as a rejection.
    await send(port, frame('1234', '0004', '#1234|NBA3'));
    await until(() => received.includes('event: rejection'), 5000);
    expect(received).toMatch(/event: event\ndata: \{"kind":"event".*"account":"1234".*"code":"BA"/);
    expect(received).toMatch(/event: rejection\ndata: \{"kind":"rejection".*"reply":"NAK"/);
    res.body.destroy();
  });

  it('refuses a Host header that is a DNS name without http.auth (DNS rebinding)', async () => {
    const c = await startConsole();
    expect((await c.get('/api/accounts', { host: `attacker.example:${c.port}` })).status).toBe(421);
    expect((await c.get('/api/accounts', { host: `localhost:${c.port}` })).status).toBe(200);
  });

  it('acts on dead letters only with the page CSRF token, from the same origin, naming ids', async () => {
    const c = await startConsole();
    await send(c.bridge.bridge.port('tcp'), frame('5555', '0005', '#5555|NFA7'));
    const csrf = /name="csrf-token" content="([^"]+)"/.exec((await c.get('/')).text)![1]!;
    const id = JSON.parse((await c.get('/api/dead-letters')).text).letters[0].id;
    const origin = `http://127.0.0.1:${c.port}`;
    expect((await c.post('/api/dead-letters/discard', { ids: [id] }, {})).status).toBe(403);
    expect((await c.post('/api/dead-letters/discard', { ids: [id] }, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect(
      (await c.post('/api/dead-letters/discard', { ids: [id] }, { 'x-csrf-token': csrf, origin: 'http://attacker.example' })).status,
    ).toBe(403);
    expect(
      (await c.post('/api/dead-letters/discard', { ids: [id] }, { 'x-csrf-token': csrf, origin: `http://127.0.0.1:${c.port + 1}` })).status,
    ).toBe(403);
    expect((await c.post('/api/dead-letters/discard', { ids: [id] }, { 'x-csrf-token': csrf, origin: 'null' })).status).toBe(403);
    expect((await c.post('/api/dead-letters/discard', {}, { 'x-csrf-token': csrf, origin })).status).toBe(400);
    const retry = await c.post('/api/dead-letters/retry', { ids: [id] }, { 'x-csrf-token': csrf, origin });
    expect(retry).toEqual({
      status: 200,
      json: { requeued: 0, ids: [], skipped: [{ id, reason: 'unmapped-camera', configKey: 'accounts["5555"].zones["7"].cameraId' }] },
    });
    const discard = await c.post('/api/dead-letters/discard', { ids: [id] }, { 'x-csrf-token': csrf, origin });
    expect(discard).toEqual({ status: 200, json: { discarded: 1, ids: [id] } });
    expect(JSON.parse((await c.get('/api/dead-letters')).text).letters).toEqual([]);
  });

  it('with http.auth, needs the credentials for the console and /metrics, not for /healthz and /readyz', async () => {
    const c = await startConsole({ auth: { tokenFile: 'console.token' } }, { 'console.token': 'token-0123456789abcdef\n' });
    const base = c.base;
    const code = async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${base}${path}`, { headers });
      await res.body.dump();
      return res.statusCode;
    };
    for (const path of ['/', '/api/overview', '/metrics']) {
      expect(await code(path), path).toBe(401);
      expect(await code(path, { authorization: 'Bearer token-0123456789abcdef' }), path).toBe(200);
      expect(await code(path, { authorization: `Basic ${Buffer.from('anyone:token-0123456789abcdef').toString('base64')}` }), path).toBe(
        200,
      );
      expect(await code(path, { authorization: 'Bearer token-0123456789abcdeX' }), path).toBe(401);
    }
    expect(await code('/healthz')).toBe(200);
    expect(await code('/readyz')).toBe(200);
    // With credentials the Host header may be a DNS name (an operator's bookmark).
    expect(await code('/api/overview', { authorization: 'Bearer token-0123456789abcdef', host: 'bridge.example' })).toBe(200);
  });
});

describe('operator console in cluster mode', () => {
  it('shows this instance, its role, the connection, the stream backlog, the cluster readiness checks, and the dead-letter stream with retry and discard', async () => {
    const nats = await startNatsCluster(1);
    try {
      test = await startTestBridge({
        accounts: { '1234': { locationId: 'LOC-1', cameraId: 'CAM-1' } },
        sink: UNDELIVERABLE_SINK,
        http: { host: '127.0.0.1', port: 0 },
        cluster: { nats: { servers: nats.urls, user: 'bridge', password: 'nats-secret-in-console' }, replicas: 1, instance: 'bridge-c' },
      });
      status = await startStatus(test.config, test.bridge, createLogger({ level: 'silent' }));
      await send(test.bridge.port('tcp'), frame('1234', '0001', '#1234|NBA1'));
      const get = async () => (await request(`http://127.0.0.1:${status!.port}/api/overview`)).body.text();
      await until(async () => JSON.parse(await get()).cluster.pending === 1, 5000);
      const text = await get();
      const overview = JSON.parse(text);
      expect(overview.cluster).toMatchObject({
        instance: 'bridge-c',
        role: expect.stringMatching(/^(standby|delivering)$/),
        connected: true,
        pending: 1,
      });
      expect(overview.outbox).toBeNull();
      expect(Object.keys(overview.checks)).toEqual(expect.arrayContaining(['nats', 'stream', 'role', 'pending']));
      expect(text).not.toContain('nats-secret-in-console');

      // Dead letters live in the cluster's dead-letter stream (docs/cluster.md §6): listed and acted on from the page.
      await send(test.bridge.port('tcp'), frame('1234', '0002', '#1234|NXY2'));
      const base = `http://127.0.0.1:${status!.port}`;
      const letters = async () => JSON.parse(await (await request(`${base}/api/dead-letters`)).body.text());
      await until(async () => (await letters()).letters.length === 1, 5000);
      const listed = await letters();
      expect(listed.outbox).toBe(true);
      expect(listed.letters[0]).toMatchObject({ account: '1234', reason: 'unknown-code' });
      const csrf = /name="csrf-token" content="([^"]+)"/.exec(await (await request(`${base}/`)).body.text())![1]!;
      const post = async (path: string) => {
        const res = await request(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, origin: base },
          body: JSON.stringify({ ids: [listed.letters[0].id] }),
        });
        return { status: res.statusCode, json: (await res.body.json()) as any };
      };
      expect(await post('/api/dead-letters/retry')).toMatchObject({
        status: 200,
        json: { requeued: 0, skipped: [{ reason: 'unknown-code' }] },
      });
      expect(await post('/api/dead-letters/discard')).toEqual({ status: 200, json: { discarded: 1, ids: [listed.letters[0].id] } });
      expect((await letters()).letters).toEqual([]);
    } finally {
      await status?.close();
      await test?.stop();
      status = null;
      test = null;
      await nats.stop();
    }
  }, 30_000);
});
