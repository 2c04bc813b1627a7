/**
 * The duplicate rule for frames without a timestamp across instances (docs/cluster.md §4): two bridges on one real
 * nats-server, the accounts' last frames in the state bucket.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { KvLastFrames } from '../../../src/sink/cluster/last-frames.js';
import { until } from '../../e2e/api-harness.js';
import { clusterSuite } from '../../cluster/cluster-suite.js';
import { startNatsCluster } from '../../cluster/nats-servers.js';
import { startTestBridge, text, udpExchange, type TestBridge } from '../../server/harness.js';

const suite = clusterSuite();

/** A clear SIA-DCS frame without a timestamp. */
const untimestamped = (data: string, sequence: string) => buildRequest({ token: 'SIA-DCS', sequence, line: '0', account: '1234', data });

/** Bridges A and B on the stream `stream`, and what they publish there. */
async function twoBridges(stream: string) {
  const [a, b] = await Promise.all([suite.bridge('bridge-a', stream), suite.bridge('bridge-b', stream)]);
  const published = await suite.watch(stream);
  const send = async (to: TestBridge, frame: Buffer) => {
    const reply = text(await udpExchange(to.bridge.port('udp'), frame));
    expect(reply).toContain('"ACK"');
  };
  return { a, b, published, send };
}

describe('the last frames in the state bucket', () => {
  it('a copy of an untimestamped frame sent to another instance is answered there and not published again', async () => {
    const { a, b, published, send } = await twoBridges('DUPCOPY');
    await send(a, untimestamped('#1234|NBA1', '0001'));
    // Eldes resends the same content with the next sequence (docs/dc09.md §6); this one goes to the backup receiver.
    await send(b, untimestamped('#1234|NBA1', '0002'));
    await until(() => b.logs().includes('retransmission of an accepted frame'));
    await a.bridge.cluster!.runtime.connection.nc.flush();
    expect(published.events.map((e) => e.body.payload.code)).toEqual(['BA']);
    expect(a.logs()).not.toContain('retransmission of an accepted frame');
  }, 30_000);

  it('alarm, restore, alarm again across two instances is three events', async () => {
    const { a, b, published, send } = await twoBridges('DUPSEQ');
    await send(a, untimestamped('#1234|NBA1', '0001'));
    await send(b, untimestamped('#1234|NBR1', '0002'));
    // A's own memory still holds the alarm as the account's last frame; the bucket knows the restore came since.
    await send(a, untimestamped('#1234|NBA1', '0003'));
    await until(() => published.events.length === 3);
    expect(published.events.map((e) => e.body.payload.code)).toEqual(['BA', 'BR', 'BA']);
    expect(new Set(published.events.map((e) => e.body.event_id)).size).toBe(3);
    // ...and a copy of that last alarm, at B, is one again.
    await send(b, untimestamped('#1234|NBA1', '0004'));
    await until(() => b.logs().includes('retransmission of an accepted frame'));
    expect(published.events).toHaveLength(3);
  }, 30_000);

  it('answers unknown, within its bound and with a warning, when the bucket does not answer', async () => {
    const own = await startNatsCluster(1);
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      cluster: { nats: { servers: own.urls }, replicas: 1, instance: 'bridge-a', stream: 'DUPDOWN' },
    });
    let logText = '';
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk, _e, cb) {
          logText += chunk.toString();
          cb();
        },
      }),
    });
    try {
      const store = new KvLastFrames(b.bridge.cluster!.runtime.stores, logger, 300);
      await store.set('1234', { digest: 'd1', atMs: 1000 });
      expect(await store.get('1234')).toEqual({ digest: 'd1', atMs: 1000 });
      expect(await store.get('5678')).toBeNull();
      await own.kill(0);
      const started = Date.now();
      expect(await store.get('1234')).toBe('unknown');
      expect(Date.now() - started).toBeLessThan(2000);
      await store.set('1234', { digest: 'd2', atMs: 2000 });
      expect(logText).toContain("the account's last frame could not be read in the state bucket");
      expect(logText).toContain("the account's last frame could not be written in the state bucket");
    } finally {
      await b.stop();
      await own.stop();
    }
  }, 30_000);
});
