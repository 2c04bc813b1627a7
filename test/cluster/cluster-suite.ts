/**
 * One real nats-server (or three) for a test file, started before its tests and stopped after them; the bridges and
 * publication watchers a test starts through it are stopped after that test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestBridge, type TestBridge } from '../server/harness.js';
import { startNatsCluster, type NatsCluster } from './nats-servers.js';
import { watchPublications, type Publications } from './published-events.js';

export interface ClusterSuite {
  readonly nats: NatsCluster;
  /** A test bridge (`startTestBridge`) with a cluster section on this suite's servers, `stream` and `instance`. */
  bridge(instance: string, stream: string, overrides?: Record<string, unknown>): Promise<TestBridge>;
  /** Every publication on `stream`'s events subjects from now on. */
  watch(stream: string): Promise<Publications>;
}

export function clusterSuite(size: 1 | 3 = 1): ClusterSuite {
  let nats: NatsCluster | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    nats = await startNatsCluster(size);
  }, 30_000);
  afterAll(() => nats?.stop());
  afterEach(async () => {
    await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  });
  const servers = () => {
    if (!nats) throw new Error('the NATS servers are not started yet');
    return nats;
  };
  return {
    get nats() {
      return servers();
    },
    async bridge(instance, stream, overrides = {}) {
      const bridge = await startTestBridge({
        accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
        ...overrides,
        cluster: { nats: { servers: servers().urls }, replicas: 1, instance, stream },
      });
      cleanups.push(() => bridge.stop());
      return bridge;
    },
    async watch(stream) {
      const publications = await watchPublications(servers().urls, stream);
      cleanups.push(() => publications.close());
      return publications;
    },
  };
}
