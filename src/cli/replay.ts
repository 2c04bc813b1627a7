/**
 * `alarm-bridge replay FILE --to HOST:PORT`: sends a capture to a receiver, one frame at a time, and reports each
 * reply as one JSON line plus a summary line (issue 7, "Replay and simulation").
 *
 * Capture lines: a frame with the `decode` escapes (`\n`, `\r`, `\xHH`, …; LF and CR are added when missing), or an
 * NDJSON object `{"frame": "...", "delayMs"?: n, "expect"?: "NAK"}`. Blank lines and lines starting with `#` are
 * skipped. `--protocol galaxy|lupusec-cid` replays Galaxy blocks or Lupusec messages, sent as written, whose replies are
 * the ACK/reject blocks or the bytes 0x06/0x15. TCP uses one kept-open connection (re-opened when the receiver closes it or a reply times out); UDP sends
 * one datagram per frame. The exit code is 1 when any reply differs from what was expected (default: ACK).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv, CommandModule } from 'yargs';
import { Dc09Framer, parseFrame } from '../protocols/dc09/index.js';
import { completeFrame, escapeFrame, unescapeFrame } from '../protocols/escape.js';
import { buildGalaxyBlock, GALAXY_FUNCTION, GalaxyFramer, parseGalaxyBlock } from '../protocols/galaxy/index.js';
import { LUPUSEC_ACK, LUPUSEC_NAK } from '../protocols/lupusec/index.js';
import { hexKeyOption, UsageError } from './frame-input.js';

// ---- shared with `simulate` ------------------------------------------------------------------------------------

export interface Target {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `v6-address:PORT`; throws UsageError naming `option` otherwise. */
export function parseTarget(text: string, option = '--to'): Target {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^(.+):(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${option}: expected HOST:PORT such as 127.0.0.1:12128, found "${text}"`);
  }
  return { host: match[1], port };
}

export type ReplyToken = 'ACK' | 'NAK' | 'DUH';

/** The reply a receiver frame carries (`ACK`/`*ACK`, `NAK`, `DUH`/`*DUH`), null for anything else. */
export function replyToken(frame: Uint8Array): ReplyToken | null {
  const open = frame.indexOf(0x22);
  if (open < 0) return null;
  let at = open + 1;
  if (frame[at] === 0x2a) at++; // '*'
  if (frame[at + 3] !== 0x22) return null;
  const a = frame[at];
  const b = frame[at + 1];
  const c = frame[at + 2];
  if (a === 0x41 && b === 0x43 && c === 0x4b) return 'ACK';
  if (a === 0x4e && b === 0x41 && c === 0x4b) return 'NAK';
  if (a === 0x44 && b === 0x55 && c === 0x48) return 'DUH';
  return null;
}

/** What differs between the protocols a capture can be replayed in (`--protocol`). */
interface Wire {
  /** The bytes a capture line stands for (DC-09: LF and CR added when missing; the others: as written). */
  complete(bytes: Buffer): Buffer;
  /** Cuts the receiver's replies out of its byte stream. */
  replies(): (chunk: Buffer) => Buffer[];
  /** ACK or NAK of one reply, null for anything else. */
  token(reply: Buffer): ReplyToken | null;
  /** Whether the receiver ends the connection after answering these bytes (the next line then opens a new one). */
  endsSession?(sent: Buffer): boolean;
}

export type ReplayProtocol = 'dc09' | 'galaxy' | 'lupusec-cid';

const GALAXY_END = buildGalaxyBlock({ function: GALAXY_FUNCTION.endOfData, data: '' });

/** Galaxy replies (docs/sia-dcs.md §4): the ACK block, or the reject block (a NAK: the panel sends the block again). */
const GALAXY_REPLY_TOKENS: Readonly<Record<string, ReplyToken>> = { [GALAXY_FUNCTION.ack]: 'ACK', [GALAXY_FUNCTION.reject]: 'NAK' };

export const WIRES: Readonly<Record<ReplayProtocol, Wire>> = {
  dc09: {
    complete: completeFrame,
    replies: () => {
      const framer = new Dc09Framer();
      return (chunk) => framer.push(chunk).frames.map((f) => Buffer.from(f));
    },
    token: replyToken,
  },
  galaxy: {
    complete: (bytes) => bytes,
    replies: () => {
      const framer = new GalaxyFramer();
      return (chunk) => framer.push(chunk).blocks;
    },
    token: (reply) => {
      const parsed = parseGalaxyBlock(reply);
      return parsed.ok ? (GALAXY_REPLY_TOKENS[parsed.block.function] ?? null) : null;
    },
    // docs/sia-dcs.md §4: the session ends with the end-of-data block `40 30 8F`.
    endsSession: (sent) => sent.subarray(-GALAXY_END.length).equals(GALAXY_END),
  },
  // docs/contact-id.md §5: single-byte replies.
  'lupusec-cid': {
    complete: (bytes) => bytes,
    replies: () => (chunk) => [...chunk].map((b) => Buffer.from([b])),
    token: (reply) => (reply.equals(LUPUSEC_ACK) ? 'ACK' : reply.equals(LUPUSEC_NAK) ? 'NAK' : null),
  },
};

// ---- capture files -------------------------------------------------------------------------------------------------

export type Expectation = ReplyToken | 'none' | 'any';
const EXPECTATIONS: readonly Expectation[] = ['ACK', 'NAK', 'DUH', 'none', 'any'];

export interface CaptureEntry {
  /** 1-based line in the file. */
  line: number;
  bytes: Buffer;
  delayMs: number;
  expect?: Expectation;
}

function expectationOf(value: unknown, where: string): Expectation {
  const text = typeof value === 'string' ? value : '';
  const found = EXPECTATIONS.find((e) => e.toLowerCase() === text.toLowerCase());
  if (!found) throw new UsageError(`${where}: "expect" must be one of ${EXPECTATIONS.join(', ')}, found ${JSON.stringify(value)}`);
  return found;
}

/**
 * Reads capture text (see the file comment); throws UsageError naming `name:line` for a bad line. `complete` turns a
 * line's bytes into what is sent (DC-09 default: LF and CR added when missing).
 */
export function parseCapture(text: string, name = 'capture', complete: (bytes: Buffer) => Buffer = completeFrame): CaptureEntry[] {
  const entries: CaptureEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${name}:${i + 1}`;
    if (!line.startsWith('{')) {
      entries.push({ line: i + 1, bytes: complete(unescapeFrame(line)), delayMs: 0 });
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    const o = (record && typeof record === 'object' && !Array.isArray(record) ? record : {}) as Record<string, unknown>;
    if (typeof o.frame !== 'string' || o.frame === '')
      throw new UsageError(
        `${where}: expected {"frame": "<frame with escapes>", "delayMs"?: n, "expect"?: "ACK"|"NAK"|"DUH"|"none"|"any"}`,
      );
    const delayMs = o.delayMs ?? 0;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)
      throw new UsageError(`${where}: "delayMs" must be a number ≥ 0, found ${JSON.stringify(o.delayMs)}`);
    const entry: CaptureEntry = { line: i + 1, bytes: complete(unescapeFrame(o.frame)), delayMs };
    if (o.expect !== undefined) entry.expect = expectationOf(o.expect, where);
    entries.push(entry);
  }
  return entries;
}

// ---- transports ------------------------------------------------------------------------------------------------

interface Exchange {
  reply: Buffer | null;
  status: 'reply' | 'timeout' | 'closed' | 'error';
  latencyMs: number | null;
  error?: string;
}

interface Transport {
  exchange(bytes: Buffer, timeoutMs: number): Promise<Exchange>;
  /** The next exchange starts on a new connection (TCP). */
  reconnect(): void;
  close(): Promise<void>;
}

/** Replies arrive in event handlers; `exchange` sleeps until one calls `wake()` or the time is up. */
abstract class WaitingTransport {
  private waker: (() => void) | null = null;

  protected wake(): void {
    this.waker?.();
  }

  protected async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waker = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.waker = null;
  }
}

/** Replies of one kept-open TCP connection, in order; the connection is re-opened when it is gone. */
class TcpTransport extends WaitingTransport implements Transport {
  private socket: Socket | null = null;
  private replies: Buffer[] = [];
  private closed = false;

  constructor(
    private readonly target: Target,
    private readonly wire: Wire,
  ) {
    super();
  }

  private open(timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(socket);
      });
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', fail);
    });
  }

  private async ensure(timeoutMs: number): Promise<Socket> {
    if (this.socket && !this.closed) return this.socket;
    const socket = await this.open(timeoutMs);
    this.socket = socket;
    this.closed = false;
    this.replies = [];
    const cut = this.wire.replies();
    socket.on('data', (chunk: Buffer) => {
      const replies = cut(chunk);
      if (replies.length === 0) return;
      this.replies.push(...replies);
      this.wake();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      if (this.socket === socket) this.closed = true;
      this.wake();
    });
    return socket;
  }

  reconnect(): void {
    this.drop();
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = null;
    this.closed = true;
  }

  async exchange(bytes: Buffer, timeoutMs: number): Promise<Exchange> {
    let socket: Socket;
    try {
      socket = await this.ensure(timeoutMs);
    } catch (err) {
      return { reply: null, status: 'error', latencyMs: null, error: errorText(err) };
    }
    this.replies.length = 0;
    const started = performance.now();
    socket.write(bytes);
    const deadline = started + timeoutMs;
    for (;;) {
      const reply = this.replies.shift();
      if (reply) return { reply, status: 'reply', latencyMs: performance.now() - started };
      if (this.closed) {
        this.socket = null;
        return { reply: null, status: 'closed', latencyMs: null, error: 'connection closed without a reply' };
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        // A late reply would be taken for the next frame's: start the next one on a fresh connection.
        this.drop();
        return { reply: null, status: 'timeout', latencyMs: null };
      }
      await this.sleep(left);
    }
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}

class UdpTransport extends WaitingTransport implements Transport {
  private readonly socket: UdpSocket;
  private replies: Buffer[] = [];

  constructor(private readonly target: Target) {
    super();
    this.socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (datagram) => {
      this.replies.push(datagram);
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  async exchange(bytes: Buffer, timeoutMs: number): Promise<Exchange> {
    this.replies.length = 0; // late replies of earlier frames
    const started = performance.now();
    try {
      await new Promise<void>((resolve, reject) =>
        this.socket.send(bytes, this.target.port, this.target.host, (err) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      return { reply: null, status: 'error', latencyMs: null, error: errorText(err) };
    }
    const deadline = started + timeoutMs;
    for (;;) {
      const datagram = this.replies.shift();
      if (datagram) {
        // A datagram carries one frame; strip what surrounds it like the receiver does.
        const frame = new Dc09Framer().push(datagram).frames[0] ?? datagram;
        return { reply: frame, status: 'reply', latencyMs: performance.now() - started };
      }
      const left = deadline - performance.now();
      if (left <= 0) return { reply: null, status: 'timeout', latencyMs: null };
      await this.sleep(left);
    }
  }

  reconnect(): void {}

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message}` : err.message;
}

// ---- the run -----------------------------------------------------------------------------------------------------

export type ReplayKind = ReplyToken | 'none' | 'timeout';

export interface ReplayOptions {
  /** Capture file path (see the file comment). */
  file: string;
  /** `HOST:PORT` or a parsed target. */
  to: string | Target;
  transport?: 'tcp' | 'udp';
  /** What the capture holds (default `dc09`); `galaxy` and `lupusec-cid` run over TCP only. */
  protocol?: ReplayProtocol;
  /** Frames per second at most (sends are spaced 1/rate apart); 0 or absent: next frame right after the reply. */
  rate?: number;
  /** AES key that decrypts `*ACK` replies for the report. */
  key?: Uint8Array | null;
  /** What every reply should be unless a line says otherwise (default ACK). */
  expect?: Expectation;
  timeoutMs?: number;
}

export interface ReplayIo {
  /** Receives each output line, newline included. */
  write(line: string): void;
}

export interface ReplayFrameReport {
  index: number;
  line: number;
  sent: string;
  reply: string | null;
  kind: ReplayKind;
  latencyMs: number | null;
  expect: Expectation;
  ok: boolean;
  decrypted?: { data: string; timestamp: string | null; sequence: string; account: string | null } | { error: string };
  error?: string;
}

export interface ReplaySummary {
  frames: number;
  ack: number;
  nak: number;
  duh: number;
  none: number;
  timeout: number;
  unexpected: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ReplayResult {
  exitCode: number;
  frames: ReplayFrameReport[];
  summary: ReplaySummary;
}

/** Nearest-rank percentile of sorted values, null when empty. */
function percentileOf(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

function matches(expect: Expectation, kind: ReplayKind): boolean {
  if (expect === 'any') return true;
  if (expect === 'none') return kind === 'none' || kind === 'timeout';
  return expect === kind;
}

function decryptReply(reply: Buffer, key: Uint8Array): ReplayFrameReport['decrypted'] {
  const keys = [key];
  const parsed = parseFrame(reply, { keysFor: () => keys });
  if (!parsed.ok) return { error: parsed.error.message };
  const m = parsed.message;
  return { data: m.data, timestamp: m.timestamp ? m.timestamp.toISOString() : null, sequence: m.sequence, account: m.account };
}

export async function runReplay(options: ReplayOptions, io: ReplayIo): Promise<ReplayResult> {
  const target = typeof options.to === 'string' ? parseTarget(options.to) : options.to;
  const timeoutMs = options.timeoutMs ?? 5000;
  const rate = options.rate ?? 0;
  if (!(timeoutMs > 0)) throw new UsageError(`--timeout-ms: expected a number > 0, found ${timeoutMs}`);
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new UsageError(`--rate: expected frames per second ≥ 0, found ${rate}`);
  const defaultExpect = options.expect ?? 'ACK';
  let text: string;
  try {
    text = await readFile(options.file, 'latin1');
  } catch (err) {
    throw new UsageError(`cannot read ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const protocol = options.protocol ?? 'dc09';
  if (protocol !== 'dc09' && options.transport === 'udp')
    throw new UsageError(`--transport udp: the ${protocol} protocol runs over TCP only`);
  const wire = WIRES[protocol];
  const entries = parseCapture(text, options.file, wire.complete);
  const transport: Transport = options.transport === 'udp' ? new UdpTransport(target) : new TcpTransport(target, wire);
  const frames: ReplayFrameReport[] = [];
  const summary: ReplaySummary = { frames: 0, ack: 0, nak: 0, duh: 0, none: 0, timeout: 0, unexpected: 0, p50Ms: null, p99Ms: null };
  const latencies: number[] = [];
  const intervalMs = rate > 0 ? 1000 / rate : 0;
  let lastSend = -Infinity;
  try {
    for (const [index, entry] of entries.entries()) {
      if (entry.delayMs > 0) await sleep(entry.delayMs);
      const wait = lastSend + intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      lastSend = performance.now();
      const result = await transport.exchange(entry.bytes, timeoutMs);
      if (wire.endsSession?.(entry.bytes)) transport.reconnect();
      const token = result.reply ? wire.token(result.reply) : null;
      const kind: ReplayKind = result.status === 'timeout' ? 'timeout' : (token ?? 'none');
      const expect = entry.expect ?? defaultExpect;
      const ok = matches(expect, kind);
      const report: ReplayFrameReport = {
        index,
        line: entry.line,
        sent: escapeFrame(entry.bytes),
        reply: result.reply ? escapeFrame(result.reply) : null,
        kind,
        latencyMs: result.latencyMs === null ? null : round3(result.latencyMs),
        expect,
        ok,
      };
      if (options.key && token === 'ACK' && result.reply && result.reply.includes('"*ACK"', 0, 'latin1')) {
        report.decrypted = decryptReply(result.reply, options.key);
      }
      if (result.error) report.error = result.error;
      if (result.latencyMs !== null) latencies.push(result.latencyMs);
      summary.frames++;
      if (kind === 'ACK') summary.ack++;
      else if (kind === 'NAK') summary.nak++;
      else if (kind === 'DUH') summary.duh++;
      else if (kind === 'timeout') summary.timeout++;
      else summary.none++;
      if (!ok) summary.unexpected++;
      frames.push(report);
      io.write(`${JSON.stringify(report)}\n`);
    }
  } finally {
    await transport.close();
  }
  latencies.sort((a, b) => a - b);
  const p50 = percentileOf(latencies, 0.5);
  const p99 = percentileOf(latencies, 0.99);
  summary.p50Ms = p50 === null ? null : round3(p50);
  summary.p99Ms = p99 === null ? null : round3(p99);
  io.write(`${JSON.stringify({ summary })}\n`);
  return { exitCode: summary.unexpected > 0 ? 1 : 0, frames, summary };
}

// ---- command -----------------------------------------------------------------------------------------------------

export interface ReplayArgs {
  file: string;
  to: string;
  transport: 'tcp' | 'udp';
  protocol: ReplayProtocol;
  rate?: number;
  key?: string;
  expect: string;
  'timeout-ms': number;
  exitCode?: number;
}

function builder(y: Argv) {
  return y
    .positional('file', {
      type: 'string',
      demandOption: true,
      describe: 'capture: one frame per line with the decode escapes, or NDJSON {"frame", "delayMs"?, "expect"?}',
    })
    .option('to', { type: 'string', demandOption: true, describe: 'receiver as HOST:PORT' })
    .option('transport', {
      choices: ['tcp', 'udp'] as const,
      default: 'tcp' as const,
      describe: 'TCP (one kept-open connection) or UDP (one datagram per frame)',
    })
    .option('protocol', {
      choices: ['dc09', 'galaxy', 'lupusec-cid'] as const,
      default: 'dc09' as const,
      describe:
        'what the capture holds: DC-09 frames, Galaxy native SIA blocks or Lupusec Contact ID messages (the last two over TCP only; a line is sent as written)',
    })
    .option('rate', { type: 'number', describe: 'frames per second at most (default: each frame right after the previous reply)' })
    .option('key', { type: 'string', describe: 'AES key (32/48/64 hex digits) to decrypt *ACK replies in the report' })
    .option('expect', {
      type: 'string',
      default: 'ACK',
      describe: 'reply every frame should get unless its line says otherwise: ACK, NAK, DUH, none or any',
    })
    .option('timeout-ms', { type: 'number', default: 5000, describe: 'how long to wait for each reply' });
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <file>',
  describe: 'send a capture file to a receiver and report each reply (exit 1 when a reply is not the expected one)',
  builder: (y) => builder(y) as never,
  handler: async (argv) => {
    const key = hexKeyOption(argv.key);
    const result = await runReplay(
      {
        file: argv.file,
        to: argv.to,
        transport: argv.transport,
        protocol: argv.protocol,
        rate: argv.rate ?? 0,
        key,
        expect: expectationOf(argv.expect, '--expect'),
        timeoutMs: argv['timeout-ms'],
      },
      { write: (line) => void process.stdout.write(line) },
    );
    argv.exitCode = result.exitCode;
  },
};
