/**
 * `alarm-bridge simulate --to HOST:PORT[,HOST:PORT…] --panels N --rate R --duration S`: a load generator of DC-09 panels on
 * kept-open TCP connections (issue 7, "Replay and simulation"; the benchmarks drive the receiver with it).
 *
 * Panels connect in batches (no SYN flood), then send for the duration: closed loop with `--rate 0` (a panel sends
 * its next frame as soon as the previous one is answered), else R frames per second per panel with ±20 % jitter.
 * Accounts are `<prefix>0001`, `<prefix>0002`, …; frames carry the current time and are AES-encrypted with
 * `--encrypted`. Every reply's latency (send → reply frame complete) goes into a fixed-size log-bucket histogram,
 * so a run of millions of frames allocates nothing per frame for its statistics.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Argv, CommandModule } from 'yargs';
import { formatCidData } from '../protocols/contact-id/index.js';
import { buildRequest, Dc09Framer } from '../protocols/dc09/index.js';
import { hexKeyOption, UsageError } from './frame-input.js';
import { parseTarget, replyToken, type Target } from './replay.js';

export const DEFAULT_SIM_KEY_HEX = '000102030405060708090A0B0C0D0E0F';

// ---- latency histogram ------------------------------------------------------------------------------------------

/** Smallest bucket edge (1 µs) and growth per bucket (1 %): percentiles are exact to within 1 %. */
const HIST_MIN_MS = 0.001;
const HIST_GROWTH = 1.01;
const HIST_BUCKETS = 2000; // 1 µs · 1.01^2000 ≈ 4·10^5 s
const INV_LOG_GROWTH = 1 / Math.log(HIST_GROWTH);

/** Latencies in milliseconds, in log-spaced buckets of fixed size; `percentile` answers a bucket's upper edge. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(HIST_BUCKETS + 1);
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const bucket = ms < HIST_MIN_MS ? 0 : Math.min(HIST_BUCKETS, 1 + Math.floor(Math.log(ms / HIST_MIN_MS) * INV_LOG_GROWTH));
    this.counts[bucket]! += 1;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** The latency below which a fraction `p` (0..1) of the samples lie; 0 when there are none. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i <= HIST_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, HIST_MIN_MS * HIST_GROWTH ** i);
    }
    return this.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }
}

// ---- options and report -----------------------------------------------------------------------------------------

export type SimFrameKind = 'sia' | 'cid' | 'null';
const FRAME_KINDS: readonly SimFrameKind[] = ['sia', 'cid', 'null'];

export interface SimulateOptions {
  /** `HOST:PORT` or a parsed target; several receivers: panel i connects to receiver i mod their number. */
  to: string | Target | ReadonlyArray<string | Target>;
  panels: number;
  /** Frames per second per panel; 0 = closed loop. */
  rate: number;
  durationSeconds: number;
  encrypted?: boolean;
  /** AES key (default DEFAULT_SIM_KEY_HEX); giving one implies `encrypted`. */
  key?: Uint8Array | null;
  /** Frame kinds, taken in turn (default: sia). */
  mix?: readonly SimFrameKind[];
  accountPrefix?: string;
  /** Connections opened at once while ramping up (default 200). */
  connectBatch?: number;
  /** A frame unanswered this long counts as an error and its connection is re-opened (default 5000). */
  timeoutMs?: number;
  /** Frames sent in this first part of the duration are not measured (default 0). */
  warmupSeconds?: number;
  /** Each panel stops sending after this many frames and keeps its connection open until the end (idle panels). */
  framesPerPanel?: number;
  /** Called once every panel has tried to connect (before the load starts). */
  onConnected?: (connected: number) => void;
  /** With `framesPerPanel`: called once every connected panel has sent its frames and had them answered. */
  onIdle?: () => void;
  /** Ends the run early (the report covers what was done). */
  signal?: AbortSignal;
}

export interface SimulateReport {
  panels: number;
  connected: number;
  durationSeconds: number;
  warmupSeconds: number;
  encrypted: boolean;
  /** Frames per second per panel; 0 = closed loop. */
  rate: number;
  sent: number;
  /** Replies received to measured frames. */
  frames: number;
  acked: number;
  naks: number;
  errors: number;
  /** connect: connections that failed; closed: frames lost with a connection the receiver closed; timeout: frames
   *  unanswered within `timeoutMs`; duh / unknownReply: replies other than ACK and NAK. */
  errorKinds: { connect: number; closed: number; timeout: number; duh: number; unknownReply: number };
  framesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU the simulator itself used during the load (100 = one core): near 100, it may be the bottleneck. */
  cpuPercent: number;
}

/** Outstanding send times a panel keeps (more in flight than this: the panel skips a beat). */
const RING = 32;

interface Panel {
  index: number;
  account: string;
  socket: Socket | null;
  framer: Dc09Framer;
  counter: number;
  /** Send times of the frames in flight, oldest first (ring). */
  sentAt: Float64Array;
  head: number;
  inFlight: number;
  timer: NodeJS.Timeout | null;
  /** Frames still to send with `framesPerPanel` (negative: no limit). */
  framesLeft: number;
  finished: boolean;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

function checkOptions(o: SimulateOptions): void {
  const bad = (option: string, expected: string, found: unknown) =>
    new UsageError(`${option}: expected ${expected}, found ${String(found)}`);
  if (!Number.isInteger(o.panels) || o.panels < 1) throw bad('--panels', 'a whole number ≥ 1', o.panels);
  if (!Number.isFinite(o.rate) || o.rate < 0) throw bad('--rate', 'frames per second per panel ≥ 0 (0 = closed loop)', o.rate);
  if (!Number.isFinite(o.durationSeconds) || o.durationSeconds <= 0) throw bad('--duration', 'seconds > 0', o.durationSeconds);
  const warmup = o.warmupSeconds ?? 0;
  if (!Number.isFinite(warmup) || warmup < 0 || warmup >= o.durationSeconds)
    throw bad('--warmup', 'seconds ≥ 0 and below --duration', warmup);
  const prefix = o.accountPrefix ?? 'SIM';
  const longest = `${prefix}${String(o.panels).padStart(4, '0')}`;
  if (!/^[0-9A-Za-z]*$/.test(prefix) || longest.length > 16)
    throw bad('--account-prefix', 'letters and digits, at most 16 characters with the panel number', prefix);
  if (o.mix && (o.mix.length === 0 || o.mix.some((k) => !FRAME_KINDS.includes(k))))
    throw bad('--mix', `a list of ${FRAME_KINDS.join(', ')}`, o.mix.join(','));
  if (o.connectBatch !== undefined && (!Number.isInteger(o.connectBatch) || o.connectBatch < 1))
    throw bad('--connect-batch', 'a whole number ≥ 1', o.connectBatch);
  if (o.timeoutMs !== undefined && !(o.timeoutMs > 0)) throw bad('--timeout-ms', 'a number > 0', o.timeoutMs);
  if (o.framesPerPanel !== undefined && (!Number.isInteger(o.framesPerPanel) || o.framesPerPanel < 1))
    throw bad('--frames-per-panel', 'a whole number ≥ 1', o.framesPerPanel);
}

/** Parses `sia,cid,null`; throws UsageError for anything else. */
export function parseMix(text: string): SimFrameKind[] {
  const kinds = text
    .split(',')
    .map((k) => k.trim().toLowerCase())
    .filter(Boolean);
  const wrong = kinds.find((k) => !FRAME_KINDS.includes(k as SimFrameKind));
  if (kinds.length === 0 || wrong !== undefined)
    throw new UsageError(`--mix: expected a comma-separated list of ${FRAME_KINDS.join(', ')}, found "${text}"`);
  return kinds as SimFrameKind[];
}

/** Data block of a panel's n-th frame: alarms and restores over changing zones, so no two frames in a row match. */
function dataFor(kind: SimFrameKind, account: string, n: number): { token: string; data: string } {
  const zone = ((n >> 1) % 999) + 1;
  const restore = (n & 1) === 1;
  if (kind === 'null') return { token: 'NULL', data: '' };
  if (kind === 'cid')
    return { token: 'ADM-CID', data: formatCidData({ account, qualifier: restore ? '3' : '1', code: 130, group: 1, zone }) };
  return { token: 'SIA-DCS', data: `#${account}|Nri1/${restore ? 'BR' : 'BA'}${zone}` };
}

export async function runSimulate(options: SimulateOptions): Promise<SimulateReport> {
  checkOptions(options);
  const targets = (Array.isArray(options.to) ? options.to : [options.to]).map((t: string | Target) =>
    typeof t === 'string' ? parseTarget(t) : t,
  );
  const encrypted = options.encrypted === true || (options.key !== undefined && options.key !== null);
  const key = encrypted ? (options.key ?? Buffer.from(DEFAULT_SIM_KEY_HEX, 'hex')) : null;
  const mix = options.mix ?? ['sia'];
  const prefix = options.accountPrefix ?? 'SIM';
  const batch = options.connectBatch ?? 200;
  const timeoutMs = options.timeoutMs ?? 5000;
  const rate = options.rate;
  const intervalMs = rate > 0 ? 1000 / rate : 0;

  const histogram = new LatencyHistogram();
  const errorKinds = { connect: 0, closed: 0, timeout: 0, duh: 0, unknownReply: 0 };
  let sent = 0;
  let frames = 0;
  let acked = 0;
  let naks = 0;
  let running = false;
  let stopping = false;
  let measureFrom = Infinity;
  let idleReported = false;
  /** Panels that sent all their `framesPerPanel` frames and got every reply. */
  let finished = 0;
  let connected = 0;
  const panels: Panel[] = [];
  const openSockets = new Set<Socket>();

  const checkIdle = () => {
    if (!options.onIdle || idleReported || !running || finished < connected) return;
    idleReported = true;
    options.onIdle();
  };

  /** A panel with `framesPerPanel` is done once its frames are all answered (or lost and counted as errors). */
  const settle = (panel: Panel): void => {
    if (panel.framesLeft !== 0 || panel.inFlight !== 0 || panel.finished) return;
    panel.finished = true;
    finished++;
    checkIdle();
  };

  const send = (panel: Panel): void => {
    const socket = panel.socket;
    if (!running || !socket || panel.inFlight >= RING || panel.framesLeft === 0) return;
    const n = panel.counter++;
    const { token, data } = dataFor(mix[(n + panel.index) % mix.length]!, panel.account, n);
    const frame = buildRequest({
      token,
      sequence: String((n % 9999) + 1).padStart(4, '0'),
      line: '0',
      account: panel.account,
      data,
      timestamp: new Date(),
      key,
    });
    panel.sentAt[(panel.head + panel.inFlight) % RING] = performance.now();
    panel.inFlight++;
    panel.framesLeft--;
    sent++;
    socket.write(frame);
  };

  const onReply = (panel: Panel, frame: Buffer, at: number): void => {
    if (panel.inFlight === 0) {
      errorKinds.unknownReply++;
      return;
    }
    const sentAt = panel.sentAt[panel.head]!;
    panel.head = (panel.head + 1) % RING;
    panel.inFlight--;
    const measured = sentAt >= measureFrom;
    const token = replyToken(frame);
    if (measured) {
      frames++;
      histogram.record(at - sentAt);
      if (token === 'ACK') acked++;
      else if (token === 'NAK') naks++;
      else if (token === 'DUH') errorKinds.duh++;
      else errorKinds.unknownReply++;
    }
    if (rate === 0) send(panel);
    settle(panel);
  };

  const scheduleNext = (panel: Panel, delayMs: number): void => {
    if (stopping) return;
    panel.timer = setTimeout(() => {
      panel.timer = null;
      send(panel);
      if (panel.framesLeft !== 0) scheduleNext(panel, intervalMs * (0.8 + 0.4 * Math.random()));
    }, delayMs);
  };

  const start = (panel: Panel): void => {
    if (rate === 0) send(panel);
    else scheduleNext(panel, Math.random() * intervalMs);
  };

  const open = (panel: Panel): Promise<boolean> =>
    new Promise((resolve) => {
      const target = targets[panel.index % targets.length]!;
      const socket = connect({ host: target.host, port: target.port, noDelay: true });
      openSockets.add(socket);
      let established = false;
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        established = true;
        panel.socket = socket;
        panel.framer = new Dc09Framer();
        panel.head = 0;
        panel.inFlight = 0;
        resolve(true);
      });
      socket.on('data', (chunk: Buffer) => {
        const at = performance.now();
        const out = panel.framer.push(chunk);
        for (const frame of out.frames) onReply(panel, frame, at);
      });
      socket.on('error', () => undefined); // 'close' follows
      socket.on('close', () => {
        clearTimeout(timer);
        openSockets.delete(socket);
        if (!established) {
          errorKinds.connect++;
          resolve(false);
          return;
        }
        if (panel.socket !== socket) return;
        panel.socket = null;
        if (stopping) return;
        // The receiver closed the connection (or a reply timed out): frames in flight are lost; reconnect.
        if (panel.inFlight > 0 && panel.sentAt[panel.head]! >= measureFrom) errorKinds.closed += panel.inFlight;
        panel.inFlight = 0;
        settle(panel);
        if (panel.timer) clearTimeout(panel.timer);
        panel.timer = null;
        setTimeout(() => {
          if (stopping) return;
          void open(panel).then((ok) => {
            if (ok && running) start(panel);
          });
        }, 100);
      });
    });

  for (let i = 0; i < options.panels; i++) {
    panels.push({
      index: i,
      account: `${prefix}${String(i + 1).padStart(4, '0')}`,
      socket: null,
      framer: new Dc09Framer(),
      counter: 0,
      sentAt: new Float64Array(RING),
      head: 0,
      inFlight: 0,
      timer: null,
      framesLeft: options.framesPerPanel ?? -1,
      finished: false,
    });
  }

  // Ramp-up: batches of connections, each batch complete before the next.
  for (let i = 0; i < panels.length && !options.signal?.aborted; i += batch) {
    const results = await Promise.all(panels.slice(i, i + batch).map(open));
    connected += results.filter(Boolean).length;
  }
  options.onConnected?.(connected);

  const timeoutScan = setInterval(
    () => {
      const now = performance.now();
      for (const panel of panels) {
        if (panel.inFlight > 0 && now - panel.sentAt[panel.head]! > timeoutMs && panel.socket) {
          if (panel.sentAt[panel.head]! >= measureFrom) errorKinds.timeout++;
          panel.inFlight = 0; // not counted again as 'closed'
          panel.socket.destroy();
        }
      }
    },
    Math.min(250, timeoutMs / 2),
  );

  const cpuAtBegin = process.cpuUsage();
  const begin = performance.now();
  measureFrom = begin + (options.warmupSeconds ?? 0) * 1000;
  const end = begin + options.durationSeconds * 1000;
  running = true;
  if (!options.signal?.aborted) {
    for (const panel of panels) if (panel.socket) start(panel);
    checkIdle();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, Math.max(0, end - performance.now()));
      function finish() {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', finish);
        resolve();
      }
      options.signal?.addEventListener('abort', finish, { once: true });
    });
  }
  const stoppedAt = performance.now();
  const cpu = process.cpuUsage(cpuAtBegin);

  // Stop sending, give the frames in flight their replies (up to the timeout, at most 2 s), close every socket.
  running = false;
  stopping = true;
  for (const panel of panels) {
    if (panel.timer) clearTimeout(panel.timer);
    panel.timer = null;
  }
  const drainUntil = stoppedAt + Math.min(timeoutMs, 2000);
  while (panels.some((p) => p.inFlight > 0 && p.socket) && performance.now() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clearInterval(timeoutScan);
  for (const panel of panels) {
    if (panel.inFlight > 0 && panel.socket && panel.sentAt[panel.head]! >= measureFrom) errorKinds.timeout += panel.inFlight;
  }
  await Promise.all(
    [...openSockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          const timer = setTimeout(() => socket.destroy(), 1000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.end();
        }),
    ),
  );

  const measuredMs = Math.max(1, stoppedAt - Math.min(measureFrom, stoppedAt));
  const errors = errorKinds.connect + errorKinds.closed + errorKinds.timeout + errorKinds.duh + errorKinds.unknownReply;
  return {
    panels: options.panels,
    connected,
    durationSeconds: round3(measuredMs / 1000),
    warmupSeconds: options.warmupSeconds ?? 0,
    encrypted,
    rate,
    sent,
    frames,
    acked,
    naks,
    errors,
    errorKinds,
    framesPerSecond: Math.round(frames / (measuredMs / 1000)),
    latencyMs: {
      p50: round3(histogram.percentile(0.5)),
      p90: round3(histogram.percentile(0.9)),
      p99: round3(histogram.percentile(0.99)),
      max: round3(histogram.max),
      mean: round3(histogram.count ? histogram.sum / histogram.count : 0),
    },
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, stoppedAt - begin)) * 100),
  };
}

// ---- command -----------------------------------------------------------------------------------------------------

export interface SimulateArgs {
  to: string;
  panels: number;
  rate: number;
  duration: number;
  encrypted: boolean;
  key?: string;
  mix: string;
  'account-prefix': string;
  warmup: number;
  'timeout-ms': number;
  'connect-batch': number;
  'frames-per-panel'?: number;
  exitCode?: number;
}

function builder(y: Argv) {
  return y
    .option('to', {
      type: 'string',
      demandOption: true,
      describe: 'receiver as HOST:PORT; several comma-separated: the panels are spread over them in turn',
    })
    .option('panels', { type: 'number', default: 1, describe: 'simulated panels, each on its own kept-open TCP connection' })
    .option('rate', {
      type: 'number',
      default: 1,
      describe: 'frames per second per panel (with jitter); 0 = closed loop (next frame as soon as the previous is answered)',
    })
    .option('duration', { type: 'number', default: 10, describe: 'seconds of load (after all panels connected)' })
    .option('encrypted', {
      type: 'boolean',
      default: false,
      describe: `AES-encrypt the frames (key: --key, default ${DEFAULT_SIM_KEY_HEX})`,
    })
    .option('key', { type: 'string', describe: 'AES key as 32/48/64 hex digits (implies --encrypted)' })
    .option('mix', { type: 'string', default: 'sia', describe: 'frame kinds taken in turn: sia, cid, null (comma-separated)' })
    .option('account-prefix', { type: 'string', default: 'SIM', describe: 'accounts are PREFIX0001, PREFIX0002, …' })
    .option('warmup', { type: 'number', default: 0, describe: 'seconds at the start that are not measured' })
    .option('timeout-ms', { type: 'number', default: 5000, describe: 'a frame unanswered this long is an error' })
    .option('connect-batch', { type: 'number', default: 200, describe: 'connections opened at once while ramping up' })
    .option('frames-per-panel', { type: 'number', describe: 'each panel sends this many frames, then stays connected and idle' });
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate',
  describe: 'simulate DC-09 panels on kept-open TCP connections and report throughput and ACK latency as JSON',
  builder: (y) => builder(y) as never,
  handler: async (argv) => {
    const key = hexKeyOption(argv.key);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      const report = await runSimulate({
        to: argv.to.split(','),
        panels: argv.panels,
        rate: argv.rate,
        durationSeconds: argv.duration,
        encrypted: argv.encrypted,
        key,
        mix: parseMix(argv.mix),
        accountPrefix: argv['account-prefix'],
        warmupSeconds: argv.warmup,
        timeoutMs: argv['timeout-ms'],
        connectBatch: argv['connect-batch'],
        ...(argv['frames-per-panel'] !== undefined ? { framesPerPanel: argv['frames-per-panel'] } : {}),
        signal: stop.signal,
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      argv.exitCode = report.errors > 0 || report.acked === 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
