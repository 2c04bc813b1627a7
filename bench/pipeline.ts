/**
 * The receiving path without the sockets (issue 17): encrypted DC-09 frames handed straight to the bridge's
 * pipeline in this process (parse, decrypt, reply decision, map, duplicate filter, durable log, ACK built, metrics,
 * per-event log line), 100 frames in flight like 100 closed-loop panels. CPU time and bytes allocated per frame
 * move little with the machine's load (the socket phases' rates do), so this is the figure to compare a change
 * with. The socket writes, the framer and the load generator are left out; `receiver` measures those.
 */
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { buildRequest } from '../src/protocols/dc09/index.js';
import { logFor, type DeliveryHealth } from '../src/server/app/bridge.js';
import { BridgeMetrics } from '../src/server/ops/metrics.js';
import { Pipeline, type Peer } from '../src/server/pipeline/pipeline.js';
import { startProcessGauge } from './process-gauge.js';
import { PROFILE, startProfile } from './profile.js';
import { ACCOUNT_PREFIX, BENCH_KEY_HEX, benchConfigJson, benchLogger, QUICK, round, withTempDir } from './setup.js';

const PANELS = 100;
const IN_FLIGHT = PANELS;

export interface PipelineFigures {
  variant: string;
  frames: number;
  framesPerSecond: number;
  cpuMicrosPerFrame: number;
  /** The same for each quarter of the frames, in order (the warm-up's frames come before the first). */
  cpuMicrosPerFrameByQuarter: number[];
  allocatedBytesPerFrame: number;
  gcPauseMsP99: number;
}

/** `count` distinct encrypted SIA frames over PANELS accounts (alarm/restore over changing zones, as the simulator sends). */
function frames(count: number): Buffer[] {
  const key = Buffer.from(BENCH_KEY_HEX, 'hex');
  const timestamp = new Date();
  return Array.from({ length: count }, (_, n) => {
    const account = `${ACCOUNT_PREFIX}${String((n % PANELS) + 1).padStart(4, '0')}`;
    const k = Math.floor(n / PANELS);
    const data = `#${account}|Nri1/${k & 1 ? 'BR' : 'BA'}${((k >> 1) % 999) + 1}`;
    const sequence = String((k % 9999) + 1).padStart(4, '0');
    return buildRequest({ token: 'SIA-DCS', sequence, line: '0', account, data, timestamp, key });
  });
}

async function run(
  name: string,
  variant: string,
  configure: (json: Record<string, unknown>, dir: string) => Record<string, unknown>,
  count: number,
) {
  return withTempDir(`pipeline-${name}`, async (dir): Promise<PipelineFigures> => {
    const config = parseConfig(configure(benchConfigJson(dir, PANELS), dir), join(dir, 'bridge.json'));
    const logger = benchLogger(join(dir, 'bridge.log'), config.log.level);
    const metrics = new BridgeMetrics();
    const health: DeliveryHealth = { lastDelivery: null, lastToken: null };
    const { log, sink } = await logFor(config, logger, metrics, health);
    const pipeline = new Pipeline({ config, log, logger, metrics });
    const peers: Peer[] = Array.from({ length: IN_FLIGHT }, (_, i) => ({ address: '127.0.0.1', port: 40_000 + i, transport: 'tcp' }));
    const drive = async (batch: Buffer[]) => {
      let next = 0;
      await Promise.all(
        peers.map(async (peer) => {
          for (let at = next++; at < batch.length; at = next++) {
            const reply = await pipeline.handleFrame(batch[at]!, peer);
            if (reply.kind !== 'ACK') throw new Error(`frame ${at} answered ${reply.kind}: ${reply.reason}`);
          }
        }),
      );
    };
    const all = frames(count + count / 4);
    await drive(all.slice(count)); // warm-up: the JIT and the file's first writes
    const profile = PROFILE ? await startProfile(PROFILE, `pipeline-${name}-${Date.now()}`) : null;
    const gauge = startProcessGauge();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // In quarters, each timed: per-frame work that grows with what the bridge remembers shows as a later quarter
    // dearer than the first (in a full run the last quarter is past the duplicate filter's 100,000-key cap).
    const byQuarter: number[] = [];
    for (let q = 0; q < 4; q++) {
      const quarterBefore = process.cpuUsage();
      await drive(all.slice((q * count) / 4, ((q + 1) * count) / 4));
      const used = process.cpuUsage(quarterBefore);
      byQuarter.push(round((used.user + used.system) / (count / 4), 1));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const figures = gauge.stop();
    await profile?.stop();
    await log.close();
    await sink.close();
    logger.flush();
    return {
      variant,
      frames: count,
      framesPerSecond: Math.round(count / seconds),
      cpuMicrosPerFrame: round((cpu.user + cpu.system) / count, 1),
      cpuMicrosPerFrameByQuarter: byQuarter,
      allocatedBytesPerFrame: Math.round(figures.allocatedBytes / count),
      gcPauseMsP99: figures.gcPauseMs.p99,
    };
  });
}

/** The file sink and the outbox (fsync before every ACK), as in the receiver phases. */
export async function benchPipeline(): Promise<Record<string, PipelineFigures>> {
  const count = QUICK ? 20_000 : 100_000;
  return {
    fileSink: await run('fileSink', 'file sink, log info', (json) => json, count),
    journal: await run(
      'journal',
      'outbox (fsync before every ACK), log info',
      (json, dir) => ({ ...json, outbox: { dir: join(dir, 'outbox') } }),
      count,
    ),
  };
}
