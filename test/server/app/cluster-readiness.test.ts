/**
 * Cluster mode readiness against three real nats-server nodes (docs/cluster.md §9; docs/cluster.md §11): with a
 * quorum `/readyz` answers 200; with two of three servers gone frames are NAKed and `/readyz` answers 503; once they
 * are back, frames are ACKed again without any help and every ACKed event is in the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { startStatus } from '../../../src/server/app/status.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { startSilentApi } from '../../cluster/undeliverable-sink.js';
import { until } from '../../e2e/api-harness.js';
import { startTestBridge, TcpPanel, text } from '../harness.js';

let nats: NatsCluster;
beforeAll(async () => {
  nats = await startNatsCluster(3);
}, 30_000);
afterAll(() => nats?.stop());

interface Readyz {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

describe('cluster readiness', () => {
  it('503 and NAKs while the stream has no quorum; ACKs and 200 again by themselves; nothing ACKed lost', async () => {
    // Deliveries stay in flight (no failed delivery for readiness to report), so the events stay pending.
    const api = await startSilentApi();
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      sink: api.sink,
      http: { host: '127.0.0.1', port: 0 },
      cluster: { nats: { servers: nats.urls }, replicas: 3, instance: 'bridge-q', stream: 'QUORUM', publishTimeoutSeconds: 2 },
    });
    const status = await startStatus(b.config, b.bridge, createLogger({ level: 'silent' }));
    try {
      const readyz = async () => {
        const response = await fetch(`http://127.0.0.1:${status!.port}/readyz`);
        return { code: response.status, body: (await response.json()) as Readyz };
      };
      let sent = 0;
      const acked = new Set<number>();
      // A panel sends the very same frame again (same timestamp, so the same event_id) until it is ACKed.
      const frames = new Map<number, Buffer>();
      const frameFor = (n: number) =>
        frames.get(n) ??
        frames
          .set(
            n,
            buildRequest({
              token: 'SIA-DCS',
              sequence: String(n).padStart(4, '0'),
              line: '0',
              account: '1234',
              data: `#1234|NBA${n}`,
              timestamp: new Date(),
            }),
          )
          .get(n)!;
      const send = async (n: number): Promise<string> => {
        const panel = await TcpPanel.open(b.bridge.port('tcp'));
        panel.write(frameFor(n));
        const [reply] = await panel.waitForReplies(1, 10_000);
        panel.end();
        if (text(reply).includes('"ACK"')) acked.add(n);
        return text(reply);
      };

      for (let i = 0; i < 5; i++) expect(await send(++sent)).toContain('"ACK"');
      // The stream is looked at once a second: the pending count follows within that.
      await until(async () => (await readyz()).body.checks['pending']?.detail?.startsWith('5 event') === true, 10_000);
      const ready = await readyz();
      expect(ready.code).toBe(200);
      expect(ready.body.checks).toMatchObject({
        nats: { ok: true, detail: expect.stringMatching(/^connected to 127\.0\.0\.1:/) },
        stream: { ok: true, detail: expect.stringMatching(/3\/3 copies current, quorum/) },
        role: { ok: true, detail: expect.stringMatching(/^bridge-q (standby|delivering)$/) },
        pending: { ok: true, detail: expect.stringMatching(/^5 event\(s\)/) },
      });

      await nats.kill(1);
      await nats.kill(2);
      // Frames are NAKed (each after at most the publish timeout): the panel keeps them and retries later.
      await until(async () => (await send(++sent)).includes('"NAK"'), 20_000);
      expect(await send(++sent)).toContain('"NAK"');
      await until(async () => (await readyz()).code === 503, 10_000);
      expect((await readyz()).body.checks['stream']).toMatchObject({ ok: false });
      const metric = await b.bridge.metrics.rejections.get();
      expect(metric.values.find((v) => v.labels.reason === 'store-unavailable')?.value).toBeGreaterThanOrEqual(2);

      await nats.restart(1);
      await nats.restart(2);
      // Like a panel: every frame not ACKed is sent again until it is.
      await until(async () => {
        for (let n = 1; n <= sent; n++) if (!acked.has(n)) await send(n);
        return acked.size === sent;
      }, 40_000);
      await until(async () => (await readyz()).code === 200, 10_000);
      const { jsm } = b.bridge.cluster!.runtime.connection;
      await until(async () => (await jsm.streams.info('QUORUM')).state.messages === sent, 10_000);
      expect((await jsm.streams.info('QUORUM')).state.messages).toBe(acked.size);
    } finally {
      await status?.close();
      await api.close();
      await b.stop();
    }
  }, 90_000);
});
