/** Walking a stream without a consumer, against a real nats-server (docs/cluster.md §6). */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterRuntime } from '../../../src/sink/cluster/cluster-log.js';
import { readStream } from '../../../src/sink/cluster/stream-reader.js';
import { clusterConfig, natsForFile, openRuntime } from './helpers.js';

const nats = natsForFile();
let runtime: ClusterRuntime | null = null;
afterEach(async () => {
  await runtime?.connection.close();
  runtime = null;
});

const collect = async (iterable: AsyncIterable<{ seq: number }>) => {
  const seqs: number[] = [];
  for await (const msg of iterable) seqs.push(msg.seq);
  return seqs;
};

describe('readStream', () => {
  it('yields the messages in order across gaps left by removed ones, up to the limit; nothing for an empty stream', async () => {
    runtime = await openRuntime(clusterConfig(nats().urls, 'bridge-a', 'READER'));
    const { jsm, js } = runtime.connection;
    const { dead, deadSubject } = runtime.stores.names;
    expect(await collect(readStream(jsm, dead))).toEqual([]);
    for (let i = 0; i < 6; i++) await js.publish(deadSubject(`A${i}`), `m${i}`);
    await jsm.streams.deleteMessage(dead, 1);
    await jsm.streams.deleteMessage(dead, 3);
    await jsm.streams.deleteMessage(dead, 4);
    expect(await collect(readStream(jsm, dead))).toEqual([2, 5, 6]);
    expect(await collect(readStream(jsm, dead, 2))).toEqual([2, 5]);
  }, 20_000);
});
