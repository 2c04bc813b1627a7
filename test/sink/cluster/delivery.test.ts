/** Cluster delivery against a real nats-server and a real HTTP API on loopback (docs/cluster.md §5). */
import { afterEach, describe, expect, it } from 'vitest';
import { openClusterLog, type ClusterLog } from '../../../src/sink/cluster/cluster-log.js';
import { accountEvent, FAILING_ACCOUNTS, otherAccountDelayMs, startFailingApi, type FailingApi } from '../failing-api.js';
import { silentLogger } from '../outbox/helpers.js';
import { clusterConfig, until, natsForFile } from './helpers.js';

const nats = natsForFile();
let logs: ClusterLog[] = [];
let apis: FailingApi[] = [];
let streamNo = 0;
afterEach(async () => {
  await Promise.allSettled(logs.map((l) => l.close()));
  await Promise.allSettled(apis.map((a) => a.close()));
  logs = [];
  apis = [];
});

async function api(failing: Set<string>): Promise<FailingApi> {
  const started = await startFailingApi(failing);
  apis.push(started);
  return started;
}

async function open(sinkApi: FailingApi, maxAgeHours = 72): Promise<ClusterLog> {
  const log = await openClusterLog(clusterConfig(nats().urls, 'bridge-a', `DELIVERY_${++streamNo}`, { maxAgeHours }), {
    logger: silentLogger,
    duplicateWindowSeconds: 120,
    sink: sinkApi.sink,
    concurrency: 8,
    delivery: { baseDelayMs: 50, maxDelayMs: 200 },
  });
  logs.push(log);
  await until(() => log.runtime.role.delivering, 5_000, 'the only instance takes the lease');
  return log;
}

const streamMessages = async (log: ClusterLog, stream: string) => (await log.runtime.connection.jsm.streams.info(stream)).state.messages;

describe('cluster delivery', () => {
  it('delivers every appended event, per account in order, and the stream forgets each once delivered', async () => {
    const sinkApi = await api(new Set());
    const log = await open(sinkApi);
    const accounts = ['A1', 'A2', 'A3'];
    for (let n = 1; n <= 20; n++) await log.append(accounts.map((a) => accountEvent(a, n)));
    await until(() => sinkApi.accepted.size === 60, 10_000, 'all 60 delivered');
    for (const account of accounts) {
      const times = Array.from({ length: 20 }, (_, i) => sinkApi.accepted.get(`evt-${account}-${i + 1}`)!);
      expect(times).toEqual([...times].sort((x, y) => x - y));
    }
    await until(async () => (await streamMessages(log, log.runtime.stores.names.events)) === 0, 5_000, 'acknowledged messages removed');
  }, 30_000);

  it('eight accounts answered 503 do not stall another account', async () => {
    const sinkApi = await api(new Set(FAILING_ACCOUNTS));
    const log = await open(sinkApi);
    expect(await otherAccountDelayMs(sinkApi, log)).toBeLessThan(2_000);
    // The failing accounts' events stay in the stream, unacknowledged, for their next attempt.
    expect(await streamMessages(log, log.runtime.stores.names.events)).toBe(FAILING_ACCOUNTS.length * 2);
  }, 30_000);

  it('an event failing past maxAgeHours becomes a dead letter with its event; retryDead delivers it with the same event_id', async () => {
    const failing = new Set(['LATE']);
    const sinkApi = await api(failing);
    const log = await open(sinkApi, 1 / 3600); // one second
    await log.append([accountEvent('LATE', 1)]);
    await until(async () => (await log.dead.count()) === 1, 10_000, 'the dead letter');
    const [letter] = await log.dead.readAll();
    expect(letter).toMatchObject({ id: 'evt-LATE-1', account: 'LATE', reason: 'max-age', event: { body: { event_id: 'evt-LATE-1' } } });
    expect(letter!.attempts).toBeGreaterThanOrEqual(1);
    expect(await streamMessages(log, log.runtime.stores.names.events)).toBe(0);
    failing.clear();
    expect(await log.retryDead!({})).toEqual({ requeued: ['evt-LATE-1'], skipped: [] });
    await until(() => sinkApi.accepted.has('evt-LATE-1'), 10_000, 'delivered after the retry');
    expect(await log.dead.count()).toBe(0);
  }, 30_000);
});
