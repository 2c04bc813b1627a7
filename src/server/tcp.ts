/**
 * DC-09 over TCP (protocols.md §1.1, issue #4): one framer per connection, several frames per connection and per
 * segment, replies in frame order, idle timeout, optional close-after-reply delay, a connection cap.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { Dc09Framer } from '../protocols/dc09/index.js';
import type { BridgeMetrics } from './metrics.js';
import type { Peer, Pipeline } from './pipeline.js';
import { RateLimitedWarn } from './rate-limited-log.js';

export interface TcpListenerOptions {
  listener: ListenerConfig;
  pipeline: Pipeline;
  logger: Logger;
  metrics: BridgeMetrics;
  maxConnections: number;
  idleTimeoutSeconds: number;
  maxFrameBytes: number;
}

export interface RunningListener {
  readonly name: string;
  readonly port: number;
  /** Stops accepting, lets frames in flight finish, then closes every connection. */
  close(): Promise<void>;
}

interface Connection {
  socket: Socket;
  /** Frames are processed one after another so replies keep the frames' order. */
  chain: Promise<void>;
}

export async function startTcpListener(options: TcpListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `dc09/tcp/${listener.host}:${listener.port}`;
  const connections = new Set<Connection>();
  const warn = new RateLimitedWarn(logger);
  const gauge = metrics.openConnections.labels({ listener: name });

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer: Peer = { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, transport: 'tcp' };
    const connection: Connection = { socket, chain: Promise.resolve() };
    const framer = new Dc09Framer({ maxFrameBytes: options.maxFrameBytes });
    connections.add(connection);
    gauge.inc();
    socket.setTimeout(options.idleTimeoutSeconds * 1000);
    socket.on('timeout', () => {
      logger.debug({ peer: `${peer.address}:${peer.port}` }, 'idle connection closed');
      socket.destroy();
    });
    socket.on('error', (err) => logger.debug({ peer: `${peer.address}:${peer.port}`, err: err.message }, 'connection error'));
    socket.on('close', () => {
      connections.delete(connection);
      gauge.dec();
    });
    socket.on('data', (chunk) => {
      const out = framer.push(chunk);
      if (out.junkBytes > 0) {
        metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
        warn.warn('junk', { peer: `${peer.address}:${peer.port}`, bytes: out.junkBytes }, 'dropped bytes that are not part of a DC-09 frame');
      }
      for (const frame of out.frames) {
        const received = process.hrtime.bigint();
        connection.chain = connection.chain.then(async () => {
          const decision = await pipeline.handleFrame(frame, peer);
          if (!decision.frame || socket.destroyed) return;
          socket.write(decision.frame);
          metrics.replies.inc({ kind: decision.kind });
          metrics.ackLatency.observe(Number(process.hrtime.bigint() - received) / 1e9);
          if (listener.closeAfterReplyMs !== null) {
            // Ajax Hub 2 misses an ACK when the socket closes right after it (protocols.md §1.1).
            setTimeout(() => socket.end(), listener.closeAfterReplyMs).unref();
          }
        });
      }
      if (out.overflowed) {
        metrics.rejections.inc({ reason: 'oversized' });
        warn.warn('oversized', { peer: `${peer.address}:${peer.port}`, maxFrameBytes: options.maxFrameBytes }, 'no frame end within the size cap: connection closed');
        connection.chain = connection.chain.then(() => { socket.destroy(); });
      }
    });
  });
  server.maxConnections = options.maxConnections;
  server.on('drop', (data) => {
    metrics.rejections.inc({ reason: 'max-connections' });
    warn.warn('max-connections', { peer: `${data?.remoteAddress}:${data?.remotePort}`, maxConnections: options.maxConnections }, 'connection refused: maxConnections reached');
  });
  server.on('error', (err) => logger.error({ listener: name, err: err.message }, 'listener error'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listener.host, port: listener.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listener.port;
  logger.info({ listener: name, port }, 'listening');

  return {
    name,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connections].map(async (c) => {
        await c.chain;
        c.socket.end();
        setTimeout(() => c.socket.destroy(), 1000).unref();
      }));
      await closed;
    },
  };
}
