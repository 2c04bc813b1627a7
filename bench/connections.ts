/**
 * Memory figure (issue 7, "Benchmarks"): RSS of a bridge process holding 10,000 idle panel connections. The bridge
 * runs alone in a child process; panels (simulate-child.js, as many processes as the open-file limit needs) connect
 * in batches, send one encrypted frame each, wait for its ACK and then stay connected and silent.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulateReport } from '../src/cli/simulate.js';
import { startChild, type BenchChild } from './child.js';
import { benchConfigJson, BENCH_KEY_HEX, QUICK, round, withTempDir } from './setup.js';
import type { SimulateChildOptions } from './simulate-child.js';

export const RSS_TARGET_MB = 300;
const MB = 1024 * 1024;
/** File descriptors a process keeps for itself besides sockets (node, log, sink, pipes). */
const FD_RESERVE = 500;

interface Memory {
  type: 'memory';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  connections: number;
}

export interface ConnectionFigures {
  connections: number;
  openAtMeasurement: number;
  framesAcked: number;
  clientErrors: number;
  clientProcesses: number;
  ulimitN: number;
  rssBeforeMB: number;
  rssMB: number;
  heapUsedMB: number;
  perConnectionKB: number;
  note?: string;
  target: string;
  meetsTarget: boolean;
}

/** The soft open-file limit children inherit (`ulimit -n`); Infinity when unlimited or unknown. */
function openFileLimit(): number {
  try {
    const text = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Infinity : Number(text) || Infinity;
  } catch {
    return Infinity;
  }
}

async function memoryOf(bridge: BenchChild): Promise<Memory> {
  bridge.send({ type: 'memory' });
  return bridge.next<Memory>('memory', 10_000);
}

export async function benchConnections(): Promise<ConnectionFigures> {
  const wanted = QUICK ? 2_000 : 10_000;
  const limit = openFileLimit();
  const perProcess = Math.max(1, limit - FD_RESERVE);
  const connections = Math.min(wanted, perProcess);
  const notes: string[] = [];
  if (connections < wanted) notes.push(`ulimit -n ${limit} caps the bridge at ${connections} connections; raise it for ${wanted}`);
  const processes = Math.ceil(connections / perProcess);

  return withTempDir('connections', async (dir) => {
    const configFile = join(dir, 'bridge.json');
    await writeFile(configFile, JSON.stringify(benchConfigJson(dir, connections)));
    const bridge = startChild('./bridge-child.js', [configFile, join(dir, 'bridge.log')]);
    const clients: BenchChild[] = [];
    try {
      const { port } = await bridge.next<{ type: 'ready'; port: number }>('ready', 30_000);
      await sleep(500);
      const before = await memoryOf(bridge);
      let remaining = connections;
      for (let i = 0; i < processes; i++) {
        const panels = Math.min(perProcess, remaining);
        remaining -= panels;
        // The first frames spread over ~2 s (rate 0.5/s, one frame each): memory is measured here, not latency.
        const options: SimulateChildOptions = {
          to: `127.0.0.1:${port}`,
          panels,
          rate: 0.5,
          durationSeconds: 600,
          framesPerPanel: 1,
          connectBatch: 200,
          timeoutMs: 30_000,
          keyHex: BENCH_KEY_HEX,
        };
        const client = startChild('./simulate-child.js', [JSON.stringify(options)]);
        clients.push(client);
        await client.next('idle', 120_000).catch(() => notes.push(`client ${i + 1}: not every panel had its frame answered within 120 s`));
      }
      await sleep(1_000);
      let peak = await memoryOf(bridge);
      for (let i = 0; i < 3; i++) {
        await sleep(300);
        const sample = await memoryOf(bridge);
        if (sample.rss > peak.rss) peak = sample;
      }
      let acked = 0;
      let errors = 0;
      for (const client of clients) {
        client.send({ type: 'stop' });
        const { report } = await client.next<{ type: 'report'; report: SimulateReport }>('report', 30_000);
        acked += report.acked;
        errors += report.errors;
        await client.exited();
      }
      return {
        connections,
        openAtMeasurement: peak.connections,
        framesAcked: acked,
        clientErrors: errors,
        clientProcesses: processes,
        ulimitN: Number.isFinite(limit) ? limit : -1,
        rssBeforeMB: round(before.rss / MB, 1),
        rssMB: round(peak.rss / MB, 1),
        heapUsedMB: round(peak.heapUsed / MB, 1),
        perConnectionKB: round((peak.rss - before.rss) / 1024 / connections, 2),
        ...(notes.length ? { note: notes.join('; ') } : {}),
        target: `<= ${RSS_TARGET_MB} MB at ${wanted} connections`,
        meetsTarget: connections === wanted && peak.connections === wanted && peak.rss / MB <= RSS_TARGET_MB,
      };
    } finally {
      for (const client of clients) client.process.kill();
      bridge.send({ type: 'stop' });
      await Promise.race([bridge.exited(), sleep(10_000)]);
      bridge.process.kill();
    }
  });
}
