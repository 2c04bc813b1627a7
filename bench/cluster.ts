/**
 * Cluster figures (issue 16): the receiver phases of receiver.ts with every ACK after JetStream stored the frame's
 * event (docs/cluster.md §3), next to the local journal's. R1: one bridge in this process (as the journal variant)
 * and one nats-server, a fresh one for each phase. R3: three bridges, each in its own process, on three clustered nats-servers (replicas 3), the
 * load generator spreading its panels over the bridges. On a 2-core machine R3 measures the overhead of replication,
 * not capacity: seven processes (three NATS servers, three bridges, the load generator) share the two cores.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startNatsCluster, type NatsCluster } from '../test/cluster/nats-servers.js';
import { gaugeChild, startChild, stopChild, type BenchChild } from './child.js';
import { benchReceiver, startBridgeServer, type Phase, type PhaseServer, type ReceiverFigures, type ReceiverVariant } from './receiver.js';
import { benchConfigJson, round } from './setup.js';

export const R3_NOTE =
  'R3 measures the overhead of replication, not capacity: its seven processes (three nats-servers, three bridges, the load generator) share the two cores of this machine; on three machines each bridge and NATS server has its own.';

let streams = 0;

/** A `cluster` section on a fresh stream: each phase starts from an empty stream, as the journal's from an empty outbox. */
function clusterSection(nats: NatsCluster, replicas: 1 | 3, instance: string, stream = `BENCH_${++streams}`) {
  return { nats: { servers: nats.urls }, stream, replicas, instance };
}

/**
 * R1: the bridge in this process, as the journal variant, on a nats-server of its own for each phase: every phase
 * starts from a fresh server, as the journal's from an empty outbox (a server that just stored and deleted a
 * closed-loop run's 100,000 messages is still tidying its files meanwhile).
 */
function r1Variant(): ReceiverVariant {
  const variant: ReceiverVariant = {
    name: 'clusterR1',
    description:
      'cluster mode, one bridge + one nats-server (replicas 1): every ACK after JetStream stored the event, the bridge delivering to the file sink, log level info, AES-128 frames',
    targets: { throughputFramesPerSecond: 5_000, latencyP99Ms: 10 },
    server: async (phase, dir) => {
      const nats = await startNatsCluster(1);
      let bridge: PhaseServer;
      try {
        bridge = await startBridgeServer(
          { ...variant, server: undefined, configure: (json) => ({ ...json, cluster: clusterSection(nats, 1, 'bench-r1') }) },
          phase,
          dir,
        );
      } catch (err) {
        await nats.stop();
        throw err;
      }
      let stopped: Promise<void> | null = null;
      return { ...bridge, stop: () => (stopped ??= bridge.stop().finally(() => nats.stop())) };
    },
  };
  return variant;
}

/** Three bridge processes on the three-node cluster; the gauge measures the first (the others are alike). */
async function startR3Bridges(nats: NatsCluster, phase: Phase, dir: string): Promise<PhaseServer> {
  const stream = `BENCH_${++streams}`;
  const children: BenchChild[] = [];
  const ports: number[] = [];
  const stop = () => Promise.all(children.map(stopChild)).then(() => undefined);
  try {
    // One after the other: the first creates the stream and the bucket, the others find them.
    for (const name of ['a', 'b', 'c']) {
      const config = join(dir, `bridge-${name}.json`);
      await writeFile(
        config,
        JSON.stringify({ ...benchConfigJson(dir, phase.panels), cluster: clusterSection(nats, 3, `bench-r3-${name}`, stream) }),
      );
      const child = startChild('./bridge-child.js', [config, join(dir, `bridge-${name}.log`)]);
      children.push(child);
      ports.push((await child.next<{ type: 'ready'; port: number }>('ready', 60_000)).port);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    port: ports[0]!,
    ports,
    windowOpens: () => undefined,
    gauge: () => gaugeChild(children[0]!),
    journal: () => null,
    pending: () => null,
    stop: () => (stopped ??= stop()),
  };
}

function r3Variant(nats: NatsCluster): ReceiverVariant {
  return {
    name: 'clusterR3',
    description: `cluster mode, three bridges (own processes, panels spread over them) + three clustered nats-servers (replicas 3), log level info, AES-128 frames; server figures are the first bridge's. ${R3_NOTE}`,
    targets: {},
    server: (phase, dir) => startR3Bridges(nats, phase, dir),
  };
}

/** The cluster variant's figures as a share of the local journal's (same run, same load generator). */
function vsJournal(cluster: ReceiverFigures, journal: ReceiverFigures | null) {
  if (!journal) return null;
  const ratio = (value: number | undefined, base: number | undefined) => (value !== undefined && base ? round(value / base, 2) : null);
  return {
    framesPerSecondRatio: ratio(cluster.throughput?.framesPerSecond, journal.throughput?.framesPerSecond),
    journalFramesPerSecond: journal.throughput?.framesPerSecond ?? null,
    latencyP99Ratio: ratio(cluster.latency.latencyMs.p99, journal.latency.latencyMs.p99),
    journalLatencyP99Ms: journal.latency.latencyMs.p99,
  };
}

async function withNats<T>(size: 1 | 3, work: (nats: NatsCluster) => Promise<T>): Promise<T> {
  const nats = await startNatsCluster(size);
  try {
    return await work(nats);
  } finally {
    await nats.stop();
  }
}

/** R1 and R3 (or only those named: `BENCH_ONLY=clusterR1` for a focused measurement). */
export async function benchCluster(limit: ReceiverFigures | null, journal: ReceiverFigures | null, only: { r1: boolean; r3: boolean }) {
  const r1 = only.r1 ? await benchReceiver(r1Variant(), limit) : null;
  const r3 = only.r3 ? await withNats(3, (nats) => benchReceiver(r3Variant(nats), limit)) : null;
  return {
    note: R3_NOTE,
    ...(r1 ? { R1: { ...r1, vsJournal: vsJournal(r1, journal) } } : {}),
    ...(r3 ? { R3: { ...r3, vsJournal: vsJournal(r3, journal) } } : {}),
  };
}
