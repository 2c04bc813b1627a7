/** Cluster delivery against a real nats-server and a real HTTP API on loopback (docs/cluster.md §5). */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openClusterLog, type ClusterLog } from '../../../src/sink/cluster/cluster-log.js';
import { ClusterDeadLetters } from '../../../src/sink/cluster/dead-letters.js';
import { ClusterDelivery, decodeStoredEvent } from '../../../src/sink/cluster/delivery.js';
import { accountEvent, FAILING_ACCOUNTS, otherAccountDelayMs, startFailingApi, type FailingApi } from '../failing-api.js';
import { silentLogger } from '../outbox/helpers.js';
import { clusterConfig, natsForFile, openRuntime, until } from './helpers.js';
import type { OutgoingEvent } from '../../../src/sink/types.js';
import { encodeEventMessage } from '../../../src/sink/cluster/event-message.js';

/** An event as the cluster log stores it (docs/cluster.md §3). */
const stored = (event: OutgoingEvent) => encodeEventMessage(event, new Date().toISOString(), {});

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

async function api(failing: Set<string>, delayMs = 0): Promise<FailingApi> {
  const started = await startFailingApi(failing, delayMs);
  apis.push(started);
  return started;
}

async function open(sinkApi: FailingApi, options: { maxAgeHours?: number; stream?: string; instance?: string } = {}): Promise<ClusterLog> {
  const config = clusterConfig(nats().urls, options.instance ?? 'bridge-a', options.stream ?? `DELIVERY_${++streamNo}`, {
    maxAgeHours: options.maxAgeHours ?? 72,
  });
  const log = await openClusterLog(config, {
    logger: silentLogger,
    duplicateWindowSeconds: 120,
    sink: sinkApi.sink,
    concurrency: 8,
    delivery: { baseDelayMs: 50, maxDelayMs: 200 },
  });
  logs.push(log);
  return log;
}

const delivering = (log: ClusterLog) => until(() => log.runtime.role.delivering, 5_000, `${log.runtime.config.instance} delivers`);

const streamMessages = async (log: ClusterLog, stream: string) => (await log.runtime.connection.jsm.streams.info(stream)).state.messages;

describe('cluster delivery', () => {
  it('delivers every appended event, per account in order, and the stream forgets each once delivered', async () => {
    const sinkApi = await api(new Set());
    const log = await open(sinkApi);
    await delivering(log);
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
    await delivering(log);
    expect(await otherAccountDelayMs(sinkApi, log)).toBeLessThan(2_000);
    // The other account's event leaves the stream once acknowledged; the failing accounts' stay for their next attempt.
    const held = FAILING_ACCOUNTS.length * 2;
    await until(async () => (await streamMessages(log, log.runtime.stores.names.events)) === held, 5_000, 'only the failing events left');
  }, 30_000);

  it('an event failing past maxAgeHours becomes a dead letter with its event; retryDead delivers it with the same event_id', async () => {
    const failing = new Set(['LATE']);
    const sinkApi = await api(failing);
    const log = await open(sinkApi, { maxAgeHours: 1 / 3600 }); // one second
    await delivering(log);
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

  it('when the delivering instance dies holding events, the other delivers them within 15 s, in order, with their event ids', async () => {
    const stream = `DELIVERY_${++streamNo}`;
    const accounts = ['H1', 'H2'];
    const down = await api(new Set(accounts));
    const a = await open(down, { stream, instance: 'bridge-a' });
    await delivering(a);
    const up = await api(new Set());
    const b = await open(up, { stream, instance: 'bridge-b' });
    for (let n = 1; n <= 5; n++) await b.append(accounts.map((account) => accountEvent(account, n)));
    await until(() => accounts.every((account) => (down.refused.get(account) ?? 0) >= 1), 5_000, 'a holds the events');
    const died = Date.now();
    await a.runtime.connection.nc.close();
    await until(() => up.accepted.size === 10, 15_000, 'b delivers what a held');
    expect(Date.now() - died).toBeLessThan(15_000);
    expect(b.runtime.role.delivering).toBe(true);
    for (const account of accounts) {
      const ids = [...up.accepted.keys()].filter((id) => id.startsWith(`evt-${account}-`));
      expect(ids).toEqual([1, 2, 3, 4, 5].map((n) => `evt-${account}-${n}`));
    }
  }, 30_000);

  it('a stored message that is not an event becomes an unreadable dead letter and leaves the stream; the others are delivered', async () => {
    const sinkApi = await api(new Set());
    const log = await open(sinkApi);
    await delivering(log);
    const { js } = log.runtime.connection;
    await js.publish(log.runtime.stores.names.eventSubject('Z'), 'not an event');
    await log.append([accountEvent('Z', 1)]);
    await until(async () => (await log.dead.count()) === 1 && sinkApi.accepted.has('evt-Z-1'), 5_000, 'letter and delivery');
    const [letter] = await log.dead.readAll();
    expect(letter).toMatchObject({ reason: 'unreadable', id: 'seq 1' });
    expect(letter!.detail).toContain('not JSON');
    await until(async () => (await streamMessages(log, log.runtime.stores.names.events)) === 0, 5_000, 'stream empty');
  }, 30_000);

  it('follows the role: standby stops delivering at once; delivering again waits for the delivery under way, so no event is sent twice at once', async () => {
    const slow = await api(new Set(), 600);
    const runtime = await openRuntime(clusterConfig(nats().urls, 'bridge-a', `DELIVERY_${++streamNo}`));
    const delivery = new ClusterDelivery(runtime, {
      sink: slow.sink,
      logger: silentLogger,
      concurrency: 4,
      dead: new ClusterDeadLetters(runtime.connection, runtime.stores.names, silentLogger),
    });
    const publish = (n: number) => runtime.connection.js.publish(runtime.stores.names.eventSubject('R'), stored(accountEvent('R', n)));
    try {
      runtime.role.set('delivering');
      await publish(1);
      await until(() => slow.posts.includes('evt-R-1'), 5_000, 'first delivery under way');
      runtime.role.set('standby');
      runtime.role.set('delivering'); // the lease back at once: the fresh consumer hands evt-R-1 out again
      await until(() => slow.accepted.has('evt-R-1') && slow.unanswered === 0, 5_000, 'first delivery done');
      await new Promise((r) => setTimeout(r, 300));
      expect(slow.overlaps).toBe(0);
      runtime.role.set('standby');
      await publish(2);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(slow.posts).not.toContain('evt-R-2');
      runtime.role.set('delivering');
      await until(() => slow.posts.includes('evt-R-2'), 5_000, 'delivered once delivering again');
      await until(
        async () => (await runtime.connection.jsm.streams.info(runtime.stores.names.events)).state.messages === 0,
        5_000,
        'all acknowledged',
      );
      expect(slow.overlaps).toBe(0);
    } finally {
      await delivery.close();
      await runtime.connection.close();
    }
  }, 30_000);
});

describe('decodeStoredEvent', () => {
  it('reads back what the cluster log stores, and never throws on other bytes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 16 }), fc.string({ minLength: 1 }), fc.nat(), (account, id, n) => {
        const event = accountEvent(account, n);
        event.body.event_id = id;
        expect(decodeStoredEvent(stored(event))).toEqual(event);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeStoredEvent(bytes);
        expect(typeof decoded === 'string' || typeof decoded.body.event_id === 'string').toBe(true);
      }),
    );
    expect(decodeStoredEvent(Buffer.from('{"v":1,"account":"1"}'))).toBe('body is not an object');
    expect(decodeStoredEvent(Buffer.from('null'))).toBe('not a JSON object');
  });
});
