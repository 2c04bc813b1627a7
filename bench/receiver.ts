/**
 * Receiver figures (issue 4, "Benchmark"): a bridge in this process on 127.0.0.1, the load generator
 * (`simulate-child.js`) in a child process so the two use separate cores.
 * (a) throughput: 100 kept-open panels, closed loop, AES-encrypted frames → frames/s, p50/p99 ACK latency;
 * (b) latency: 1,000 kept-open panels, one encrypted frame per second each → p50/p99 ACK latency.
 *
 * A `ReceiverVariant` says how the bridge accepts events. The file sink is the baseline; the durable outbox
 * (issue 6) adds its variant — "every ACK after fsync" — through `configure` without touching the phases.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import type { SimulateReport } from '../src/cli/simulate.js';
import { startBridge } from '../src/server/app/bridge.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BridgeConfig } from '../src/config/types.js';
import type { Logger } from '../src/log.js';
import { createFileSink } from '../src/sink/file-sink.js';
import { outboxDelivery } from '../src/sink/open-log.js';
import { openOutbox, type Outbox } from '../src/sink/outbox/index.js';
import type { Sink } from '../src/sink/types.js';
import { BACKLOG_EVENTS, fillBacklog } from './backlog.js';
import { gaugeChild, startChild, stopChild } from './child.js';
import { measureDiskSync, type DiskSyncFigures } from './disk-sync.js';
import { measureMachineSpeed } from './machine-speed.js';
import { spread, startProcessGauge, type ProcessFigures } from './process-gauge.js';
import { PROFILE, startProfile } from './profile.js';
import { benchConfigJson, benchLogger, BENCH_KEY_HEX, QUICK, round, withTempDir } from './setup.js';
import type { SimulateChildOptions } from './simulate-child.js';

export interface ReceiverVariant {
  /** Key of the figures in the summary, e.g. `fileSink`, `journal`. */
  name: string;
  description: string;
  /** Absolute goals, and goals relative to the limit's figures of the same run. */
  targets: { throughputFramesPerSecond?: number; throughputRatioToLimit?: number; latencyP99Ms?: number; latencyP99OverLimitMs?: number };
  /** The do-nothing ACK server (ack-limit-child.ts) instead of a bridge. */
  limit?: boolean;
  /** Events journaled before the bridge starts; the outbox starts delivering them when the measured window opens. */
  backlog?: number;
  /** Measures this open-loop phase only, instead of the closed-loop runs and LATENCY_PHASE. */
  latencyOnly?: Phase;
  /** Every ACK waits for an fdatasync: each phase first times the disk's own write + fdatasync round (disk-sync.ts). */
  durable?: boolean;
  /** Edits the bridge configuration JSON (e.g. adds `"outbox": { "dir": join(dir, "outbox") }`). */
  configure?(json: Record<string, unknown>, dir: string): Record<string, unknown>;
  /** Starts the answering processes itself (e.g. several bridges in their own processes), instead of one bridge here. */
  server?(phase: Phase, dir: string): Promise<PhaseServer>;
}

/** The machine's limit: a server that answers every frame with a fixed ACK and does nothing else (issue 17). */
export const LIMIT_VARIANT: ReceiverVariant = {
  name: 'limit',
  description:
    'do-nothing ACK server (fixed valid encrypted ACK per frame, no decoding, no sink, no log): the limit of this machine and load generator',
  targets: {},
  limit: true,
};

/** Baseline: every accepted event appended to the file sink before its ACK (issue 4 targets). */
export const FILE_SINK_VARIANT: ReceiverVariant = {
  name: 'fileSink',
  description: 'file sink (append before ACK), log level info (one line per event, asynchronous writes as in serve), AES-128 frames',
  targets: { throughputFramesPerSecond: 10_000, latencyP99Ms: 5, latencyP99OverLimitMs: 1 },
};

/**
 * Diagnostic: the baseline with the bridge logging at warn (no info line per event), to show what the per-event
 * log lines cost. Same targets.
 */
export const FILE_SINK_WARN_LOG_VARIANT: ReceiverVariant = {
  name: 'fileSinkWarnLog',
  description: 'file sink (append before ACK), log level warn, AES-128 frames',
  targets: FILE_SINK_VARIANT.targets,
  configure: (json) => ({ ...json, log: { level: 'warn' } }),
};

/**
 * Issue 6: the durable outbox in front of the file sink — every ACK after the journal's fsync (group commit).
 * Targets (issue 17): ≥ 0.7× the limit's frames/s at 100 closed-loop panels, p99 ≤ 3 ms at 1,000 panels × 1 frame/s.
 */
export const JOURNAL_VARIANT: ReceiverVariant = {
  name: 'journal',
  description: 'outbox journal (fsync before every ACK, group commit) in front of the file sink, log level info, AES-128 frames',
  targets: { throughputFramesPerSecond: 10_000, throughputRatioToLimit: 0.7, latencyP99Ms: 3 },
  durable: true,
  configure: (json, dir) => ({ ...json, outbox: { dir: join(dir, 'outbox'), ackAfter: 'persisted' } }),
};

/** Group commit at work (journal variants): records written, write+fdatasync rounds, and their ratio. */
export interface JournalFigures {
  records: number;
  fsyncs: number;
  recordsPerFsync: number;
}

export interface PhaseFigures {
  panels: number;
  ratePerPanel: number | 'closed loop';
  seconds: number;
  frames: number;
  acked: number;
  naks: number;
  errors: number;
  eventsWritten: number;
  framesPerSecond: number;
  latencyMs: SimulateReport['latencyMs'];
  /** The answering process (bridge or limit): CPU, share of the wall time its event loop was busy, that time per frame. */
  serverCpuPercent: number;
  serverLoopBusyPercent: number;
  loopBusyMicrosPerFrame: number;
  /** CPU time of the answering process per frame, all its threads (the event loop's share is not CPU alone: a thread
   * that waits for a core while busy counts in loopBusyMicrosPerFrame). */
  serverCpuMicrosPerFrame: number;
  loadGeneratorCpuPercent: number;
  /** Bridge variants: this phase's throughput as a share of the limit's, and the limit's latencies. */
  vsLimit?: { framesPerSecondRatio: number; limitFramesPerSecond: number; limitLatencyMs: SimulateReport['latencyMs'] };
  allocatedBytesPerFrame: number;
  gc: { count: number; pauseMs: ProcessFigures['gcPauseMs']; byKind: ProcessFigures['gcPausesByKind'] };
  loopDelayMs: ProcessFigures['loopDelayMs'];
  /** Cluster variants: how long each accepted frame waited for JetStream's acknowledgements (docs/cluster.md §3). */
  storeWaitMs?: { p50: number; p99: number; max: number };
  /** Journal variants only. */
  journal?: JournalFigures;
  /** Durable variants only: the disk's write + fdatasync round just before this phase (docs/performance.md §9). */
  diskSync?: DiskSyncFigures;
  /**
   * µs per frame of a fixed decode-and-ACK work in the bench process just before and just after the phase
   * (machine-speed.ts): the host's speed at the time, to tell a slower minute from slower code.
   */
  machineSpeedMicrosPerFrame: { before: number; after: number };
  outboxDepth?: PhaseRun['outboxDepth'];
  target: string;
  meetsTarget: boolean;
}

export interface Phase {
  panels: number;
  rate: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export const THROUGHPUT_PHASE: Phase = QUICK
  ? { panels: 100, rate: 0, durationSeconds: 3, warmupSeconds: 0.5 }
  : { panels: 100, rate: 0, durationSeconds: 11, warmupSeconds: 1 };
export const LATENCY_PHASE: Phase = QUICK
  ? { panels: 1000, rate: 1, durationSeconds: 4, warmupSeconds: 1 }
  : { panels: 1000, rate: 1, durationSeconds: 17, warmupSeconds: 2 };

/**
 * Issue 17: the outbox variant while a backlog of 50,000 journaled events drains to the file sink: journaled before
 * the bridge starts, delivered from the moment the measured window opens (the outbox is opened here with
 * `start: false` and handed to the bridge). Open loop only (p99 ≤ 5 ms); `outboxDepth` shows the drain.
 */
export const JOURNAL_BACKLOG_VARIANT: ReceiverVariant = {
  name: 'journalDrainingBacklog',
  description: `outbox journal as in "journal", with a backlog of ${BACKLOG_EVENTS} journaled events that starts draining to the file sink when the measured window opens`,
  targets: { latencyP99Ms: 5 },
  durable: true,
  configure: JOURNAL_VARIANT.configure!,
  backlog: BACKLOG_EVENTS,
  latencyOnly: LATENCY_PHASE,
};

async function countLines(path: string): Promise<number> {
  let lines = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      for (let at = (chunk as Buffer).indexOf(10); at >= 0; at = (chunk as Buffer).indexOf(10, at + 1)) lines++;
    }
  } catch {
    return 0;
  }
  return lines;
}

/** What a phase drives: the bridge of a variant in this process, the ACK-limit child, or a variant's own servers. */
export interface PhaseServer {
  port: number;
  /** Several receivers: the load generator spreads its panels over them (else `port` alone). */
  ports?: number[];
  /** Called when the measured window opens. */
  windowOpens(): void;
  /** Measures the process that answers the frames (this one for the bridge) until `stop` is called. */
  gauge(): Promise<{ stop(): Promise<ProcessFigures> }>;
  journal(): JournalFigures | null;
  /** Events the outbox still holds (journaled, not yet delivered); null without an outbox. */
  pending(): number | null;
  /** Cluster mode in this process: the store waits (ms) of the frames accepted since the window opened. */
  storeWaits?(): number[];
  stop(): Promise<void>;
}

export async function startBridgeServer(variant: ReceiverVariant, phase: Phase, dir: string): Promise<PhaseServer> {
  let json = benchConfigJson(dir, phase.panels);
  if (variant.configure) json = variant.configure(json, dir);
  const config = parseConfig(json, join(dir, 'bridge.json'));
  const logger = benchLogger(join(dir, 'bridge.log'), config.log.level);
  const held = variant.backlog && config.outbox ? await heldBacklog(config, variant.backlog, dir, logger) : null;
  const bridge = await startBridge(config, held ? { logger, log: held.outbox } : { logger });
  const outbox = held?.outbox ?? bridge.outbox;
  let storeWaits: number[] | null = null;
  bridge.cluster?.onPublished((seconds) => storeWaits?.push(seconds * 1000));
  return {
    port: bridge.port('tcp'),
    windowOpens: () => {
      held?.outbox.start(held.sink);
      if (bridge.cluster) storeWaits = [];
    },
    ...(bridge.cluster ? { storeWaits: () => storeWaits ?? [] } : {}),
    gauge: async () => {
      const profile = PROFILE ? await startProfile(PROFILE, `${variant.name}-${phase.rate === 0 ? 'closed' : 'open'}-${Date.now()}`) : null;
      const gauge = startProcessGauge();
      return {
        stop: async () => {
          const figures = gauge.stop();
          await profile?.stop();
          return figures;
        },
      };
    },
    journal: () => {
      const stats = outbox?.journalStats();
      return stats
        ? { records: stats.records, fsyncs: stats.syncs, recordsPerFsync: round(stats.records / Math.max(1, stats.syncs), 1) }
        : null;
    },
    pending: () => outbox?.status().depth ?? null,
    stop: async () => {
      await bridge.stop();
      await held?.outbox.close();
      await held?.sink.close();
    },
  };
}

/** The outbox of a backlog variant, `backlog` events journaled and not delivering yet, and the sink it will use. */
async function heldBacklog(config: BridgeConfig, backlog: number, dir: string, logger: Logger): Promise<{ outbox: Outbox; sink: Sink }> {
  const outboxConfig = config.outbox!;
  await fillBacklog(outboxConfig, join(dir, 'backlog.log'), THROUGHPUT_PHASE.panels, backlog);
  if (config.sink.type !== 'file') throw new TypeError('a backlog variant drains to the file sink');
  const sink = createFileSink(config.sink.path);
  const outbox = await openOutbox(outboxConfig, { logger, start: false, ...outboxDelivery(config) });
  return { outbox, sink };
}

async function startLimitServer(): Promise<PhaseServer> {
  const child = startChild('./ack-limit-child.js');
  const { port } = await child.next<{ type: 'ready'; port: number }>('ready', 30_000);
  return {
    port,
    gauge: () => gaugeChild(child),
    windowOpens: () => undefined,
    journal: () => null,
    pending: () => null,
    stop: () => stopChild(child),
  };
}

interface PhaseRun {
  report: SimulateReport;
  eventsWritten: number;
  server: ProcessFigures;
  /** Bytes allocated on the answering process's heap per frame answered in the measured window. */
  allocatedBytesPerFrame: number;
  cpuMicrosPerFrame: number;
  diskSync: DiskSyncFigures | null;
  machineSpeed: { before: number; after: number };
  journal: JournalFigures | null;
  /**
   * Outbox depth at the start and the end of the measured window (events still to deliver); with a backlog, seconds
   * from the window's opening until it was drained (null: not within the window).
   */
  outboxDepth: { atStart: number; atEnd: number; drainedAfterSeconds?: number | null } | null;
  storeWaitMs: PhaseFigures['storeWaitMs'] | null;
}

/**
 * The bridge variants run in this process one after the other: what earlier phases left on the heap (a drained
 * backlog, closed-loop garbage) would be collected during the next phase's measured window and count as its pauses.
 * Each phase therefore starts from a fully collected heap, as a freshly started bridge does (`npm run bench` runs
 * node with `--expose-gc`; without it this does nothing).
 */
function collectBeforePhase(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** Runs one phase against a fresh server of the variant; returns the simulator's report and what the server did. */
async function runPhase(variant: ReceiverVariant, phase: Phase): Promise<PhaseRun> {
  collectBeforePhase();
  return withTempDir(`receiver-${variant.name}`, async (dir) => {
    // Before the server starts, so that nothing else of this process writes meanwhile.
    const diskSync = variant.durable ? await measureDiskSync(dir, QUICK ? 200 : 1000) : null;
    const speedBefore = measureMachineSpeed();
    const server = variant.server
      ? await variant.server(phase, dir)
      : variant.limit
        ? await startLimitServer()
        : await startBridgeServer(variant, phase, dir);
    try {
      const options: SimulateChildOptions = {
        to: (server.ports ?? [server.port]).map((port) => `127.0.0.1:${port}`),
        panels: phase.panels,
        rate: phase.rate,
        durationSeconds: phase.durationSeconds,
        warmupSeconds: phase.warmupSeconds,
        keyHex: BENCH_KEY_HEX,
      };
      const child = startChild('./simulate-child.js', [JSON.stringify(options)]);
      await child.next('connected');
      // The gauge covers the simulator's measured window (after its warm-up), so per-frame figures divide by its frames.
      await sleep(phase.warmupSeconds * 1000);
      server.windowOpens();
      const depthAtStart = server.pending();
      const windowOpened = performance.now();
      let drainedAfterSeconds: number | null = null;
      // A backlog counts as drained once fewer events wait than the panels send in a second.
      const drainWatch =
        variant.backlog && depthAtStart !== null
          ? setInterval(() => {
              if (drainedAfterSeconds === null && (server.pending() ?? 0) < phase.panels * Math.max(1, phase.rate)) {
                drainedAfterSeconds = round((performance.now() - windowOpened) / 1000, 2);
              }
            }, 50)
          : null;
      const gauge = await server.gauge();
      const wallBefore = performance.now();
      const { report } = await child.next<{ type: 'report'; report: SimulateReport }>('report', (phase.durationSeconds + 60) * 1000);
      const figures = await gauge.stop();
      const depthAtEnd = server.pending();
      if (drainWatch) clearInterval(drainWatch);
      const storeWaits = server.storeWaits?.();
      const wallSeconds = (performance.now() - wallBefore) / 1000;
      await child.exited();
      const journal = server.journal();
      await server.stop();
      const machineSpeed = { before: speedBefore, after: measureMachineSpeed() };
      const framesInWindow = report.framesPerSecond * wallSeconds;
      return {
        report,
        eventsWritten: variant.limit ? 0 : await countLines(join(dir, 'events.ndjson')),
        server: figures,
        allocatedBytesPerFrame: framesInWindow > 0 ? Math.round(figures.allocatedBytes / framesInWindow) : 0,
        cpuMicrosPerFrame: framesInWindow > 0 ? Math.round(figures.cpuMicros / framesInWindow) : 0,
        diskSync,
        machineSpeed,
        journal,
        outboxDepth:
          depthAtStart === null || depthAtEnd === null
            ? null
            : { atStart: depthAtStart, atEnd: depthAtEnd, ...(variant.backlog ? { drainedAfterSeconds } : {}) },
        storeWaitMs: storeWaits ? spread(storeWaits) : null,
      };
    } finally {
      await server.stop();
    }
  });
}

/** The limit's figures a bridge phase is compared with. */
interface LimitPhase {
  framesPerSecond: number;
  latencyMs: SimulateReport['latencyMs'];
}

function ratio(value: number, limit: number): number {
  return limit > 0 ? round(value / limit, 2) : 0;
}

function figures(phase: Phase, run: PhaseRun, limit: LimitPhase | null, target: string, meets: boolean): PhaseFigures {
  const r = run.report;
  return {
    panels: phase.panels,
    ratePerPanel: phase.rate === 0 ? 'closed loop' : phase.rate,
    seconds: r.durationSeconds,
    frames: r.frames,
    acked: r.acked,
    naks: r.naks,
    errors: r.errors,
    eventsWritten: run.eventsWritten,
    framesPerSecond: r.framesPerSecond,
    latencyMs: r.latencyMs,
    ...(limit
      ? {
          vsLimit: {
            framesPerSecondRatio: ratio(r.framesPerSecond, limit.framesPerSecond),
            limitFramesPerSecond: limit.framesPerSecond,
            limitLatencyMs: limit.latencyMs,
          },
        }
      : {}),
    serverCpuPercent: run.server.cpuPercent,
    serverLoopBusyPercent: run.server.loopBusyPercent,
    // Thread time per frame: the CPU the receiving thread spends on one frame, which caps throughput.
    loopBusyMicrosPerFrame: r.framesPerSecond > 0 ? Math.round(((run.server.loopBusyPercent / 100) * 1e6) / r.framesPerSecond) : 0,
    serverCpuMicrosPerFrame: run.cpuMicrosPerFrame,
    allocatedBytesPerFrame: run.allocatedBytesPerFrame,
    gc: { count: run.server.gcCount, pauseMs: run.server.gcPauseMs, byKind: run.server.gcPausesByKind },
    loopDelayMs: run.server.loopDelayMs,
    ...(run.storeWaitMs ? { storeWaitMs: run.storeWaitMs } : {}),
    ...(run.journal ? { journal: run.journal } : {}),
    ...(run.diskSync ? { diskSync: run.diskSync } : {}),
    machineSpeedMicrosPerFrame: run.machineSpeed,
    ...(run.outboxDepth ? { outboxDepth: run.outboxDepth } : {}),
    loadGeneratorCpuPercent: r.cpuPercent,
    target,
    meetsTarget: r.errors === 0 && r.naks === 0 && r.frames > 0 && meets,
  };
}

export interface ReceiverFigures {
  variant: string;
  /** The median of the throughput runs, and every run's rate (absent for a latency-only variant). */
  throughput?: PhaseFigures & { framesPerSecondOfEachRun: number[] };
  latency: PhaseFigures;
}

/**
 * Closed-loop throughput on this shared 2-core machine moves by ±20 % from one minute to the next, so the phase
 * runs this many times on fresh servers and the run with the median rate is reported, with every run's rate.
 */
const THROUGHPUT_RUNS = QUICK ? 1 : 3;

function throughputGoal(variant: ReceiverVariant, fps: number, limit: LimitPhase | null): { text: string; meets: boolean } {
  const { throughputFramesPerSecond: min, throughputRatioToLimit: share } = variant.targets;
  const parts: string[] = [];
  let meets = true;
  if (min !== undefined) {
    parts.push(`>= ${min} frames/s`);
    meets &&= fps >= min;
  }
  if (share !== undefined && limit) {
    parts.push(`>= ${share}x the limit's frames/s`);
    meets &&= fps >= share * limit.framesPerSecond;
  }
  return { text: parts.join(' and ') || (variant.limit ? 'none (the limit)' : 'none'), meets };
}

function latencyGoal(variant: ReceiverVariant, p99: number, limit: LimitPhase | null): { text: string; meets: boolean } {
  const { latencyP99Ms: max, latencyP99OverLimitMs: over } = variant.targets;
  const parts: string[] = [];
  let meets = true;
  if (max !== undefined) {
    parts.push(`p99 <= ${max} ms`);
    meets &&= p99 <= max;
  }
  if (over !== undefined && limit) {
    parts.push(`p99 within ${over} ms of the limit's`);
    meets &&= p99 <= limit.latencyMs.p99 + over;
  }
  return { text: parts.join(' and ') || (variant.limit ? 'none (the limit)' : 'none'), meets };
}

/** One variant's throughput (median of the runs) and latency phases, compared with the limit's when given. */
export async function benchReceiver(variant: ReceiverVariant, limit: ReceiverFigures | null = null): Promise<ReceiverFigures> {
  const runs: PhaseRun[] = [];
  for (let i = 0; i < (variant.latencyOnly ? 0 : THROUGHPUT_RUNS); i++) runs.push(await runPhase(variant, THROUGHPUT_PHASE));
  const byRate = [...runs].sort((x, y) => x.report.framesPerSecond - y.report.framesPerSecond);
  const a = byRate[Math.floor(byRate.length / 2)];
  const latencyPhase = variant.latencyOnly ?? LATENCY_PHASE;
  const b = await runPhase(variant, latencyPhase);
  const latency = latencyGoal(variant, b.report.latencyMs.p99, limit?.latency ?? null);
  const throughput = a ? throughputGoal(variant, a.report.framesPerSecond, limit?.throughput ?? null) : null;
  return {
    variant: variant.description,
    ...(a && throughput
      ? {
          throughput: {
            ...figures(THROUGHPUT_PHASE, a, limit?.throughput ?? null, throughput.text, throughput.meets),
            framesPerSecondOfEachRun: runs.map((r) => r.report.framesPerSecond),
          },
        }
      : {}),
    latency: figures(latencyPhase, b, limit?.latency ?? null, latency.text, latency.meets),
  };
}
