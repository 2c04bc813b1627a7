/**
 * Cluster mode end to end (issue #16, docs/cluster.md §11), every part a real process on loopback: three nats-server
 * nodes (R3 streams) and three bridge processes, each posting to its own Partner API emulator so the test knows
 * which instance delivered what and when. Panels with three receiver addresses send timestamped frames; mid-run one
 * bridge and one NATS node are SIGKILLed and the dead bridge's panels move on as panels with backup addresses do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamInfo } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type ReceivedEvent } from '../../src/emulator/server.js';
import { startNatsCluster, type NatsCluster } from '../cluster/nats-servers.js';
import { freePort } from '../server/harness.js';
import { emulatorSink, until } from './api-harness.js';
import { spawnBridge, type BridgeProcess } from './bridge-process.js';
import { runFailoverPanel, type PanelRun, type SentFrame } from './failover-panel.js';

const PANELS = 20;
const FRAMES_PER_PANEL = 100;
const STREAM = 'ALARM_EVENTS';
const accountOf = (panel: number) => String(2001 + panel);
/** Two posts of one event by two instances closer than this would be two instances delivering at the same time. */
const SIMULTANEOUS_MS = 1000;

interface Instance {
  name: string;
  emulator: Emulator;
  configPath: string;
  httpPort: number;
  tcpPort: number;
  process: BridgeProcess | null;
}

let nats: NatsCluster;
let dir: string;
const instances: Instance[] = [];

async function startInstance(index: number): Promise<Instance> {
  const emulator = await startEmulator({ quiet: true });
  const { sink } = await emulatorSink(emulator);
  const accounts = Object.fromEntries(
    Array.from({ length: PANELS }, (_, p) => [accountOf(p), { locationId: `LOC-${accountOf(p)}`, cameraId: `CAM-${accountOf(p)}` }]),
  );
  const name = `bridge-${'abc'[index]}`;
  const httpPort = await freePort();
  const config = {
    listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    accounts,
    sink,
    cluster: { nats: { servers: nats.urls }, stream: STREAM, replicas: 3, instance: name, publishTimeoutSeconds: 2 },
    http: { host: '127.0.0.1', port: httpPort },
    log: { level: 'info' },
  };
  const configPath = join(dir, `${name}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const bridge = spawnBridge(['serve', '--config', configPath]);
  const instance: Instance = { name, emulator, configPath, httpPort, tcpPort: 0, process: bridge };
  // Start-up waits for the fresh cluster's JetStream leader; allow for it.
  await until(() => bridge.lines.some((l) => /"msg":"listening"/.test(l)) || bridge.child.exitCode !== null, 45_000);
  const listening = bridge.lines.find((l) => /"msg":"listening"/.test(l));
  if (!listening) throw new Error(`${name} did not start:\n${bridge.lines.slice(-20).join('\n')}`);
  instance.tcpPort = Number(/"port":(\d+)/.exec(listening)![1]);
  return instance;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cluster-e2e-'));
  nats = await startNatsCluster(3);
  // One after the other: the first creates the streams and bucket, the others find them.
  for (let i = 0; i < 3; i++) instances.push(await startInstance(i));
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(instances.map((i) => i.process?.stop('SIGKILL')));
  await Promise.allSettled(instances.map((i) => i.emulator.close()));
  await nats?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

const isRunning = (node: NatsCluster['nodes'][number]) =>
  node.process !== null && node.process.exitCode === null && node.process.signalCode === null;

/** The events stream's state read with the NATS client, as an operator's tool would. */
async function streamInfo(): Promise<StreamInfo> {
  const [{ connect }, { jetstreamManager }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  const nc = await connect({ servers: nats.urls.filter((_, i) => isRunning(nats.nodes[i]!)) });
  try {
    return await (await jetstreamManager(nc)).streams.info(STREAM);
  } finally {
    await nc.close();
  }
}
const streamMessages = async () => (await streamInfo()).state.messages;

/** The instance whose emulator got the latest post (the delivering one), or the first when none posted yet. */
function deliveringIndex(): number {
  let best = 0;
  let latest = '';
  instances.forEach((instance, i) => {
    const last = instance.emulator.events().at(-1)?.receivedAt ?? '';
    if (last > latest) [best, latest] = [i, last];
  });
  return best;
}

interface Post {
  instance: number;
  at: number;
  eventId: string;
  account: string;
  n: number;
}

function posts(): Post[] {
  const all: Post[] = [];
  instances.forEach((instance, i) => {
    for (const e of instance.emulator.events() as Array<ReceivedEvent & { body: any }>) {
      all.push({
        instance: i,
        at: Date.parse(e.receivedAt),
        eventId: e.body.event_id,
        account: e.body.payload.account,
        n: Number(e.body.payload.zone),
      });
    }
  });
  // Stable: within one emulator its own order is exact; across emulators the clock (same process) decides.
  return all.sort((a, b) => a.at - b.at);
}

describe('three bridges on a three-node NATS cluster', () => {
  it('loses no ACKed frame, keeps per-account order and delivers from one instance at a time through a bridge and a NATS node SIGKILL', async () => {
    let ackedCount = 0;
    const kills: string[] = [];
    let killedBridge = -1;
    let killedWhileDelivering = false;
    let killedAt = 0;
    const ports = () => instances.map((i) => i.tcpPort);
    const killer = (async () => {
      await until(() => ackedCount >= 600, 60_000);
      // The delivering instance, once it posted: its death also moves delivery (docs/cluster.md §5).
      killedBridge = deliveringIndex();
      killedWhileDelivering = instances[killedBridge]!.emulator.events().length > 0;
      await instances[killedBridge]!.process!.stop('SIGKILL');
      killedAt = Date.now();
      kills.push(`${instances[killedBridge]!.name} at ${ackedCount} ACKs`);
      await until(() => ackedCount >= 1200, 60_000);
      // The server leading the events stream: the stream elects another leader meanwhile (frames NAKed until then).
      const leader = (await streamInfo()).cluster?.leader;
      const node = Math.max(
        0,
        nats.nodes.findIndex((n) => n.name === leader),
      );
      await nats.kill(node);
      kills.push(`nats ${nats.nodes[node]!.name} (stream leader: ${leader === nats.nodes[node]!.name}) at ${ackedCount} ACKs`);
    })();

    const started = Date.now();
    const runs: PanelRun[] = await Promise.all(
      Array.from({ length: PANELS }, (_, p) =>
        runFailoverPanel({
          account: accountOf(p),
          ports,
          first: p % 3,
          frames: FRAMES_PER_PANEL,
          intervalMs: 40,
          replyTimeoutMs: 4000,
          onAck: () => ackedCount++,
        }),
      ),
    );
    await killer;
    const sendSeconds = (Date.now() - started) / 1000;
    const acked: SentFrame[] = runs.flatMap((r) => r.acked);

    // ACK side: every frame was eventually ACKed, and the dead bridge's panels finished on another instance.
    expect(acked).toHaveLength(PANELS * FRAMES_PER_PANEL);
    const failovers = runs.reduce((n, r) => n + r.failovers, 0);
    expect(failovers).toBeGreaterThan(0);
    const movedPanels = runs.filter((_, p) => p % 3 === killedBridge);
    for (const run of movedPanels) expect(run.acked.at(-1)!.ackedBy).not.toBe(killedBridge);
    // Delivery: every ACKed frame's event reaches an emulator (delivery goes on while the panels send; failover included).
    const frameKey = (f: { account: string; n: number }) => `${f.account}/${f.n}`;
    const ackedKeys = new Set(acked.map(frameKey));
    const missing = () => {
      const seen = new Set(posts().map(frameKey));
      return [...ackedKeys].filter((k) => !seen.has(k));
    };
    await until(() => missing().length === 0, 75_000).catch(() => {
      throw new Error(`${missing().length} ACKed frames never posted, e.g. ${missing().slice(0, 5).join(', ')}`);
    });
    const deliveredSeconds = (Date.now() - started) / 1000;
    const all = posts();
    const eventIds = new Set(all.map((p) => p.eventId));
    expect(eventIds.size).toBeGreaterThanOrEqual(acked.length);
    // One frame, one event id: a frame resent to another instance, or an event redelivered, keeps its id.
    const idsOfFrame = new Map<string, Set<string>>();
    for (const p of all) idsOfFrame.set(frameKey(p), (idsOfFrame.get(frameKey(p)) ?? new Set()).add(p.eventId));
    expect([...idsOfFrame.values()].filter((ids) => ids.size > 1)).toEqual([]);

    // Per-account order of first arrivals is the panels' send order (each panel sent 1..FRAMES_PER_PANEL in turn).
    const firstArrivals = new Map<string, Post>();
    for (const p of all) if (!firstArrivals.has(p.eventId)) firstArrivals.set(p.eventId, p);
    for (let panel = 0; panel < PANELS; panel++) {
      const order = [...firstArrivals.values()].filter((p) => p.account === accountOf(panel)).map((p) => p.n);
      expect(order, `account ${accountOf(panel)}`).toEqual(Array.from({ length: FRAMES_PER_PANEL }, (_, i) => i + 1));
    }

    // One instance delivers at a time: the posts, in time order, change instance only at a lease takeover, and an
    // event posted twice (redelivered after a takeover) was posted by the two instances well apart, never together.
    const handovers = all.filter((p, i) => i > 0 && p.instance !== all[i - 1]!.instance).length;
    expect(handovers).toBeLessThanOrEqual(3);
    const takeover = all.find((p) => p.at >= killedAt && p.instance !== killedBridge);
    if (killedWhileDelivering) expect(handovers).toBeGreaterThanOrEqual(1);
    const postsOf = new Map<string, Post[]>();
    for (const p of all) postsOf.set(p.eventId, [...(postsOf.get(p.eventId) ?? []), p]);
    const redelivered = [...postsOf.values()].filter((ps) => ps.length > 1);
    for (const ps of redelivered) {
      for (const a of ps)
        for (const b of ps)
          if (a.instance !== b.instance) expect(Math.abs(a.at - b.at), `event ${a.eventId}`).toBeGreaterThanOrEqual(SIMULTANEOUS_MS);
    }
    // Work-queue retention: the stream is empty once everything is delivered.
    await until(async () => (await streamMessages()) === 0, 20_000);

    const byInstance = instances.map((instance, i) => `${instance.name} ${all.filter((p) => p.instance === i).length}`).join(', ');
    console.log(
      `cluster e2e: ${acked.length} frames ACKed in ${sendSeconds.toFixed(1)} s (${runs.reduce((n, r) => n + r.naks, 0)} NAKs, ` +
        `${failovers} panel failovers; ${kills.join(', ')}); ${eventIds.size} distinct events posted, ${all.length} posts ` +
        `(${byInstance}; ${redelivered.length} posted twice, ${handovers} delivery handovers, first post after the kill ` +
        `${takeover ? ((takeover.at - killedAt) / 1000).toFixed(1) : '-'} s later), all delivered after ${deliveredSeconds.toFixed(1)} s`,
    );
  }, 150_000);
});
