/**
 * What every TCP listener shares (DC-09, Sur-Gard, Galaxy, Lupusec): connection tracking, fair slots under the cap,
 * idle timeout, replies written in the order their frames arrived, graceful close (finish frames in flight, then end
 * the sockets), and behind a load balancer the PROXY protocol header that names the panel (docs/proxy-protocol.md §5).
 */
import type { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../../config/types.js';
import { errorStack, type Logger } from '../../log.js';
import type { BridgeMetrics } from '../ops/metrics.js';
import type { Peer } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { ConnectionSlots, type SlotHolder } from './connection-slots.js';
import { readProxyHeader, type ProxyHeaderOutcome } from './proxy-header.js';

export interface RunningListener {
  readonly name: string;
  readonly port: number;
  /** Stops accepting, lets frames in flight finish, then closes every connection. */
  close(): Promise<void>;
}

/** Resolves once `start` reports the socket bound; rejects with the first 'error' before that (port in use, …). */
export function bound(emitter: EventEmitter, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve();
    });
  });
}

/** A connection's claim on one of the slots. */
export interface TcpSlot extends SlotHolder {
  readonly socket: Socket;
  readonly peer: Peer;
}

/** The slots every TCP listener of a bridge shares (`receiver.maxConnections`, `receiver.maxConnectionsPerSource`). */
export type TcpSlots = ConnectionSlots<TcpSlot>;

export function tcpSlots(maxConnections: number, maxConnectionsPerSource: number | null): TcpSlots {
  return new ConnectionSlots<TcpSlot>(maxConnections, maxConnectionsPerSource);
}

/** What every TCP listener is started with. */
export interface TcpListenerBase {
  listener: ListenerConfig;
  logger: Logger;
  metrics: BridgeMetrics;
  slots: TcpSlots;
  idleTimeoutSeconds: number;
}

export interface Connection {
  readonly socket: Socket;
  readonly peer: Peer;
  /**
   * Queues the work for one complete frame behind the connection's earlier frames and writes its reply (if any),
   * so replies keep the frames' order; counts the reply and its latency from `receivedAt` (hrtime).
   */
  reply(work: () => Promise<{ frame: Buffer | null; kind: string }>, receivedAt: bigint): void;
  /** Runs after every queued frame (e.g. closing after an oversized stream). */
  afterQueued(step: () => void): void;
  /** Frames received and not yet answered. */
  readonly queued: number;
}

export interface TcpServerOptions extends TcpListenerBase {
  name: string;
  /**
   * Called once per connection; returns the handler of its data chunks, which says whether the chunk completed a
   * frame. Only that keeps the connection from idling out: junk, NULs or a frame that never ends do not.
   */
  onConnection(connection: Connection): (chunk: Buffer) => boolean;
  /** Called after each reply is written. */
  afterReply?: (connection: Connection) => void;
}

const peerText = (peer: Peer) => `${peer.address}:${peer.port}`;

/**
 * Backpressure: a peer that sends frames faster than they are answered stops being read past this many waiting
 * frames (TCP flow control then slows it down), and is read again once the queue has drained to a quarter.
 */
const MAX_QUEUED_FRAMES = 256;

/** How long a connection to a `proxyProtocol` listener has to send its header (docs/proxy-protocol.md §5). */
const PROXY_HEADER_TIMEOUT_MS = 5000;

/** Log line of a connection closed for its PROXY header, by `proxyHeaderRejected` reason (docs/proxy-protocol.md §5). */
const HEADER_REJECTIONS: Record<Extract<ProxyHeaderOutcome, { ok: false }>['reason'], string> = {
  'not-proxy-protocol': 'connection closed: it did not start with a PROXY protocol header',
  'v1-malformed': 'connection closed: malformed PROXY protocol v1 header',
  'v1-too-long': 'connection closed: PROXY protocol v1 header without CRLF within 107 bytes',
  'v2-bad-version': 'connection closed: PROXY protocol v2 header with an unknown version',
  'v2-bad-command': 'connection closed: PROXY protocol v2 header with an unknown command',
  'v2-bad-family': 'connection closed: PROXY protocol v2 header with an unknown address family or transport',
  'v2-short-address': 'connection closed: PROXY protocol v2 header too short for its addresses',
  timeout: `connection closed: no complete PROXY protocol header within ${PROXY_HEADER_TIMEOUT_MS / 1000} s`,
  closed: 'connection closed before its PROXY protocol header was complete',
};

/** `rejections` metric reason and log line of a refused connection. */
const REFUSALS = {
  'max-connections': 'connection refused: maxConnections reached and its source holds its fair share',
  'max-connections-per-source': 'connection refused: maxConnectionsPerSource reached',
} as const;

/**
 * The chain of a connection with nothing queued. Each frame's own promise is dropped once its reply is out: a panel
 * sends a frame every few seconds, and on a thousand connections each such promise would otherwise outlive a few
 * garbage collections (docs/performance.md §3).
 */
const SETTLED: Promise<void> = Promise.resolve();

export async function serveTcp(options: TcpServerOptions): Promise<RunningListener> {
  const { name, listener, logger, metrics, slots } = options;
  const warn = new RateLimitedWarn(logger);
  const gauge = metrics.openConnections.labels({ listener: name });
  const chains = new Map<Socket, Promise<void>>();
  const idleMs = options.idleTimeoutSeconds * 1000;
  const { proxyProtocol } = listener;
  let closing = false;

  /** Claims a slot for `peer` (closing the connection evicted for it), or refuses and closes `socket`. */
  const claim = (peer: Peer, socket: Socket, perSource: boolean): boolean => {
    const admission = slots.admit(peer.address, { perSource });
    if (!admission.admit) {
      metrics.rejections.inc({ reason: admission.reason });
      warn.warn(
        admission.reason,
        { peer: peerText(peer), listener: name, maxConnections: slots.maxConnections, maxConnectionsPerSource: slots.maxPerSource },
        REFUSALS[admission.reason],
      );
      socket.destroy();
      return false;
    }
    if (admission.evict) {
      const victim = admission.evict;
      metrics.rejections.inc({ reason: 'connection-evicted' });
      warn.warn(
        'connection-evicted',
        {
          peer: peerText(victim.peer),
          for: peerText(peer),
          listener: name,
          idleSeconds: Math.round((performance.now() - victim.lastActiveMs) / 1000),
          heldBySource: slots.heldBy(victim.source) + 1,
        },
        'maxConnections reached: closed the longest-idle connection of the source holding the most for one from a source under its fair share',
      );
      victim.socket.destroy();
    }
    return true;
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    // Behind a load balancer this is the balancer's address until the PROXY header names the panel's.
    let peer: Peer = { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, transport: 'tcp' };
    // Connections awaiting their header all come from the balancer: only the panel's address has a per-source cap.
    if (!claim(peer, socket, !proxyProtocol)) return;
    let queued = 0;
    const slot = {
      get source() {
        return peer.address;
      },
      get peer() {
        return peer;
      },
      socket,
      lastActiveMs: performance.now(),
      get busy() {
        return queued > 0;
      },
    };
    slots.add(slot);
    chains.set(socket, SETTLED);
    gauge.inc();
    const connection: Connection = {
      socket,
      get peer() {
        return peer;
      },
      reply(work, receivedAt) {
        if (++queued >= MAX_QUEUED_FRAMES && !socket.isPaused()) socket.pause();
        const next: Promise<void> = chains.get(socket)!.then(async () => {
          try {
            let result: { frame: Buffer | null; kind: string };
            try {
              result = await work();
            } catch (err) {
              // A bug must cost this frame an answer, not the process: no reply means the panel retries.
              logger.error({ peer: peerText(peer), listener: name, err: errorStack(err) }, 'frame processing failed');
              return;
            }
            const { frame, kind } = result;
            if (!frame || socket.destroyed) return;
            socket.write(frame);
            slot.lastActiveMs = performance.now();
            metrics.replyCounts.inc(kind);
            metrics.ackLatency.observe(Number(process.hrtime.bigint() - receivedAt) / 1e9);
            options.afterReply?.(connection);
          } finally {
            // Counted until answered, not until started: a close-after-reply timer must not end the connection
            // while a frame is still being accepted (its ACK would be lost).
            queued--;
            if (queued <= MAX_QUEUED_FRAMES / 4 && socket.isPaused() && !closing) socket.resume();
            // Nothing chained behind this frame: the next one need not wait for (or keep) this promise.
            if (chains.get(socket) === next) chains.set(socket, SETTLED);
          }
        });
        chains.set(socket, next);
      },
      get queued() {
        return queued;
      },
      afterQueued(step) {
        chains.set(socket, chains.get(socket)!.then(step));
      },
    };
    // Idle means no frame and no reply for idleMs (not merely no bytes); checked when the time is up, not per chunk.
    const checkIdle = () => {
      const idle = performance.now() - slot.lastActiveMs;
      if (idle < idleMs || queued > 0) {
        idleTimer = setTimeout(checkIdle, queued > 0 ? idleMs : idleMs - idle);
        return;
      }
      logger.debug({ peer: peerText(peer), listener: name }, 'idle connection closed');
      socket.destroy();
    };
    let idleTimer: NodeJS.Timeout | undefined;
    socket.on('error', (err) => logger.debug({ peer: peerText(peer), err: err.message }, 'connection error'));
    socket.on('close', () => {
      clearTimeout(idleTimer);
      slots.release(slot);
      chains.delete(socket);
      gauge.dec();
    });
    /** Hands the connection to its protocol: from here on each chunk goes straight to the protocol's handler. */
    const serve = (first?: Buffer) => {
      slot.lastActiveMs = performance.now();
      idleTimer = setTimeout(checkIdle, idleMs);
      const onData = options.onConnection(connection);
      const handle = (chunk: Buffer) => {
        if (onData(chunk)) slot.lastActiveMs = performance.now();
      };
      socket.on('data', handle);
      if (first && first.length > 0) handle(first);
    };
    if (!proxyProtocol) return serve();
    readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS, (outcome) => {
      if (!outcome.ok) return rejectHeader(socket, peer, outcome);
      const { header, rest } = outcome;
      if (header.kind === 'proxied') {
        // The slot moves to the panel's address, where its own per-source cap and fair share apply.
        slots.release(slot);
        const via = peerText(peer);
        peer = { address: header.source.address, port: header.source.port, transport: 'tcp' };
        if (!claim(peer, socket, true)) return;
        slots.add(slot);
        logger.debug({ peer: peerText(peer), via, listener: name }, 'PROXY header');
      }
      serve(rest);
    });
  });

  const rejectHeader = (socket: Socket, peer: Peer, outcome: Extract<ProxyHeaderOutcome, { ok: false }>) => {
    socket.destroy();
    // A bridge shutting down ends connections still waiting for their header: not the balancer's fault.
    if (closing) return;
    const { reason, bytes } = outcome;
    metrics.proxyHeaderRejected.inc({ listener: name, reason });
    const fields = { peer: peerText(peer), listener: name, bytes };
    // A plain TCP health check opens and closes without a byte: worth a count, not a warning.
    if (reason === 'closed' && bytes === 0) logger.debug({ reason, ...fields }, HEADER_REJECTIONS[reason]);
    else warn.warn(reason, fields, HEADER_REJECTIONS[reason]);
  };
  server.on('error', (err) => logger.error({ listener: name, err: err.message }, 'listener error'));

  await bound(server, (done) => server.listen({ host: listener.host, port: listener.port }, done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listener.port;
  logger.info({ listener: name, port }, 'listening');

  return {
    name,
    port,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Frames already received are answered; nothing new is read.
      for (const socket of chains.keys()) socket.pause();
      await Promise.all(
        [...chains].map(async ([socket, chain]) => {
          await chain;
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        }),
      );
      await closed;
    },
  };
}
