/**
 * Restart with 100,000 pending events (issue #6: delivery resumes within 2 s). The hard figure belongs to the
 * bench; this test keeps a generous bound so a slow CI machine does not flake, and prints what it measured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../../../src/sink/outbox/index.js';
import { makeEvent, outboxConfig, RecordingSink, silentLogger, tempDir } from './helpers.js';

const PENDING = 100_000;
const ACCOUNTS = 500;

describe('Outbox restart', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('outbox-restart-'));
  });
  afterAll(async () => cleanup());

  it(`resumes delivery of ${PENDING} pending events quickly, per account in the original order`, { timeout: 120_000 }, async () => {
    const writer = await openOutbox(outboxConfig(dir), { logger: silentLogger, start: false });
    const filled = performance.now();
    const batches: Promise<void>[] = [];
    for (let start = 0; start < PENDING; start += 1000) {
      const events = Array.from({ length: 1000 }, (_, i) => makeEvent(`A${(start + i) % ACCOUNTS}`, start + i));
      batches.push(writer.append(events));
    }
    await Promise.all(batches);
    const fillMs = performance.now() - filled;
    const { bytes, depth } = writer.status();
    await writer.close();
    expect(depth).toBe(PENDING);

    const sink = new RecordingSink();
    const opening = performance.now();
    const outbox = await openOutbox(outboxConfig(dir), { logger: silentLogger, sink, closeGraceMs: 100 });
    const openMs = performance.now() - opening;
    await sink.waitForAccepted(1);
    const firstDeliveryMs = sink.firstAttemptAt! - opening;
    // Let some flow, then check order on what arrived.
    await sink.waitForAccepted(2_000);
    await outbox.close();
    console.log(
      `outbox restart: ${PENDING} pending events, ${(bytes / 1048576).toFixed(1)} MiB journal (written in ${fillMs.toFixed(0)} ms); ` +
        `open ${openMs.toFixed(0)} ms, first delivery ${firstDeliveryMs.toFixed(0)} ms after open()`,
    );
    expect(outbox.status().depth).toBeGreaterThan(PENDING - 10_000);
    const byAccount = new Map<string, number[]>();
    for (const event of sink.accepted) {
      const list = byAccount.get(event.account) ?? [];
      list.push(Number(event.body.event_id.split('-').at(-1)));
      byAccount.set(event.account, list);
    }
    for (const [account, seen] of byAccount) {
      const index = Number(account.slice(1));
      // The account's events in original order from its first one: index, index + ACCOUNTS, …
      expect(seen).toEqual(seen.map((_, k) => index + k * ACCOUNTS));
    }
    // Target 2 s (issue #6); a generous bound here, the figure is printed above.
    expect(firstDeliveryMs).toBeLessThan(10_000);
  });
});
