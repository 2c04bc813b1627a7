/** Test harness: a bridge on 127.0.0.1 with ephemeral ports, a captured log, and panel clients over real sockets. */
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.js';
import type { BridgeConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { Dc09Framer } from '../../src/protocols/dc09/index.js';
import { startBridge, type BridgeOptions, type RunningBridge } from '../../src/server/app/bridge.js';

export interface TestBridge {
  bridge: RunningBridge;
  config: BridgeConfig;
  dir: string;
  logs: () => string;
  events: () => Promise<any[]>;
  stop: () => Promise<void>;
}

/** What a test bridge runs unless overridden: DC-09 on TCP and UDP (ephemeral ports), the file sink, debug logs. */
/** The request bodies a file sink wrote so far (none while the file does not exist yet). */
export async function readSinkEvents(path: string): Promise<any[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export const BASE_CONFIG = {
  listeners: [
    { protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 },
    { protocol: 'dc09', transport: 'udp', host: '127.0.0.1', port: 0 },
  ],
  sink: { type: 'file', path: 'events.ndjson' },
  log: { level: 'debug' },
};

/** A bridge on `BASE_CONFIG` with `overrides`, its config file path `dir/bridge.json` (not written). */
export async function startTestBridge(overrides: Record<string, unknown> = {}, options: Partial<BridgeOptions> = {}): Promise<TestBridge> {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-'));
  const config = parseConfig({ ...BASE_CONFIG, ...overrides }, join(dir, 'bridge.json'));
  let logText = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: config.log.level, destination });
  const bridge = await startBridge(config, { logger, ...options });
  return {
    bridge,
    config,
    dir,
    logs: () => logText,
    events: () => readSinkEvents(join(dir, 'events.ndjson')),
    stop: () => bridge.stop(),
  };
}

/** A link whose replies are single bytes (Sur-Gard, Lupusec): writes bytes, collects the reply bytes. */
export async function byteLink(
  port: number,
): Promise<{ socket: Socket; replies: () => number[]; waitFor: (n: number) => Promise<number[]> }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  const got: number[] = [];
  socket.on('data', (d) => got.push(...d));
  return {
    socket,
    replies: () => got,
    waitFor: async (n) => {
      const start = Date.now();
      while (got.length < n) {
        if (Date.now() - start > 5000) throw new Error(`only ${got.length} replies`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return got;
    },
  };
}

/** A panel on a kept-open TCP connection: writes bytes, collects reply frames. */
export class TcpPanel {
  readonly replies: Buffer[] = [];
  private readonly framer = new Dc09Framer();
  private waiters: { count: number; resolve: () => void }[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.replies.push(...this.framer.push(chunk).frames);
      this.waiters = this.waiters.filter((w) => (this.replies.length >= w.count ? (w.resolve(), false) : true));
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) w.resolve();
    });
    socket.on('error', () => undefined);
  }

  /** `localAddress`: the panel's own address (Linux routes all of 127.0.0.0/8 to lo, so 127.0.0.2 is another source). */
  static open(port: number, localAddress = '127.0.0.1'): Promise<TcpPanel> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true, localAddress }, () => resolve(new TcpPanel(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Resolves when `count` replies in total have arrived (or the socket closed). */
  waitForReplies(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    if (this.replies.length >= count || this.closed) return Promise.resolve(this.replies);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} replies (have ${this.replies.length})`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.replies);
        },
      });
    });
  }

  waitForClose(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.socket.end();
  }
}

/** Sends one datagram and waits for the reply datagram. */
export function udpExchange(port: number, bytes: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP reply'));
    }, timeoutMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(bytes, port, '127.0.0.1');
  });
}

export const text = (b: Buffer | undefined) => b?.toString('latin1') ?? '';

/** A loopback port free right now (0: any; or check that `port` is free), for configs that need a fixed one. */
export function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}
