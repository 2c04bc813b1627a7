/**
 * Supervision across instances (docs/cluster.md §7) against a real nats-server: the state bucket's `seen` and `fail`
 * keys, and two bridges where only the delivering one raises a communication failure and its restore, once.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { connectCluster } from '../../../src/sink/cluster/connection.js';
import { ensureClusterStores } from '../../../src/sink/cluster/streams.js';
import { frameEventId } from '../../../src/mapper/index.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { SUPERVISION_TOKEN } from '../../../src/server/ops/supervision.js';
import type { FailureRecord } from '../../../src/server/ops/supervision-store.js';
import { KvSupervisionStore } from '../../../src/sink/cluster/supervision-store.js';
import { until } from '../../e2e/api-harness.js';
import { clusterSuite } from '../../cluster/cluster-suite.js';
import { text, udpExchange, type TestBridge } from '../../server/harness.js';

const suite = clusterSuite();

const silent = createLogger({ level: 'silent' });

/** A bridge on `stream` whose account 1234 must report every `intervalSeconds` (+ 1 s grace). */
const bridge = (instance: string, stream: string, intervalSeconds = 1) =>
  suite.bridge(instance, stream, {
    accounts: { '1234': { locationId: 'LOC', cameraId: 'cam', supervision: { intervalSeconds, graceSeconds: 1 } } },
  });

const linkTest = (sequence: string) =>
  buildRequest({ token: 'NULL', sequence, line: '0', account: '1234', data: '', timestamp: new Date() });

async function report(to: TestBridge, sequence: string): Promise<void> {
  expect(text(await udpExchange(to.bridge.port('udp'), linkTest(sequence)))).toContain('"ACK"');
}

const failure = (lastSeen: number): FailureRecord => ({
  lastSeen,
  peer: '127.0.0.1:4000',
  transport: 'udp',
  declaredAt: lastSeen + 2000,
  phase: 'declared',
  returned: null,
});

describe('KvSupervisionStore', () => {
  it('lets one instance declare a failure, and moves it only forward, one instance at each step', async () => {
    const b = await bridge('bridge-a', 'SUPCLAIM');
    const stores = b.bridge.cluster!.runtime.stores;
    const first = new KvSupervisionStore(stores, { logger: silent, instance: 'a' });
    const second = new KvSupervisionStore(stores, { logger: silent, instance: 'b' });
    const mine = failure(1000);
    expect(await first.claimFailure('1234', mine)).toBe(mine);
    const theirs = await second.claimFailure('1234', failure(5000));
    expect(theirs).toEqual(mine);
    await first.failureReported('1234', { ...mine, phase: 'reported' });
    // The second store's revision is stale: it reads the key again and finds the failure reported, as it wanted.
    await second.failureReported('1234', { ...theirs, phase: 'reported' });
    const back = { at: 9000, peer: '127.0.0.1:4001', transport: 'tcp' as const };
    expect(await second.claimRestore('1234', theirs, back)).toBe(true);
    // The first one comes second: the failure is being restored by the other.
    expect(await first.claimRestore('1234', mine, back)).toBe(false);
    const onRecord = (await new KvSupervisionStore(stores, { logger: silent, instance: 'c' }).load()).get('1234');
    expect(onRecord?.failure).toMatchObject({ phase: 'restoring', lastSeen: 1000, returned: { at: 9000, transport: 'tcp' } });
    // A failure whose event is stored is not dropped (dropping is for failures declared and never stored).
    await first.failureDropped('1234');
    expect((await first.load()).get('1234')?.failure?.phase).toBe('restoring');
    await second.restored('1234');
    expect((await first.load()).get('1234')?.failure ?? null).toBeNull();
    // Over: the next outage is declared anew.
    expect(await second.claimFailure('1234', failure(20_000))).toMatchObject({ lastSeen: 20_000 });
  }, 30_000);

  it('writes an account last frame at most once per interval, the latest at its end, and tells followers', async () => {
    const b = await bridge('bridge-a', 'SUPSEEN');
    const stores = b.bridge.cluster!.runtime.stores;
    const store = new KvSupervisionStore(stores, { logger: silent, instance: 'a', seenIntervalMs: 400 });
    const follower = new KvSupervisionStore(stores, { logger: silent, instance: 'b' });
    const heard: number[] = [];
    const stop = await follower.follow((account, arrival) => {
      if (account === '1234') heard.push(arrival.at);
    });
    try {
      for (const at of [1, 2, 3]) store.seen('1234', { at, peer: '127.0.0.1:4000', transport: 'tcp' });
      await until(() => heard.length >= 1);
      expect(heard).toEqual([1]);
      await until(() => heard.length >= 2);
      expect(heard).toEqual([1, 3]);
      expect((await follower.load()).get('1234')?.seen).toEqual({ at: 3, peer: '127.0.0.1:4000', transport: 'tcp' });
    } finally {
      stop();
      await store.close();
    }
  }, 30_000);
});

describe('supervision across two bridges', () => {
  it('raises one trouble from the delivering instance, whichever instance the panel talked to; one restore; none again after a restart', async () => {
    const stream = 'SUPTWO';
    // The first bridge up takes the delivery lease (docs/cluster.md §5).
    let b = await bridge('bridge-b', stream);
    await until(() => b.bridge.cluster!.runtime.role.delivering);
    const a = await bridge('bridge-a', stream);
    const published = await suite.watch(stream);
    await b.bridge.supervisor.settled();

    // The panel reports to A (standby) and goes silent: B, delivering, raises the failure.
    await report(a, '0001');
    await until(() => published.withCode('YC').length === 1, 10_000);
    expect(b.logs()).toContain('supervision: 1234 communication failure');
    expect(a.logs()).not.toContain('communication failure');
    expect(a.bridge.supervisor.accountsInFailure()).toEqual([]);

    // B restarts (standby) and A takes delivery over: the failure is on record, nothing is raised again.
    await b.stop();
    await until(() => a.bridge.cluster!.runtime.role.delivering, 15_000);
    b = await bridge('bridge-b2', stream);
    await a.bridge.supervisor.settled();
    expect(a.bridge.supervisor.accountsInFailure()).toEqual(['1234']);
    await new Promise((r) => setTimeout(r, 2500)); // more than a window (2 s)
    expect(published.withCode('YC')).toHaveLength(1);

    // The panel reports to B (standby): A sees it in the bucket and sends the one restore.
    await report(b, '0002');
    await until(() => published.withCode('YK').length === 1, 10_000);
    expect(a.logs()).toContain('supervision: 1234 communication restored');
    expect(b.logs()).not.toContain('communication restored');
    await a.bridge.supervisor.settled();
    await new Promise((r) => setTimeout(r, 300));
    // (A new silence of a full window after the restore is a new outage: only what came before it counts here.)
    const outage = published.events.slice(0, published.events.findIndex((e) => e.body.payload.code === 'YK') + 1);
    expect(outage.map((e) => [e.body.payload.code, e.body.event_type, e.body.event_status])).toEqual([
      ['YC', 'trouble', 'active'],
      ['YK', 'trouble', 'inactive'],
    ]);
    expect(published.withCode('YK')).toHaveLength(1);
  }, 45_000);

  it('a bridge that starts delivering finishes what another left unfinished, with the very same events', async () => {
    const stream = 'SUPADOPT';
    const lastSeen = Date.now() - 60_000;
    const idOf = (data: string, at: number) =>
      frameEventId({ account: '1234', token: SUPERVISION_TOKEN, data, timestamp: new Date(at), receivedAt: new Date() }, 0);
    // An instance declared the failure and died before its event was known to be stored.
    const config = parseConfig({ cluster: { nats: { servers: suite.nats.urls }, replicas: 1, stream, instance: 'gone' } }, '/tmp/b.json');
    const connection = await connectCluster(config.cluster!, silent);
    try {
      const elsewhere = new KvSupervisionStore(await ensureClusterStores(connection, config.cluster!, 120), {
        logger: silent,
        instance: 'gone',
      });
      await elsewhere.claimFailure('1234', failure(lastSeen));
      const published = await suite.watch(stream);
      // The first bridge up takes the lease, reads the state and sends that failure's trouble.
      const a = await bridge('bridge-a', stream, 60);
      await until(() => a.bridge.cluster!.runtime.role.delivering, 15_000);
      await until(() => published.withCode('YC').length === 1);
      const failId = idOf(`supervision|fail|${new Date(lastSeen).toISOString()}`, lastSeen);
      expect(published.withCode('YC')[0]!.msgId).toBe(failId);
      await a.bridge.supervisor.settled();
      const reported = (await elsewhere.load()).get('1234')!.failure!;
      expect(reported.phase).toBe('reported');
      const standby = await bridge('bridge-z', stream, 60);

      // Another instance claimed the restore and died; A stops: the standby takes the lease and sends that restore.
      const returned = { at: lastSeen + 30_000, peer: '127.0.0.1:4000', transport: 'udp' as const };
      expect(await elsewhere.claimRestore('1234', reported, returned)).toBe(true);
      await a.stop();
      await until(() => standby.bridge.cluster!.runtime.role.delivering, 15_000);
      await until(() => published.withCode('YK').length === 1);
      expect(published.withCode('YK')[0]!.msgId).toBe(idOf(`supervision|restore|${new Date(lastSeen).toISOString()}`, returned.at));
      await standby.bridge.supervisor.settled();
      expect((await elsewhere.load()).get('1234')?.failure ?? null).toBeNull();
      expect(published.events.map((e) => e.body.payload.code)).toEqual(['YC', 'YK']);
    } finally {
      await connection.close();
    }
  }, 45_000);

  it('two instances that both believe they deliver still store one trouble and publish one restore', async () => {
    const stream = 'SUPSPLIT';
    const a = await bridge('bridge-a', stream);
    const b = await bridge('bridge-b', stream);
    const published = await suite.watch(stream);
    a.bridge.cluster!.runtime.role.set('delivering');
    b.bridge.cluster!.runtime.role.set('delivering');
    await Promise.all([a.bridge.supervisor.settled(), b.bridge.supervisor.settled()]);

    await report(a, '0001');
    await until(() => published.withCode('YC').length >= 1, 10_000);
    await Promise.all([a.bridge.supervisor.settled(), b.bridge.supervisor.settled()]);
    // The loser of the claim may offer the winner's event again: same id, so the stream keeps one.
    expect(new Set(published.withCode('YC').map((e) => e.msgId)).size).toBe(1);

    await report(b, '0002');
    await until(() => published.withCode('YK').length >= 1, 10_000);
    await Promise.all([a.bridge.supervisor.settled(), b.bridge.supervisor.settled()]);
    await new Promise((r) => setTimeout(r, 300));
    // Both saw the panel come back; the revision check lets one of them send the restore.
    expect(published.withCode('YK')).toHaveLength(1);
  }, 30_000);
});
