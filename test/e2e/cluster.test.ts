/**
 * Cluster mode end to end (issue #16, docs/cluster.md §11), every part a real process on loopback: three nats-server
 * nodes (R3 streams) and three bridge processes, each posting to its own Partner API emulator so the test knows
 * which instance delivered what and when. Panels with three receiver addresses send timestamped frames; mid-run one
 * bridge and one NATS node are SIGKILLed and the dead bridge's panels move on as panels with backup addresses do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Stream state read with the NATS client, as an operator's tool would. */
async function streamMessages(): Promise<number> {
  const [{ connect }, { jetstreamManager }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  const nc = await connect({ servers: nats.urls.filter((_, i) => nats.nodes[i]!.process?.exitCode === null) });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(STREAM)).state.messages;
  } finally {
    await nc.close();
  }
}

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
    const ports = () => instances.map((i) => i.tcpPort);
    const killer = (async () => {
      await until(() => ackedCount >= 600, 60_000);
      killedBridge = deliveringIndex();
      await instances[killedBridge]!.process!.stop('SIGKILL');
      kills.push(`${instances[killedBridge]!.name} at ${ackedCount} ACKs`);
      await until(() => ackedCount >= 1200, 60_000);
      await nats.kill(1);
      kills.push(`nats n2 at ${ackedCount} ACKs`);
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

    // ACK side: every frame was eventually ACKed, the dead bridge's panels moved on, and the ones it had are elsewhere.
    expect(acked).toHaveLength(PANELS * FRAMES_PER_PANEL);
    const failovers = runs.reduce((n, r) => n + r.failovers, 0);
    expect(failovers).toBeGreaterThan(0);
    const movedPanels = runs.filter((_, p) => p % 3 === killedBridge);
    for (const run of movedPanels) expect(run.acked.at(-1)!.ackedBy).not.toBe(killedBridge);
    // The stream stored each ACKed frame's event once (message id = event_id), whichever instance took it.
    const stored = await streamMessages();
    expect(stored).toBe(acked.length);

    console.log(
      `cluster e2e: ${acked.length} frames ACKed in ${sendSeconds.toFixed(1)} s, ${runs.reduce((n, r) => n + r.naks, 0)} NAKs, ` +
        `${failovers} failovers, kills: ${kills.join('; ')}, stream messages ${stored}, posts ${posts().length}`,
    );
  }, 120_000);
});
