/** `/readyz`: what the bridge reports about its listeners, outbox, deliveries and token exchanges. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryCheck, readiness } from '../../../src/server/app/readiness.js';
import { startTestBridge, type TestBridge } from '../harness.js';

let running: TestBridge[] = [];
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

async function bridge(overrides: Record<string, unknown> = {}): Promise<TestBridge> {
  const b = await startTestBridge({ accounts: {}, log: { level: 'silent' }, ...overrides });
  running.push(b);
  return b;
}

const AT = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('deliveryCheck', () => {
  it('passes after an accepted or discarded delivery, with the time', () => {
    expect(deliveryCheck({ outcome: { kind: 'accepted' }, atMs: AT })).toEqual({
      ok: true,
      detail: 'accepted at 2026-11-26T12:00:00.000Z',
    });
    expect(deliveryCheck({ outcome: { kind: 'discarded', reason: null }, atMs: AT })).toEqual({
      ok: true,
      detail: 'discarded at 2026-11-26T12:00:00.000Z',
    });
  });

  it('fails after a retry or a refusal, with the reason', () => {
    expect(deliveryCheck({ outcome: { kind: 'retry', reason: 'HTTP 503' }, atMs: AT })).toEqual({
      ok: false,
      detail: 'retry: HTTP 503 at 2026-11-26T12:00:00.000Z',
    });
    expect(deliveryCheck({ outcome: { kind: 'permanent', status: 400, reason: 'HTTP 400' }, atMs: AT }).ok).toBe(false);
  });
});

describe('readiness', () => {
  it('is ready with its listeners bound and nothing delivered yet', async () => {
    const b = await bridge();
    expect(await readiness(b.config, b.bridge)).toEqual({ ready: true, checks: { listeners: { ok: true, detail: '2 bound' } } });
  });

  it('checks the outbox: running and its directory writable', async () => {
    const b = await bridge({ outbox: { dir: 'outbox' } });
    expect(await readiness(b.config, b.bridge)).toMatchObject({ ready: true, checks: { outbox: { ok: true, detail: 'state running' } } });
    const gone = { ...b.config, outbox: { ...b.config.outbox!, dir: join(b.dir, 'no-such-dir') } };
    const report = await readiness(gone, b.bridge);
    expect(report.ready).toBe(false);
    expect(report.checks.outbox).toMatchObject({ ok: false, detail: expect.stringContaining('ENOENT') });
  });

  it('is not ready while the last delivery was a retry or the last token exchange failed', async () => {
    const b = await bridge();
    b.bridge.health.lastDelivery = { outcome: { kind: 'retry', reason: 'HTTP 503' }, atMs: AT };
    let report = await readiness(b.config, b.bridge);
    expect(report).toMatchObject({
      ready: false,
      checks: { delivery: { ok: false, detail: 'retry: HTTP 503 at 2026-11-26T12:00:00.000Z' } },
    });
    b.bridge.health.lastDelivery = { outcome: { kind: 'accepted' }, atMs: AT };
    b.bridge.health.lastToken = { ok: false, at: '2026-11-26T12:00:01.000Z' };
    report = await readiness(b.config, b.bridge);
    expect(report).toMatchObject({
      ready: false,
      checks: { delivery: { ok: true }, token: { ok: false, detail: 'failed at 2026-11-26T12:00:01.000Z' } },
    });
    b.bridge.health.lastToken = { ok: true, at: '2026-11-26T12:00:02.000Z' };
    expect((await readiness(b.config, b.bridge)).ready).toBe(true);
  });
});
