/** Cluster pieces on their own connection to a test NATS (test/cluster/nats-servers.ts), for the cluster sink tests. */
import { afterAll, beforeAll } from 'vitest';
import type { ClusterConfig } from '../../../src/config/types.js';
import type { ClusterRuntime } from '../../../src/sink/cluster/cluster-log.js';
import { connectCluster } from '../../../src/sink/cluster/connection.js';
import { ClusterRole } from '../../../src/sink/cluster/role.js';
import { ensureClusterStores } from '../../../src/sink/cluster/streams.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { silentLogger } from '../outbox/helpers.js';

/** Real NATS servers for the calling test file: started before its tests, stopped after them. */
export function natsForFile(size: 1 | 3 = 1): () => NatsCluster {
  let nats: NatsCluster | undefined;
  beforeAll(async () => {
    nats = await startNatsCluster(size);
  }, 30_000);
  afterAll(() => nats?.stop());
  return () => nats!;
}

export function clusterConfig(servers: string[], instance: string, stream: string, overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return { nats: { servers }, stream, replicas: 1, instance, publishTimeoutSeconds: 5, maxAgeHours: 72, ...overrides };
}

/** A connection with the streams and bucket ensured, and a role of its own: one instance's runtime. */
export async function openRuntime(config: ClusterConfig): Promise<ClusterRuntime> {
  const connection = await connectCluster(config, silentLogger);
  const stores = await ensureClusterStores(connection, config, 120);
  return { config, connection, stores, role: new ClusterRole() };
}

/** Polls `check` every 25 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
