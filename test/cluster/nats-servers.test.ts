import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

import { freePort } from '../server/harness.js';
import { startNatsCluster, type NatsCluster } from './nats-servers.js';

describe('the NATS test cluster', () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
  }, 30_000);
  afterAll(() => cluster?.stop());

  it('three nodes on loopback form one JetStream cluster that creates an R3 stream', async () => {
    expect(cluster.urls.every((u) => u.startsWith('nats://127.0.0.1:'))).toBe(true);
    const nc = await connect({ servers: cluster.urls });
    try {
      // The meta leader is elected a moment after the routes connect.
      let jsm: Awaited<ReturnType<typeof jetstreamManager>> | null = null;
      for (let i = 0; i < 100 && jsm === null; i++) {
        jsm = await jetstreamManager(nc).catch(() => null);
        if (jsm === null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(jsm).not.toBeNull();
      let info = null;
      for (let i = 0; i < 100 && info === null; i++) {
        info = await jsm!.streams.add({ name: 'PROBE', subjects: ['probe.>'], num_replicas: 3 }).catch(() => null);
        if (info === null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(info?.config.num_replicas).toBe(3);
      expect(info?.cluster?.replicas?.length).toBe(2);
      // Clients learn no other addresses than the ones they were given.
      expect(nc.info?.connect_urls ?? []).toEqual([]);
    } finally {
      await nc.close();
    }
  }, 30_000);

  it('starts again on fresh ports when a port it was given is taken before nats-server binds it', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as { port: number }).port;
    let handedOut = 0;
    try {
      const single = await startNatsCluster(1, {
        freePort: () => (handedOut++ === 0 ? Promise.resolve(taken) : freePort()),
      });
      try {
        expect(single.nodes[0]!.clientPort).not.toBe(taken);
        expect(handedOut).toBe(4);
        const nc = await connect({ servers: single.urls });
        await nc.close();
      } finally {
        await single.stop();
      }
    } finally {
      squatter.close();
    }
  }, 30_000);
});
