/**
 * UDP flood figure (issue 15, "Hardening"): TCP panels' ACK latency while UDP datagrams arrive at full speed.
 * A bridge in this process (DC-09 over TCP and UDP on 127.0.0.1, default receiver settings); TCP panels
 * (`simulate-child.js`, encrypted frames at a steady rate) and a UDP flooder (`udp-flood-child.js`: junk, 60 KB
 * datagrams of tiny frames, frames the bridge NAKs, from several source addresses) in two child processes.
 * The same TCP load runs once without the flood for comparison.
 */
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import type { SimulateReport } from '../src/cli/simulate.js';
import { startBridge } from '../src/server/app/bridge.js';
import { startChild } from './child.js';
import { benchConfigJson, benchLogger, BENCH_KEY_HEX, QUICK, round, withTempDir } from './setup.js';
import type { SimulateChildOptions } from './simulate-child.js';
import type { UdpFloodOptions, UdpFloodReport } from './udp-flood-child.js';

export const TCP_P99_TARGET_MS = 20;

const PANELS = 200;
const RATE_PER_PANEL = 5;
const SECONDS = QUICK ? 3 : 6;
const FLOOD_SOURCES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
/** `rejections` reasons the flood should land in, reported as the bridge counted them. */
const FLOOD_REASONS = ['udp-rate-limited', 'udp-several-frames', 'udp-bytes-outside-frame', 'not-a-frame', 'udp-reply-larger-than-request'];

export interface UdpFloodFigures {
  tcp: {
    panels: number;
    ratePerPanel: number;
    frames: number;
    acked: number;
    naks: number;
    errors: number;
    latencyMs: SimulateReport['latencyMs'];
  };
  tcpWithoutFlood: { latencyMs: SimulateReport['latencyMs'] };
  flood: {
    sources: number;
    datagrams: number;
    datagramsPerSecond: number;
    megabytes: number;
    replies: number;
    replyBytes: number;
    replyBytesPerByteSent: number;
  };
  bridgeRejections: Record<string, number>;
  target: string;
  meetsTarget: boolean;
}

async function run(flooded: boolean): Promise<{ tcp: SimulateReport; flood: UdpFloodReport | null; rejections: Record<string, number> }> {
  return withTempDir('udp-flood', async (dir) => {
    const json = {
      ...benchConfigJson(dir, PANELS),
      listeners: [
        { protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 },
        { protocol: 'dc09', transport: 'udp', host: '127.0.0.1', port: 0 },
      ],
    };
    const config = parseConfig(json, join(dir, 'bridge.json'));
    const bridge = await startBridge(config, { logger: benchLogger(join(dir, 'bridge.log'), config.log.level) });
    try {
      const panels: SimulateChildOptions = {
        to: `127.0.0.1:${bridge.port('tcp')}`,
        panels: PANELS,
        rate: RATE_PER_PANEL,
        durationSeconds: SECONDS,
        warmupSeconds: 1,
        keyHex: BENCH_KEY_HEX,
      };
      const tcp = startChild('./simulate-child.js', [JSON.stringify(panels)]);
      await tcp.next('connected');
      const flooder = flooded
        ? startChild('./udp-flood-child.js', [
            JSON.stringify({ port: bridge.port('udp'), sources: FLOOD_SOURCES, durationSeconds: SECONDS } satisfies UdpFloodOptions),
          ])
        : null;
      const { report } = await tcp.next<{ type: 'report'; report: SimulateReport }>('report', (SECONDS + 60) * 1000);
      const flood = flooder ? (await flooder.next<{ type: 'report'; report: UdpFloodReport }>('report', 60_000)).report : null;
      await Promise.all([tcp.exited(), flooder?.exited()]);
      const counted = (await bridge.metrics.rejections.get()).values;
      const rejections = Object.fromEntries(
        FLOOD_REASONS.map((reason) => [reason, counted.find((v) => v.labels.reason === reason)?.value ?? 0]),
      );
      return { tcp: report, flood, rejections };
    } finally {
      await bridge.stop();
    }
  });
}

export async function benchUdpFlood(): Promise<UdpFloodFigures> {
  const quiet = await run(false);
  const { tcp, flood, rejections } = await run(true);
  const f = flood!;
  return {
    tcp: {
      panels: PANELS,
      ratePerPanel: RATE_PER_PANEL,
      frames: tcp.frames,
      acked: tcp.acked,
      naks: tcp.naks,
      errors: tcp.errors,
      latencyMs: tcp.latencyMs,
    },
    tcpWithoutFlood: { latencyMs: quiet.tcp.latencyMs },
    flood: {
      sources: FLOOD_SOURCES.length,
      datagrams: f.datagrams,
      datagramsPerSecond: Math.round(f.datagrams / f.seconds),
      megabytes: round(f.bytes / 1e6, 1),
      replies: f.replies,
      replyBytes: f.replyBytes,
      replyBytesPerByteSent: round(f.replyBytes / Math.max(1, f.bytes), 6),
    },
    bridgeRejections: rejections,
    target: `TCP ACK p99 <= ${TCP_P99_TARGET_MS} ms under the flood`,
    meetsTarget: tcp.errors === 0 && tcp.naks === 0 && tcp.acked > 0 && tcp.latencyMs.p99 <= TCP_P99_TARGET_MS,
  };
}
