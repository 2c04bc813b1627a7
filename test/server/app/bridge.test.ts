/** Bridge wiring: what the bridge learns about deliveries (for `/readyz`). */
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { startTestBridge, TcpPanel, type TestBridge } from '../harness.js';

let running: TestBridge[] = [];
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

describe('delivery health', () => {
  it('records the outcome of the last delivery, through the outbox as without it', async () => {
    for (const overrides of [{}, { outbox: { dir: 'outbox' } }]) {
      const b = await startTestBridge({ accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } }, ...overrides });
      running.push(b);
      expect(b.bridge.health.lastDelivery).toBeNull();
      const before = Date.now();
      const panel = await TcpPanel.open(b.bridge.port('tcp'));
      panel.write(
        buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date() }),
      );
      await panel.waitForReplies(1);
      for (let i = 0; i < 200 && !b.bridge.health.lastDelivery; i++) await new Promise((r) => setTimeout(r, 10));
      const last = b.bridge.health.lastDelivery;
      expect(last?.outcome).toEqual({ kind: 'accepted' });
      expect(last!.atMs).toBeGreaterThanOrEqual(before);
      const counted = (await b.bridge.metrics.deliveries.get()).values.find((v) => v.labels.outcome === 'accepted');
      expect(counted?.value).toBe(1);
      panel.end();
    }
  });
});
