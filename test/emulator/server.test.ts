import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { SignJWT, importPKCS8 } from 'jose';
import { request } from 'undici';
import yargs from 'yargs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { emulateApiCommand, runEmulateApi, type EmulateApiArgs } from '../../src/cli/emulate-api.js';

// ---- helpers ----------------------------------------------------------------------------------------------------

interface AssertionOverrides {
  alg?: 'RS256' | 'RS384' | 'PS256' | 'HS256';
  iss?: string;
  sub?: string;
  aud?: string;
  /** Seconds from now. */
  expIn?: number | null;
  /** Seconds from now. */
  iatIn?: number | null;
  jti?: string | null;
  privateKeyPem?: string;
}

async function makeAssertion(emu: Emulator, o: AssertionOverrides = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (o.jti !== null) claims.jti = o.jti ?? randomUUID();
  if (o.iatIn !== null) claims.iat = now + (o.iatIn ?? 0);
  if (o.expIn !== null) claims.exp = now + (o.expIn ?? 60);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', kid: 'test-kid' })
    .setIssuer(o.iss ?? emu.clientId)
    .setSubject(o.sub ?? emu.clientId)
    .setAudience(o.aud ?? emu.assertionAudience);
  if (alg === 'HS256') return jwt.sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!'));
  const pem = o.privateKeyPem ?? emu.privateKeyPem;
  if (pem === null) throw new Error('no private key');
  return jwt.sign(await importPKCS8(pem, alg));
}

function tokenForm(emu: Emulator, assertion: string, extra: Record<string, string | null> = {}): string {
  const fields: Record<string, string | null> = {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    audience: emu.audience,
    ...extra,
  };
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== null) form.set(k, v);
  return form.toString();
}

async function tokenRequest(emu: Emulator, body: string, contentType = 'application/x-www-form-urlencoded') {
  const res = await fetch(`${emu.url}/oauth/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function getToken(emu: Emulator): Promise<string> {
  const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu)));
  expect(res.status).toBe(200);
  return res.json.access_token as string;
}

function eventBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0',
    location_id: 'LOC1',
    recorder_id: 'REC1',
    camera_id: 'CAM1',
    event_id: randomUUID(),
    event_type: 'alarm',
    event_status: 'active',
    event_time: '2026-01-15T10:00:00.000Z',
    sent_at: new Date().toISOString(),
    should_signal_to_monitoring_center: true,
    upload_snapshot_count: 0,
    upload_short_mp4: false,
    upload_event_mp4: false,
    payload: { code: 'BA', zone: '15' },
    ...overrides,
  };
}

async function postEvent(
  emu: Emulator,
  body: unknown,
  headers: Record<string, string>,
  raw?: string,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${emu.url}/partner/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function quickEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ quiet: true, ...options });
}

// ---- shared emulator --------------------------------------------------------------------------------------------

let emu: Emulator;
let token: string;

beforeAll(async () => {
  emu = await quickEmulator();
  token = await getToken(emu);
});

afterAll(async () => {
  await emu.close();
});

afterEach(() => {
  emu.reset();
});

describe('startEmulator', () => {
  it('listens on an ephemeral loopback port with the default identities', () => {
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.clientId).toBe('alarm-bridge-test');
    expect(emu.audience).toBe('https://partner-api.local/');
    expect(emu.assertionAudience).toBe(`${emu.url}/`);
    expect(emu.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('uses a given public key (and then has no private key) and given identities', async () => {
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const own = await quickEmulator({
      publicKeyPem: pair.publicKey,
      clientId: 'partner-7',
      audience: 'https://events.example/',
      assertionAudience: 'https://auth.example/',
    });
    try {
      expect(own.privateKeyPem).toBeNull();
      expect(own.assertionAudience).toBe('https://auth.example/');
      const ok = await tokenRequest(own, tokenForm(own, await makeAssertion(own, { privateKeyPem: pair.privateKey })));
      expect(ok.status).toBe(200);
      const otherKey = await tokenRequest(own, tokenForm(own, await makeAssertion(own, { privateKeyPem: emu.privateKeyPem! })));
      expect(otherKey.status).toBe(401);
    } finally {
      await own.close();
    }
  });

  it('rejects bad options', async () => {
    await expect(startEmulator({ quiet: true, failureRate: 2 })).rejects.toThrow(/failureRate/);
    await expect(startEmulator({ quiet: true, port: -1 })).rejects.toThrow(/port/);
    await expect(startEmulator({ quiet: true, publicKeyPem: 'not a key' })).rejects.toThrow();
  });
});

describe('POST /oauth/token', () => {
  it('issues an opaque Bearer token for a good assertion (RS256, RS384, PS256)', async () => {
    for (const alg of ['RS256', 'RS384', 'PS256'] as const) {
      const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, { alg })));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
      expect(String(res.json.access_token).length).toBeGreaterThanOrEqual(32);
    }
    expect(emu.tokenRequests()).toBe(3);
  });

  it('accepts a matching client_id form field and an assertion lifetime of exactly 300 s', async () => {
    const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, { expIn: 300 }), { client_id: emu.clientId }));
    expect(res.status).toBe(200);
  });

  const bad: Array<[string, AssertionOverrides, RegExp]> = [
    ['wrong aud', { aud: 'https://elsewhere/' }, /aud/],
    ['wrong iss', { iss: 'someone-else' }, /iss/],
    ['wrong sub', { sub: 'someone-else' }, /sub/],
    ['expired', { expIn: -10, iatIn: -70 }, /expired/],
    ['exp too far ahead', { expIn: 600, iatIn: null }, /300/],
    ['exp - iat over 300 s', { expIn: 200, iatIn: -200 }, /300/],
    ['missing exp', { expIn: null }, /exp/],
    ['missing jti', { jti: null }, /jti/],
    ['HS256', { alg: 'HS256' }, /alg/],
  ];

  it.each(bad)('%s → 401 invalid_client', async (_name, overrides, description) => {
    const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, overrides)));
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('invalid_client');
    expect(res.json.error_description).toMatch(description);
  });

  it('bad signature → 401', async () => {
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, { privateKeyPem: other.privateKey })));
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_client', error_description: 'assertion signature verification failed' });

    const good = await makeAssertion(emu);
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect((await tokenRequest(emu, tokenForm(emu, tampered))).status).toBe(401);
    expect((await tokenRequest(emu, tokenForm(emu, 'not.a.jwt'))).status).toBe(401);
  });

  it('a jti can be used once', async () => {
    const jti = randomUUID();
    expect((await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, { jti })))).status).toBe(200);
    const again = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu, { jti })));
    expect(again.status).toBe(401);
    expect(again.json.error_description).toMatch(/already been used/);
  });

  it('checks the form fields', async () => {
    const assertion = await makeAssertion(emu);
    const cases: Array<[Record<string, string | null>, number, string]> = [
      [{ grant_type: null }, 400, 'invalid_request'],
      [{ grant_type: 'password' }, 400, 'unsupported_grant_type'],
      [{ client_assertion_type: null }, 400, 'invalid_request'],
      [{ client_assertion_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' }, 400, 'invalid_request'],
      [{ client_assertion: null }, 400, 'invalid_request'],
      [{ audience: null }, 400, 'invalid_request'],
      [{ audience: 'https://other-api/' }, 400, 'invalid_request'],
      [{ client_id: 'not-me' }, 401, 'invalid_client'],
    ];
    for (const [extra, status, error] of cases) {
      const res = await tokenRequest(emu, tokenForm(emu, assertion, extra));
      expect({ extra, status: res.status, error: res.json.error }).toEqual({ extra, status, error });
      expect(typeof res.json.error_description).toBe('string');
    }
    const json = await tokenRequest(emu, JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
    expect(json.status).toBe(400);
    expect(emu.tokenRequests()).toBe(cases.length + 1);
  });

  it('honours the token lifetime fault', async () => {
    emu.setFaults({ tokenLifetimeSeconds: 0 });
    const res = await tokenRequest(emu, tokenForm(emu, await makeAssertion(emu)));
    expect(res.json.expires_in).toBe(0);
    const post = await postEvent(emu, eventBody(), bearer(res.json.access_token as string));
    expect(post.status).toBe(401);
  });
});

describe('POST /partner/v1/events', () => {
  it('accepts a valid body with 201', async () => {
    const body = eventBody();
    const res = await postEvent(emu, body, bearer(token));
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      event_id: body.event_id,
      response_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      uploads: {},
      status: 'accepted',
      reason: null,
    });
    const [received] = emu.events();
    expect(received).toMatchObject({ body, status: 'accepted', reason: null, responseId: res.json.response_id });
    expect(received?.headers.authorization).toBe(`Bearer ${token}`);
  });

  const invalid: Array<[string, unknown]> = [
    ['version', '2.0'],
    ['location_id', ''],
    ['recorder_id', ''],
    ['camera_id', 7],
    ['event_id', ''],
    ['event_type', ''],
    ['event_status', 'on'],
    ['event_time', '2026-01-15 10:00:00'],
    ['sent_at', 'yesterday'],
    ['should_signal_to_monitoring_center', 'yes'],
    ['upload_snapshot_count', -2],
    ['upload_short_mp4', 0],
    ['upload_event_mp4', 'no'],
    ['payload', []],
  ];

  it.each(invalid)('invalid %s → 400 naming it', async (field, value) => {
    const res = await postEvent(emu, eventBody({ [field]: value }), bearer(token));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_request');
    expect(res.json.message).toMatch(new RegExp(`^${field}: `));
  });

  it('missing field, unknown field, bad JSON, wrong content type → 400', async () => {
    const missing = eventBody();
    delete missing.camera_id;
    expect((await postEvent(emu, missing, bearer(token))).json.message).toBe('camera_id: is required');

    const unknown = await postEvent(emu, eventBody({ priority: 'high' }), bearer(token));
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({ error: 'invalid_request', message: 'priority: is not a known field' });

    const badJson = await postEvent(emu, undefined, bearer(token), '{"version": "1.0",');
    expect(badJson.status).toBe(400);
    expect(badJson.json.message).toMatch(/JSON/);

    const array = await postEvent(emu, [eventBody()], bearer(token));
    expect(array.json.message).toBe('$: must be a JSON object');

    const form = await postEvent(emu, eventBody(), { ...bearer(token), 'content-type': 'text/plain' });
    expect(form.status).toBe(400);
    expect(emu.events()).toEqual([]);
  });

  it('requires a known, unexpired bearer token', async () => {
    const none = await postEvent(emu, eventBody(), {});
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    const bogus = await postEvent(emu, eventBody(), bearer('made-up-token'));
    expect(bogus.status).toBe(401);
    expect(bogus.json.error).toBe('invalid_token');
    expect(bogus.headers.get('www-authenticate')).toMatch(/invalid_token/);
    const apiKeyIgnored = await postEvent(emu, eventBody(), { 'x-api-key': 'anything' });
    expect(apiKeyIgnored.status).toBe(401);
    expect(emu.events()).toEqual([]);
  });

  it('expireTokens → 401 until a new token is fetched', async () => {
    const own = await getToken(emu);
    expect((await postEvent(emu, eventBody(), bearer(own))).status).toBe(201);
    emu.expireTokens();
    expect((await postEvent(emu, eventBody(), bearer(own))).status).toBe(401);
    const fresh = await getToken(emu);
    expect((await postEvent(emu, eventBody(), bearer(fresh))).status).toBe(201);
    token = fresh;
  });

  it('events() returns the bodies in arrival order', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `evt-${i}`);
    for (const id of ids) expect((await postEvent(emu, eventBody({ event_id: id }), bearer(token))).status).toBe(201);
    expect(emu.events().map((e) => (e.body as { event_id: string }).event_id)).toEqual(ids);
  });
});

describe('API-key mode', () => {
  let keyed: Emulator;
  beforeAll(async () => {
    keyed = await quickEmulator({ apiKey: 'k-123' });
  });
  afterAll(async () => {
    await keyed.close();
  });

  it('accepts the configured X-API-KEY, refuses others, and still accepts bearer tokens', async () => {
    expect((await postEvent(keyed, eventBody(), { 'x-api-key': 'k-123' })).status).toBe(201);
    expect((await postEvent(keyed, eventBody(), { 'x-api-key': 'k-124' })).status).toBe(401);
    expect((await postEvent(keyed, eventBody(), {})).status).toBe(401);
    expect((await postEvent(keyed, eventBody(), bearer(await getToken(keyed)))).status).toBe(201);
    expect(keyed.events()[0]?.headers['x-api-key']).toBe('k-123');
  });
});

describe('fault injection', () => {
  it('statusScript [503, 503] then 201', async () => {
    emu.setFaults({ statusScript: [503, 503] });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await postEvent(emu, eventBody(), bearer(token))).status);
    expect(statuses).toEqual([503, 503, 201]);
    expect(emu.events()).toHaveLength(1);
    expect(emu.faults().statusScript).toEqual([]);
  });

  it('a scripted 429 carries Retry-After: 1 and a JSON error', async () => {
    emu.setFaults({ statusScript: [429] });
    const res = await postEvent(emu, eventBody(), bearer(token));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.json).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(201);
  });

  it('failureRate 1 answers 503, latency delays the answer', async () => {
    emu.setFaults({ failureRate: 1 });
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(503);
    emu.setFaults({ failureRate: 0, latencyMs: 150 });
    const started = Date.now();
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('setFaults refuses nonsense', () => {
    expect(() => emu.setFaults({ failureRate: -0.1 })).toThrow(/failureRate/);
    expect(() => emu.setFaults({ statusScript: [99] })).toThrow(/statusScript/);
    expect(() => emu.setFaults({ latencyMs: Number.NaN })).toThrow(/latencyMs/);
  });

  it('reset() restores the start faults and forgets what was received', async () => {
    emu.setFaults({ failureRate: 1, statusScript: [500] });
    await postEvent(emu, eventBody(), bearer(token));
    emu.reset();
    expect(emu.faults()).toEqual({ latencyMs: 0, failureRate: 0, statusScript: [], tokenLifetimeSeconds: 3600 });
    expect(emu.tokenRequests()).toBe(0);
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(201);
  });
});

describe('disarmed locations', () => {
  let armedCheck: Emulator;
  beforeAll(async () => {
    armedCheck = await quickEmulator({ disarmedLocations: ['LOC-OFF'] });
  });
  afterAll(async () => {
    await armedCheck.close();
  });

  it('discards alarm events of a disarmed location, without uploads', async () => {
    const t = await getToken(armedCheck);
    const body = eventBody({ location_id: 'LOC-OFF', upload_snapshot_count: 3, upload_event_mp4: true });
    const res = await postEvent(armedCheck, body, bearer(t));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'discarded', reason: 'device is disarmed', uploads: {} });
    expect(armedCheck.events()[0]).toMatchObject({ status: 'discarded', reason: 'device is disarmed' });

    const other = await postEvent(armedCheck, eventBody({ location_id: 'LOC-ON', upload_snapshot_count: 1 }), bearer(t));
    expect(other.json.status).toBe('accepted');
    const arming = eventBody({ location_id: 'LOC-OFF', event_type: 'arming', recorder_id: undefined });
    expect((await postEvent(armedCheck, arming, bearer(t))).json.status).toBe('accepted');
  });
});

describe('uploads', () => {
  interface Pair {
    upload_put_url: string;
    callback_put_url: string;
  }

  async function mediaEvent(): Promise<{ snapshots: Array<Pair & { seq: number }>; short_mp4: Pair; event_mp4: Pair }> {
    const res = await postEvent(
      emu,
      eventBody({ upload_snapshot_count: 2, upload_short_mp4: true, upload_event_mp4: true }),
      bearer(token),
    );
    expect(res.status).toBe(201);
    return res.json.uploads as never;
  }

  it('returns signed URLs pointing back at the emulator', async () => {
    const uploads = await mediaEvent();
    expect(uploads.snapshots.map((s) => s.seq)).toEqual([1, 2]);
    const urls = [...uploads.snapshots, uploads.short_mp4, uploads.event_mp4].flatMap((p) => [p.upload_put_url, p.callback_put_url]);
    expect(new Set(urls).size).toBe(8);
    for (const url of urls) {
      expect(url.startsWith(`${emu.url}/_`)).toBe(true);
      expect(new URL(url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(uploads.snapshots[0]?.upload_put_url).toContain('/_uploads/');
    expect(uploads.snapshots[0]?.callback_put_url).toContain('/_callbacks/');
  });

  it('records PUTs with Content-Length, and callbacks', async () => {
    const uploads = await mediaEvent();
    const jpeg = Buffer.alloc(2048, 0xff);
    const put = await request(uploads.snapshots[0]!.upload_put_url, {
      method: 'PUT',
      body: jpeg,
      headers: { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) },
    });
    expect(put.statusCode).toBe(200);
    expect(put.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    await put.body.dump();
    const callback = await fetch(uploads.snapshots[0]!.callback_put_url, { method: 'PUT' });
    expect(callback.status).toBe(200);
    await callback.arrayBuffer();

    const recorded = emu.uploads();
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).toMatchObject({
      kind: 'upload',
      size: 2048,
      contentType: 'image/jpeg',
      contentLength: '2048',
      signatureValid: true,
    });
    expect(recorded[0]?.path).toMatch(/^\/_uploads\/[0-9a-f-]{36}\/snapshot-1\.jpg$/);
    expect(recorded[1]).toMatchObject({ kind: 'callback', size: 0, contentLength: '0', signatureValid: true });
  });

  it('refuses a chunked PUT without Content-Length with 411', async () => {
    const uploads = await mediaEvent();
    const res = await request(uploads.event_mp4.upload_put_url, {
      method: 'PUT',
      body: Readable.from([Buffer.from('part one'), Buffer.from('part two')]),
      headers: { 'content-type': 'video/mp4' },
    });
    expect(res.statusCode).toBe(411);
    expect(await res.body.text()).toContain('MissingContentLength');
    expect(emu.uploads()).toEqual([]);
  });

  it('flags a PUT whose signature was not handed out', async () => {
    const uploads = await mediaEvent();
    const url = new URL(uploads.short_mp4.upload_put_url);
    url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const res = await fetch(url, { method: 'PUT', body: 'mp4', headers: { 'content-type': 'video/mp4' } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(emu.uploads()[0]).toMatchObject({ kind: 'upload', size: 3, signatureValid: false });
  });
});

describe('admin endpoints and robustness', () => {
  it('GET /_emulator/events and /_emulator/uploads mirror events() and uploads(), without the credentials', async () => {
    await postEvent(emu, eventBody({ event_id: 'a-1' }), bearer(token));
    const events = (await (await fetch(`${emu.url}/_emulator/events`)).json()) as { headers: Record<string, string> }[];
    const expected = JSON.parse(JSON.stringify(emu.events()));
    expected[0].headers.authorization = '[Redacted]';
    expect(events).toEqual(expected);
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(token);
    const uploads = await fetch(`${emu.url}/_emulator/uploads`);
    expect(uploads.status).toBe(200);
    expect(await uploads.json()).toEqual([]);
  });

  it('POST /_emulator/faults, /expire-tokens and /reset', async () => {
    const set = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statusScript: [502] }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ statusScript: [502] });
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(502);

    const bad = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: '{"failureRate": 5}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/failureRate/);
    const garbage = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: '{{' });
    expect(garbage.status).toBe(400);
    await garbage.arrayBuffer();
    const unknownKey = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: '{"speed": 1}' });
    expect(unknownKey.status).toBe(400);
    await unknownKey.arrayBuffer();

    const own = await getToken(emu);
    const expire = await fetch(`${emu.url}/_emulator/expire-tokens`, { method: 'POST' });
    expect(expire.status).toBe(200);
    await expire.arrayBuffer();
    expect((await postEvent(emu, eventBody(), bearer(own))).status).toBe(401);
    token = await getToken(emu);

    await postEvent(emu, eventBody(), bearer(token));
    expect(emu.events()).toHaveLength(1);
    const reset = await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    await reset.arrayBuffer();
    expect(emu.events()).toEqual([]);
  });

  it('answers unknown paths 404 and wrong methods 405 with JSON', async () => {
    const notFound = await fetch(`${emu.url}/partner/v2/events`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: 'not_found' });
    const wrongMethod = await fetch(`${emu.url}/partner/v1/events`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await wrongMethod.arrayBuffer();
  });

  it('survives malformed HTTP and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(emu.port, '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    const huge = await postEvent(emu, undefined, bearer(token), `"${'x'.repeat(1024 * 1024 + 10)}"`);
    expect(huge.status).toBe(413);
    expect((await postEvent(emu, eventBody(), bearer(token))).status).toBe(201);
  });
});

describe('emulate-api command', () => {
  async function parse(args: string[]): Promise<EmulateApiArgs> {
    let captured: EmulateApiArgs | undefined;
    await yargs(args)
      .command({ ...emulateApiCommand, handler: (argv) => void (captured = argv) })
      .strict()
      .parseAsync();
    if (!captured) throw new Error('handler not called');
    return captured;
  }

  it('parses its options', async () => {
    const args = await parse([
      'emulate-api',
      '--port',
      '0',
      '--client-id',
      'c1',
      '--api-key',
      'k',
      '--failure-rate',
      '0.5',
      '--disarmed-location',
      'A',
      '--disarmed-location',
      'B',
      '--latency-ms',
      '20',
      '--token-lifetime',
      '60',
    ]);
    expect(args).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      clientId: 'c1',
      audience: 'https://partner-api.local/',
      apiKey: 'k',
      failureRate: 0.5,
      latencyMs: 20,
      tokenLifetime: 60,
      disarmedLocation: ['A', 'B'],
      writePrivateKey: './emulator-private.pem',
    });
  });

  it('announces itself, writes the generated key with mode 0600, and stops when told', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulate-api-'));
    try {
      const keyFile = join(dir, 'key.pem');
      const args = await parse(['emulate-api', '--port', '0', '--quiet', '--write-private-key', keyFile]);
      const lines: string[] = [];
      let tokenStatus = 0;
      await runEmulateApi(args, {
        write: (line) => lines.push(line),
        untilStopped: async (running) => {
          tokenStatus = (await tokenRequest(running, tokenForm(running, await makeAssertion(running)))).status;
        },
      });
      expect(lines).toHaveLength(1);
      const announced = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(announced).toMatchObject({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        clientId: 'alarm-bridge-test',
        audience: 'https://partner-api.local/',
        privateKeyFile: keyFile,
        apiKeyMode: false,
      });
      expect(announced.tokenUrl).toBe(`${String(announced.url)}/oauth/token`);
      expect(announced.assertionAudience).toBe(`${String(announced.url)}/`);
      expect(lines[0]).not.toContain('PRIVATE KEY');
      expect(tokenStatus).toBe(200);
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect(await readFile(keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      await expect(fetch(String(announced.url))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
