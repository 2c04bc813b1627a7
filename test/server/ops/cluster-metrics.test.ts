/** The cluster metrics of a bridge against a real nats-server (docs/cluster.md §9; the list is in docs/metrics.md). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { UNDELIVERABLE_SINK } from '../../cluster/undeliverable-sink.js';
import { until } from '../../e2e/api-harness.js';
import { startTestBridge, TcpPanel, text } from '../harness.js';

let nats: NatsCluster;
beforeAll(async () => {
  nats = await startNatsCluster(1);
}, 30_000);
afterAll(() => nats?.stop());

async function value(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown>; metricName?: string }> }> },
  match: Record<string, unknown> = {},
) {
  const { values } = await metric.get();
  const found = values.find((v) =>
    Object.entries(match).every(([k, want]) => (k === 'metricName' ? v.metricName === want : v.labels[k] === want)),
  );
  return found?.value ?? 0;
}

describe('cluster metrics', () => {
  it('observe publish latency, pending events, the connection, the role and its changes', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      sink: UNDELIVERABLE_SINK,
      cluster: { nats: { servers: nats.urls }, replicas: 1, instance: 'bridge-a', stream: 'METRICS' },
    });
    try {
      const { metrics } = b.bridge;
      const { role } = b.bridge.cluster!.runtime;
      expect(await value(metrics.clusterConnected)).toBe(1);

      const panel = await TcpPanel.open(b.bridge.port('tcp'));
      for (const n of [1, 2, 3]) {
        panel.write(
          buildRequest({ token: 'SIA-DCS', sequence: `000${n}`, line: '0', account: '1234', data: `#1234|NBA${n}`, timestamp: new Date() }),
        );
        await panel.waitForReplies(n);
      }
      panel.end();
      expect(panel.replies.map(text).every((r) => r.includes('"ACK"'))).toBe(true);
      expect(await value(metrics.clusterPublish, { metricName: 'alarm_bridge_cluster_publish_seconds_count' })).toBe(3);
      await until(async () => (await value(metrics.clusterPending)) === 3, 5000);

      // The role gauge follows every change, and each change is counted.
      const current = role.current;
      const other = current === 'delivering' ? 'standby' : 'delivering';
      expect(await value(metrics.clusterRole, { role: current })).toBe(1);
      expect(await value(metrics.clusterRole, { role: other })).toBe(0);
      const changes = await value(metrics.clusterLeaseChanges);
      role.set(other);
      expect(await value(metrics.clusterRole, { role: other })).toBe(1);
      expect(await value(metrics.clusterRole, { role: current })).toBe(0);
      expect(await value(metrics.clusterLeaseChanges)).toBe(changes + 1);
      role.set(other);
      expect(await value(metrics.clusterLeaseChanges)).toBe(changes + 1);

      await nats.kill(0);
      await until(async () => (await value(metrics.clusterConnected)) === 0, 5000);
      await nats.restart(0);
      await until(async () => (await value(metrics.clusterConnected)) === 1, 15_000);
    } finally {
      await b.stop();
    }
  }, 60_000);
});
