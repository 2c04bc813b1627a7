/** What `outbox status|list` show in cluster mode, read from a real nats-server (docs/cluster.md §6). */
import { afterEach, describe, expect, it } from 'vitest';
import { openClusterLog, type ClusterLog } from '../../../src/sink/cluster/cluster-log.js';
import { clusterPending, clusterStatus } from '../../../src/sink/cluster/operator-view.js';
import { accountEvent, startFailingApi, type FailingApi } from '../failing-api.js';
import { silentLogger } from '../outbox/helpers.js';
import { clusterConfig, natsForFile, until } from './helpers.js';

const nats = natsForFile();
let log: ClusterLog | null = null;
let api: FailingApi | null = null;
afterEach(async () => {
  await log?.close();
  await api?.close();
  log = null;
  api = null;
});

describe('cluster operator view', () => {
  it('status counts the stored events, those the delivering instance holds and the dead letters, and names the holder; list shows the events', async () => {
    api = await startFailingApi(new Set(['HELD']));
    log = await openClusterLog(clusterConfig(nats().urls, 'bridge-a', 'VIEW'), {
      logger: silentLogger,
      duplicateWindowSeconds: 120,
      sink: api.sink,
      delivery: { baseDelayMs: 1000, maxDelayMs: 1000 },
    });
    const open = log;
    expect(await clusterStatus(open)).toMatchObject({ stream: 'VIEW', instance: 'bridge-a', depth: 0, deadLetters: 0 });
    await until(() => open.runtime.role.delivering, 5_000, 'delivering');
    const before = Date.now();
    await open.append([accountEvent('HELD', 1), accountEvent('HELD', 2)]);
    await open.dead.append([{ id: 'x', account: 'HELD', reason: 'permanent', deadAt: new Date().toISOString() }]);
    await until(async () => (await clusterStatus(open)).inFlight === 2, 5_000, 'both held');
    const status = await clusterStatus(open, before + 10_000);
    expect(status).toMatchObject({ depth: 2, pending: 0, inFlight: 2, deadLetters: 1, lease: { holder: 'bridge-a' } });
    expect(status.oldestAgeSeconds).toBeGreaterThan(9);
    expect(status.oldestAgeSeconds).toBeLessThan(11);
    const rows = await clusterPending(open, 10);
    expect(rows.map((r) => [r.seq, r.id, r.account])).toEqual([
      [1, 'evt-HELD-1', 'HELD'],
      [2, 'evt-HELD-2', 'HELD'],
    ]);
    expect(rows[0]!.event).toEqual(accountEvent('HELD', 1));
  }, 30_000);
});
