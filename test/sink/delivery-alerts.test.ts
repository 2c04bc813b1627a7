/**
 * An API outage is visible at the default log level (issue 18): failed deliveries at warn, rate-limited per account
 * and reason, with the next attempt's time; the recovery once at info with the count delivered. The outbox and the
 * in-memory queue log alike (both through the scheduler), against a real HTTP server answering 503.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { DurableLog } from '../../src/sink/durable-log.js';
import { openMemoryQueue } from '../../src/sink/memory-queue.js';
import { openOutbox } from '../../src/sink/outbox/index.js';
import type { Sink } from '../../src/sink/types.js';
import { until } from '../e2e/api-harness.js';
import { accountEvent, startFailingApi, type FailingApi } from './failing-api.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fast backoff, so a few seconds hold many attempts. */
const BACKOFF = { baseDelayMs: 20, maxDelayMs: 40 };

const logs: Record<string, (sink: Sink, logger: ReturnType<typeof createLogger>) => Promise<DurableLog>> = {
  'the in-memory queue': async (sink, logger) => openMemoryQueue(sink, { logger, maxAgeMs: 3_600_000, closeGraceMs: 100, ...BACKOFF }),
  'the outbox': async (sink, logger) => {
    const dir = await mkdtemp(join(tmpdir(), 'alerts-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return openOutbox(
      { dir: join(dir, 'outbox'), ackAfter: 'persisted', maxBytes: 1e9, deliveredTimeoutSeconds: 10, maxAgeHours: 72 },
      { logger, sink, ...BACKOFF },
    );
  },
};

describe('delivery alerts during an outage', () => {
  it.each(Object.keys(logs))(
    '%s: warns rate-limited with the next attempt, then logs the recovery once with the count',
    async (name) => {
      const failing = new Set(['1234', '5678']);
      const api: FailingApi = await startFailingApi(failing);
      cleanups.push(() => api.close());
      let text = '';
      const logger = createLogger({
        level: 'info',
        destination: new Writable({
          write(chunk, _e, cb) {
            text += chunk.toString();
            cb();
          },
        }),
      });
      const log = await logs[name]!(api.sink, logger);
      cleanups.push(() => log.close());
      const lines = () =>
        text
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);

      await log.append([accountEvent('1234', 1), accountEvent('1234', 2), accountEvent('5678', 1)]);
      await until(() => (api.refused.get('1234') ?? 0) >= 6 && (api.refused.get('5678') ?? 0) >= 6, 10_000);
      const warnings = lines().filter((l) => l.level === 40);
      // One line per account and reason in the window, not one per attempt.
      expect(warnings.map((w) => w.account).sort()).toEqual(['1234', '5678']);
      for (const warning of warnings) {
        expect(warning).toMatchObject({
          reason: 'HTTP 503',
          attempts: 1,
          msg: expect.stringMatching(/^delivery failed for account \d+ \(HTTP 503\): will retry$/),
        });
        // The backoff after a first failure is under 2 · baseDelayMs: the next attempt lies just after the line.
        const nextIn = Date.parse(warning.nextAttemptAt as string) - Date.parse(warning.time as string);
        expect(nextIn).toBeGreaterThanOrEqual(-5);
        expect(nextIn).toBeLessThanOrEqual(2 * BACKOFF.baseDelayMs);
      }
      expect(lines().some((l) => /recovered/.test(String(l.msg)))).toBe(false);

      failing.clear();
      await until(() => api.accepted.size === 3, 10_000);
      await until(() => lines().some((l) => /recovered/.test(String(l.msg))), 5_000);
      const recovered = lines().filter((l) => /recovered/.test(String(l.msg)));
      expect(recovered).toHaveLength(1);
      expect(recovered[0]).toMatchObject({
        level: 30,
        delivered: 3,
        msg: expect.stringMatching(/^deliveries recovered: 3 event\(s\) delivered after \d+ failed attempt\(s\)$/),
      });
      expect(recovered[0]!.failedAttempts).toBeGreaterThanOrEqual(12);
    },
    30_000,
  );
});
