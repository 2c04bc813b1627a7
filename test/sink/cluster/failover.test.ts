/**
 * Several bridges on one NATS (docs/cluster.md §5): real `alarm-bridge serve` processes, each with its own file
 * sink, so every delivered event shows which instance delivered it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { until } from '../../e2e/api-harness.js';
import { spawnBridge, type BridgeProcess } from '../../e2e/bridge-process.js';
import { readSinkEvents, TcpPanel, text } from '../../server/harness.js';
import { natsForFile } from './helpers.js';

const nats = natsForFile();
let bridges: BridgeProcess[] = [];
const dirs: string[] = [];
let streamNo = 0;
afterEach(async () => {
  await Promise.allSettled(bridges.map((b) => b.stop('SIGKILL')));
  bridges = [];
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const ACCOUNTS = ['1001', '1002', '1003', '1004'];

interface Instance {
  name: string;
  process: BridgeProcess;
  port: number;
  events(): Promise<Array<{ event_id: string; location_id: string; payload: { rawFrame?: string } }>>;
}

async function startInstance(name: string, stream: string): Promise<Instance> {
  const dir = await mkdtemp(join(tmpdir(), `cluster-${name}-`));
  dirs.push(dir);
  const config = {
    listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    accounts: Object.fromEntries(ACCOUNTS.map((a) => [a, { locationId: `LOC-${a}`, cameraId: 'cam' }])),
    cluster: { nats: { servers: nats().urls }, stream, replicas: 1, instance: name },
    sink: { type: 'file', path: 'events.ndjson' },
    log: { level: 'info' },
  };
  await writeFile(join(dir, 'bridge.json'), JSON.stringify(config));
  const process = spawnBridge(['serve', '--config', join(dir, 'bridge.json')], dir);
  bridges.push(process);
  const port = Number(/"port":(\d+)/.exec(await process.logged(/"msg":"listening"/))![1]);
  return { name, process, port, events: () => readSinkEvents(join(dir, 'events.ndjson')) };
}

const delivering = (i: Instance) => i.process.lines.some((l) => l.includes('this instance delivers'));

/** Sends `count` frames per account, alternating between the instances' ports; resolves with the zones in send order per account. */
async function sendFrames(to: Instance[], from: number, count: number): Promise<void> {
  const panels = await Promise.all(to.map((i) => TcpPanel.open(i.port)));
  let sent = 0;
  for (let n = from; n < from + count; n++) {
    for (const account of ACCOUNTS) {
      const panel = panels[sent % panels.length]!;
      const before = (await panel.waitForReplies(0)).length;
      panel.write(
        buildRequest({
          token: 'SIA-DCS',
          sequence: String(n).padStart(4, '0'),
          line: '0',
          account,
          data: `#${account}|NBA${n}`,
          timestamp: new Date(),
        }),
      );
      const replies = await panel.waitForReplies(before + 1);
      expect(text(replies[before]!)).toContain('"ACK"');
      sent++;
    }
  }
  for (const panel of panels) panel.end();
}

/** The zones of an account's delivered events, in delivery order. */
const zonesOf = (events: Awaited<ReturnType<Instance['events']>>, account: string) =>
  events.filter((e) => e.location_id === `LOC-${account}`).map((e) => Number(/NBA(\d+)/.exec(e.payload.rawFrame ?? '')?.[1]));

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('cluster delivery across instances', () => {
  it('only the lease holder delivers, per account in order; after SIGKILL the other delivers the rest within 15 s', async () => {
    const stream = `FAILOVER_${++streamNo}`;
    const a = await startInstance('bridge-a', stream);
    await until(() => delivering(a), 10_000);
    const b = await startInstance('bridge-b', stream);

    await sendFrames([a, b], 1, 10);
    await until(async () => (await a.events()).length === 40, 10_000);
    for (const account of ACCOUNTS) expect(zonesOf(await a.events(), account)).toEqual(range(1, 10));
    expect(await b.events()).toEqual([]);
    expect(delivering(b)).toBe(false);

    const killed = Date.now();
    await a.process.stop('SIGKILL');
    await sendFrames([b], 11, 5);
    await until(async () => (await b.events()).length === 20, 15_000);
    expect(Date.now() - killed).toBeLessThan(15_000);
    const delivered = [...(await a.events()), ...(await b.events())];
    expect(new Set(delivered.map((e) => e.event_id)).size).toBe(60);
    for (const account of ACCOUNTS) expect(zonesOf(await b.events(), account)).toEqual(range(11, 5));
  }, 60_000);

  it('a stopped delivering instance hands the lease over at once', async () => {
    const stream = `FAILOVER_${++streamNo}`;
    const a = await startInstance('bridge-a', stream);
    await until(() => delivering(a), 10_000);
    const b = await startInstance('bridge-b', stream);
    expect(await a.process.stop('SIGTERM')).toBe(0);
    const stopped = Date.now();
    // Well under the 9 s a standby waits when the holder dies without releasing.
    await until(() => delivering(b), 5_000);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    await sendFrames([b], 1, 2);
    await until(async () => (await b.events()).length === 8, 5_000);
  }, 60_000);
});
