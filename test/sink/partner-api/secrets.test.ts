import { afterEach, describe, expect, it } from 'vitest';
import { captureLog, makeEvent, startHarness, startSnapshotServer, startTokenServer, TEST_API_KEY } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A token endpoint that refuses every assertion and (badly) echoes it back in error_description. */
async function echoingTokenServer(): Promise<{ url: string; assertions: string[] }> {
  const assertions: string[] = [];
  const server = await startTokenServer((form) => {
    const assertion = form.get('client_assertion') ?? '';
    assertions.push(assertion);
    return { status: 401, body: { error: 'invalid_client', error_description: `cannot accept ${assertion}` } };
  });
  cleanups.push(() => server.close());
  return { url: server.url, assertions };
}

describe('no secret reaches the log', () => {
  it('captures a whole run (token error, 401 refresh, uploads, discard, 400, API key) and finds no secret', async () => {
    const log = captureLog('trace');
    const cameraPassword = 'cam-Secret-Pw-991';
    const camera = await startSnapshotServer({ username: 'viewer', password: cameraPassword });
    cleanups.push(() => camera.close());

    // 1. A token endpoint that refuses the assertion.
    const badToken = await echoingTokenServer();
    const refused = await startHarness({ log, auth: { tokenUrl: badToken.url } });
    cleanups.push(() => refused.close());
    const refusedOutcome = await refused.sink.deliver(makeEvent(1));
    expect(refusedOutcome).toMatchObject({ kind: 'retry', reason: expect.stringContaining('invalid_client') });
    expect(JSON.stringify(refusedOutcome)).not.toContain(badToken.assertions[0]!);

    // 2. A good run: token, a 401 and refresh, uploads with basic auth, a discard, a 400, a 503.
    const good = await startHarness({ log, emulator: { disarmedLocations: ['LOC-OFF'] } });
    cleanups.push(() => good.close());
    const media = { snapshotUrl: camera.url, username: 'viewer', password: cameraPassword };
    expect((await good.sink.deliver(makeEvent(2, { upload_snapshot_count: 2, upload_event_mp4: true }, { media }))).kind).toBe('accepted');
    good.emu.expireTokens();
    expect((await good.sink.deliver(makeEvent(3, { upload_snapshot_count: 1 }, { media }))).kind).toBe('accepted');
    expect((await good.sink.deliver(makeEvent(4, { location_id: 'LOC-OFF' }))).kind).toBe('discarded');
    expect((await good.sink.deliver(makeEvent(5, { camera_id: '' }))).kind).toBe('permanent');
    good.emu.setFaults({ statusScript: [503] });
    expect((await good.sink.deliver(makeEvent(6))).kind).toBe('retry');
    await good.sink.mediaIdle();
    expect(good.emu.uploads().filter((u) => u.kind === 'upload')).toHaveLength(3);

    // 3. API-key mode.
    const keyed = await startHarness({ log, mode: 'api-key' });
    cleanups.push(() => keyed.close());
    expect((await keyed.sink.deliver(makeEvent(7))).kind).toBe('accepted');

    await Promise.all([refused.sink.close(), good.sink.close(), keyed.sink.close()]);

    const text = log.text();
    expect(text).toContain('token endpoint answered 401: invalid_client');
    expect(text).toContain('refreshing the access token once');
    expect(text).toContain('snapshots uploaded');
    expect(text).toContain('event discarded by the API');

    const secrets: string[] = [];
    // The private key: every line of its base64 body.
    const pemBody = good.emu.privateKeyPem!.split('\n').filter((l) => l && !l.startsWith('-----'));
    secrets.push(...pemBody);
    // The assertions sent.
    expect(badToken.assertions.length).toBeGreaterThan(0);
    secrets.push(...badToken.assertions);
    // Every access token the API saw.
    const accessTokens = good.emu.events().map((e) => String(e.headers.authorization).replace(/^Bearer /, ''));
    expect(new Set(accessTokens).size).toBe(2);
    secrets.push(...accessTokens);
    // The API key, the camera password and its basic-auth header.
    secrets.push(TEST_API_KEY, cameraPassword, Buffer.from(`viewer:${cameraPassword}`).toString('base64'));
    for (const secret of secrets) expect(text, `a secret leaked: ${secret.slice(0, 8)}…`).not.toContain(secret);

    // Signed URL query strings and anything shaped like a JWT.
    expect(text).not.toMatch(/X-Amz-/i);
    expect(text).not.toContain('?');
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });
});
