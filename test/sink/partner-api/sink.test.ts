import { afterEach, describe, expect, it } from 'vitest';
import { deliverWithRetry, MAX_RETRY_AFTER_MS, type DeliverWithRetryOptions } from '../../../src/sink/retry.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../../../src/sink/types.js';
import {
  JPEG,
  makeEvent,
  startHarness,
  startSnapshotServer,
  TEST_API_KEY,
  type Harness,
  type HarnessOptions,
  type SnapshotServer,
} from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(opts?: HarnessOptions): Promise<Harness> {
  const h = await startHarness(opts);
  cleanups.push(() => h.close());
  return h;
}

async function snapshots(auth?: { username: string; password: string }): Promise<SnapshotServer> {
  const s = await startSnapshotServer(auth);
  cleanups.push(() => s.close());
  return s;
}

/** Wraps a sink to record what each attempt was given. */
function recording(sink: Sink): Sink & { attempts: string[]; outcomes: DeliveryOutcome[] } {
  const attempts: string[] = [];
  const outcomes: DeliveryOutcome[] = [];
  return {
    name: sink.name,
    attempts,
    outcomes,
    async deliver(event: OutgoingEvent) {
      attempts.push(event.body.event_id);
      const outcome = await sink.deliver(event);
      outcomes.push(outcome);
      return outcome;
    },
    close: () => sink.close(),
  };
}

describe('partner-api sink: delivery', () => {
  it('posts the body with Bearer token, JSON content type, Idempotency-Key and a fresh sent_at', async () => {
    const sentAt = new Date('2026-01-15T10:00:01.250Z');
    const h = await harness({ deps: { now: () => sentAt } });
    const event = makeEvent(1);
    const outcome = await h.sink.deliver(event);
    expect(outcome.kind).toBe('accepted');
    const [received] = h.emu.events();
    expect(outcome).toEqual({ kind: 'accepted', responseId: received!.responseId });
    expect(received!.body).toEqual({ ...event.body, sent_at: '2026-01-15T10:00:01.250Z' });
    expect(received!.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['idempotency-key']).toBe('evt-1');
    expect(received!.headers['x-api-key']).toBeUndefined();
    expect(h.emu.tokenRequests()).toBe(1);
    expect(event.body.sent_at).toBe('2026-01-15T10:00:00.000Z'); // the caller's object is untouched
  });

  it('delivers 1,000 concurrent events with exactly one token request', async () => {
    const h = await harness();
    const outcomes = await Promise.all(Array.from({ length: 1000 }, (_, i) => h.sink.deliver(makeEvent(i))));
    expect(outcomes.filter((o) => o.kind === 'accepted')).toHaveLength(1000);
    expect(h.emu.events()).toHaveLength(1000);
    expect(new Set(h.emu.events().map((e) => (e.body as { event_id: string }).event_id)).size).toBe(1000);
    expect(h.emu.tokenRequests()).toBe(1);
  });

  it('refreshes the token before it expires', async () => {
    const h = await harness({ emulator: { tokenLifetimeSeconds: 2 } });
    expect((await h.sink.deliver(makeEvent(1))).kind).toBe('accepted');
    expect((await h.sink.deliver(makeEvent(2))).kind).toBe('accepted');
    expect(h.emu.tokenRequests()).toBe(1);
    await new Promise((r) => setTimeout(r, 1100)); // past the refresh point (half of a 2 s lifetime)
    expect((await h.sink.deliver(makeEvent(3))).kind).toBe('accepted');
    expect(h.emu.tokenRequests()).toBe(2);
    expect(h.log.text()).not.toContain('answered 401');
    const tokens = h.emu.events().map((e) => e.headers.authorization);
    expect(tokens[0]).toBe(tokens[1]);
    expect(tokens[2]).not.toBe(tokens[1]);
  });

  it('on 401 refreshes the token and retries once inside deliver', async () => {
    const h = await harness();
    expect((await h.sink.deliver(makeEvent(1))).kind).toBe('accepted');
    h.emu.expireTokens();
    expect((await h.sink.deliver(makeEvent(2))).kind).toBe('accepted');
    expect(h.emu.tokenRequests()).toBe(2);
    expect(h.emu.events()).toHaveLength(2);
    expect(h.log.text()).toContain('refreshing the access token once');
  });

  it('a second 401 in a row is a retry outcome, not a loop', async () => {
    const h = await harness({ emulator: { statusScript: [401, 401] } });
    const outcome = await h.sink.deliver(makeEvent(1));
    expect(outcome).toMatchObject({ kind: 'retry', reason: expect.stringContaining('401') });
    expect(h.emu.tokenRequests()).toBe(2);
    expect(h.emu.events()).toHaveLength(0);
  });

  it('503 is a retry outcome; 503, 503 then 201 succeeds through deliverWithRetry with the same event_id', async () => {
    const h = await harness({ emulator: { statusScript: [503] } });
    expect(await h.sink.deliver(makeEvent(1))).toEqual({ kind: 'retry', reason: 'HTTP 503' });

    h.emu.setFaults({ statusScript: [503, 503] });
    const spy = recording(h.sink);
    const waits: number[] = [];
    const outcome = await deliverWithRetry(spy, makeEvent(2), {
      maxAgeMs: 10_000,
      baseDelayMs: 20,
      onRetry: (_o, _n, wait) => waits.push(wait),
    });
    expect(outcome.kind).toBe('accepted');
    expect(spy.attempts).toEqual(['evt-2', 'evt-2', 'evt-2']);
    expect(spy.outcomes.map((o) => o.kind)).toEqual(['retry', 'retry', 'accepted']);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThan(20);
    expect(waits[1]).toBeLessThan(40);
    const events = h.emu.events();
    expect(events).toHaveLength(1);
    expect(events[0]!.headers['idempotency-key']).toBe('evt-2');
  });

  it('429 with Retry-After is honoured', async () => {
    const h = await harness({ emulator: { statusScript: [429] } });
    expect(await h.sink.deliver(makeEvent(1))).toEqual({ kind: 'retry', afterMs: 1000, reason: 'HTTP 429' });

    h.emu.setFaults({ statusScript: [429] });
    const waits: number[] = [];
    const started = Date.now();
    const outcome = await deliverWithRetry(h.sink, makeEvent(2), {
      maxAgeMs: 10_000,
      baseDelayMs: 10,
      onRetry: (_o, _n, wait) => waits.push(wait),
    });
    expect(outcome.kind).toBe('accepted');
    expect(waits).toEqual([1000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('waits at most an hour whatever Retry-After says, instead of giving a fresh event up', async () => {
    const slowDown: Sink = {
      name: 'slow-down',
      deliver: async () => ({ kind: 'retry', afterMs: 100 * 24 * 3600 * 1000, reason: 'HTTP 429' }),
      close: async () => undefined,
    };
    const stop = new AbortController();
    const waits: number[] = [];
    const outcome = await deliverWithRetry(slowDown, makeEvent(1), {
      maxAgeMs: 72 * 3600 * 1000,
      signal: stop.signal,
      onRetry: (_o, _n, wait) => {
        waits.push(wait);
        stop.abort();
      },
    });
    expect(waits).toEqual([MAX_RETRY_AFTER_MS]);
    expect(outcome).toMatchObject({ kind: 'retry' });
  });

  it('gives up with "max age exceeded" once the next attempt would be too late', async () => {
    const h = await harness({ emulator: { failureRate: 1 } });
    const spy = recording(h.sink);
    const outcome = await deliverWithRetry(spy, makeEvent(1), { maxAgeMs: 300, baseDelayMs: 40, maxDelayMs: 80 });
    expect(outcome).toMatchObject({ kind: 'permanent', reason: 'max age exceeded' });
    expect(spy.attempts.length).toBeGreaterThan(1);
    expect(new Set(spy.attempts)).toEqual(new Set(['evt-1']));
    expect(spy.outcomes.slice(0, -1).every((o) => o.kind === 'retry')).toBe(true);
  });

  it('counts max age from firstAttemptAt and stops waiting when aborted', async () => {
    const h = await harness({ emulator: { failureRate: 1 } });
    const old = await deliverWithRetry(h.sink, makeEvent(1), {
      maxAgeMs: 60_000,
      firstAttemptAt: new Date(Date.now() - 61_000),
    });
    expect(old).toMatchObject({ kind: 'permanent', reason: 'max age exceeded' });

    const controller = new AbortController();
    const opts: DeliverWithRetryOptions = { maxAgeMs: 60_000, baseDelayMs: 5_000, random: () => 0.99, signal: controller.signal };
    const pending = deliverWithRetry(h.sink, makeEvent(2), opts);
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(await pending).toMatchObject({ kind: 'retry', reason: 'HTTP 503' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('400 is permanent and keeps the response; 403 and 404 too', async () => {
    const h = await harness();
    const outcome = await h.sink.deliver(makeEvent(1, { location_id: '' }));
    expect(outcome).toEqual({
      kind: 'permanent',
      status: 400,
      reason: 'HTTP 400: location_id: must not be empty',
      response: { error: 'invalid_request', message: 'location_id: must not be empty' },
    });
    h.emu.setFaults({ statusScript: [403, 404] });
    expect(await h.sink.deliver(makeEvent(2))).toMatchObject({ kind: 'permanent', status: 403 });
    expect(await h.sink.deliver(makeEvent(3))).toMatchObject({ kind: 'permanent', status: 404 });
  });

  it('a discarded event is final and its reason is logged at info', async () => {
    const h = await harness({ emulator: { disarmedLocations: ['LOC-OFF'] } });
    const outcome = await h.sink.deliver(makeEvent(1, { location_id: 'LOC-OFF', upload_snapshot_count: 2 }));
    expect(outcome).toEqual({ kind: 'discarded', reason: 'device is disarmed' });
    const line = h.log.records().find((r) => r.msg === 'event discarded by the API');
    expect(line).toMatchObject({ level: 30, event_id: 'evt-1', reason: 'device is disarmed' });
    await h.sink.mediaIdle();
    expect(h.emu.uploads()).toHaveLength(0);
  });

  it('API-key mode sends X-API-KEY and never asks for a token', async () => {
    const h = await harness({ mode: 'api-key' });
    expect((await h.sink.deliver(makeEvent(1))).kind).toBe('accepted');
    const [received] = h.emu.events();
    expect(received!.headers['x-api-key']).toBe(TEST_API_KEY);
    expect(received!.headers.authorization).toBeUndefined();
    expect(h.emu.tokenRequests()).toBe(0);
  });

  it('a rejected API key is a retry outcome without a token request', async () => {
    const h = await harness({ mode: 'api-key', auth: { apiKey: 'wrong-key' } });
    expect(await h.sink.deliver(makeEvent(1))).toEqual({ kind: 'retry', reason: 'API key rejected (401)' });
    expect(h.emu.tokenRequests()).toBe(0);
  });

  it('network errors and timeouts are retry outcomes', async () => {
    const h = await harness({ emulator: { latencyMs: 1500 }, config: { timeoutSeconds: 0.3 } });
    const slow = await h.sink.deliver(makeEvent(1));
    expect(slow).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/network error: UND_ERR_HEADERS_TIMEOUT/) });

    const down = await harness();
    await down.emu.close();
    const refused = await down.sink.deliver(makeEvent(2));
    expect(refused).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^token request failed: ECONNREFUSED/) });
  });

  it('refuses deliveries after close', async () => {
    const h = await harness();
    await h.sink.close();
    expect((await h.sink.deliver(makeEvent(1))).kind).toBe('retry');
  });
});

describe('partner-api sink: media uploads', () => {
  it('fetches the snapshot, PUTs it with Content-Length and image/jpeg, then hits the callback', async () => {
    const camera = await snapshots({ username: 'viewer', password: 'cam-pass-123' });
    const h = await harness();
    const event = makeEvent(
      1,
      { upload_snapshot_count: 2, upload_short_mp4: true },
      {
        media: { snapshotUrl: camera.url, username: 'viewer', password: 'cam-pass-123' },
      },
    );
    expect((await h.sink.deliver(event)).kind).toBe('accepted');
    await h.sink.mediaIdle();

    expect(camera.requests).toHaveLength(2);
    const uploads = h.emu.uploads().filter((u) => u.kind === 'upload');
    const callbacks = h.emu.uploads().filter((u) => u.kind === 'callback');
    expect(uploads.map((u) => u.path.split('/').pop()).sort()).toEqual(['snapshot-1.jpg', 'snapshot-2.jpg']);
    for (const u of uploads) {
      expect(u).toMatchObject({
        size: JPEG.length,
        contentLength: String(JPEG.length),
        contentType: 'image/jpeg',
        signatureValid: true,
      });
    }
    expect(callbacks.map((u) => u.path.split('/').pop()).sort()).toEqual(['snapshot-1.jpg', 'snapshot-2.jpg']);
    for (const c of callbacks) expect(c).toMatchObject({ size: 0, contentLength: '0', signatureValid: true });
    expect(h.emu.uploads().some((u) => u.path.endsWith('.mp4'))).toBe(false);
    expect(h.log.text()).toContain('no MP4 media source is configured');
    expect(h.log.records().find((r) => r.msg === 'snapshots uploaded')).toMatchObject({ uploaded: 2, requested: 2 });
  });

  it('takes basic-auth credentials from the snapshot URL when none are configured', async () => {
    const camera = await snapshots({ username: 'u', password: 'p@ss' });
    const h = await harness();
    const url = camera.url.replace('http://', 'http://u:p%40ss@');
    await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 1 }, { media: { snapshotUrl: url } }));
    await h.sink.mediaIdle();
    expect(h.emu.uploads().map((u) => u.kind)).toEqual(['upload', 'callback']);
  });

  it('retries a failing snapshot fetch and still uploads', async () => {
    const camera = await snapshots();
    camera.failures.push(503, 500);
    const h = await harness();
    await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 1 }, { media: { snapshotUrl: camera.url } }));
    await h.sink.mediaIdle();
    expect(camera.requests).toHaveLength(3);
    expect(h.emu.uploads().map((u) => u.kind)).toEqual(['upload', 'callback']);
  });

  it('an upload that keeps failing leaves the outcome accepted and is logged with redacted URLs', async () => {
    const camera = await snapshots();
    camera.failures.push(503, 503, 503, 503, 503);
    const h = await harness();
    const outcome = await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 1 }, { media: { snapshotUrl: camera.url } }));
    expect(outcome.kind).toBe('accepted');
    await h.sink.mediaIdle();
    expect(camera.requests).toHaveLength(4); // first try + 3 retries
    expect(h.emu.uploads()).toHaveLength(0);
    const giveUp = h.log.records().find((r) => r.msg === 'media snapshot failed; giving up');
    expect(giveUp).toMatchObject({ event_id: 'evt-1', step: 'snapshot', attempt: 4, url: camera.url.split('?')[0] });
    expect(h.log.text()).not.toContain('channel=1');
  });

  it('a camera rejecting the credentials is not retried', async () => {
    const camera = await snapshots({ username: 'a', password: 'b' });
    const h = await harness();
    await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 1 }, { media: { snapshotUrl: camera.url } }));
    await h.sink.mediaIdle();
    expect(camera.requests).toHaveLength(1);
    expect(h.log.text()).toContain('snapshot source answered 401');
  });

  it('without a snapshot source nothing is uploaded and a warning says why', async () => {
    const h = await harness();
    expect((await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 1 }))).kind).toBe('accepted');
    await h.sink.mediaIdle();
    expect(h.emu.uploads()).toHaveLength(0);
    expect(h.log.text()).toContain('the event has no snapshot source');
  });

  it('close() waits for uploads in flight', async () => {
    const camera = await snapshots();
    const h = await harness();
    await h.sink.deliver(makeEvent(1, { upload_snapshot_count: 3 }, { media: { snapshotUrl: camera.url } }));
    await h.sink.close();
    expect(h.emu.uploads()).toHaveLength(6);
  });
});
