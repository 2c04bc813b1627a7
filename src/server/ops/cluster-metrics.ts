/**
 * The cluster metrics of a running bridge (docs/cluster.md §9): publish latency from each append, the role and its
 * changes from the role's change events, the connection and the pending count from a one-second timer.
 */
import type { ClusterLog } from '../../sink/cluster/cluster-log.js';
import type { Role } from '../../sink/cluster/role.js';
import type { BridgeMetrics } from './metrics.js';

const ROLES: readonly Role[] = ['delivering', 'standby'];

/** Starts feeding `metrics` from `cluster`; returns what stops the timer. */
export function watchClusterMetrics(cluster: ClusterLog, metrics: BridgeMetrics, intervalMs = 1000): () => void {
  const { role } = cluster.runtime;
  const setRole = (current: Role) => {
    for (const r of ROLES) metrics.clusterRole.set({ role: r }, r === current ? 1 : 0);
  };
  const setGauges = () => {
    metrics.clusterConnected.set(cluster.runtime.connection.connected ? 1 : 0);
    metrics.clusterPending.set(cluster.status().depth);
  };
  setRole(role.current);
  setGauges();
  role.onChange((current) => {
    metrics.clusterLeaseChanges.inc();
    setRole(current);
  });
  cluster.onPublished((seconds) => metrics.clusterPublish.observe(seconds));
  const timer = setInterval(setGauges, intervalMs).unref();
  return () => clearInterval(timer);
}
