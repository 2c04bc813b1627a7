/**
 * DC-09 over TCP (docs/dc09.md §1, issue #4): one framer per connection, several frames per connection and per
 * segment, replies in frame order, idle timeout, optional close-after-reply delay, a connection cap.
 */
import { Dc09Framer } from '../../protocols/dc09/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { serveTcp, type Connection, type RunningListener, type TcpListenerBase } from './tcp-server.js';

export type { RunningListener } from './tcp-server.js';

export interface TcpListenerOptions extends TcpListenerBase {
  pipeline: Pipeline;
  maxFrameBytes: number;
}

export function startTcpListener(options: TcpListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const warn = new RateLimitedWarn(logger);
  const closeAfter = listener.closeAfterReplyMs;
  const closeTimers = new WeakMap<Connection, NodeJS.Timeout>();
  return serveTcp({
    name: `dc09/tcp/${listener.host}:${listener.port}`,
    listener,
    logger,
    metrics,
    slots: options.slots,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    // Ajax Hub 2 misses an ACK when the socket closes right after it (docs/dc09.md §1). Each reply restarts the
    // delay, and frames still waiting for their reply keep the connection open.
    ...(closeAfter !== null
      ? {
          afterReply: (c) => {
            clearTimeout(closeTimers.get(c));
            closeTimers.set(
              c,
              setTimeout(() => {
                if (c.queued === 0) c.socket.end();
              }, closeAfter).unref(),
            );
          },
        }
      : {}),
    onConnection(connection) {
      const framer = new Dc09Framer({ maxFrameBytes: options.maxFrameBytes });
      const peer = `${connection.peer.address}:${connection.peer.port}`;
      return (chunk) => {
        const out = framer.push(chunk);
        if (out.junkBytes > 0) {
          metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
          warn.warn('junk', { peer, bytes: out.junkBytes }, 'dropped bytes that are not part of a DC-09 frame');
        }
        for (const frame of out.frames) {
          connection.reply(() => pipeline.handleFrame(frame, connection.peer), process.hrtime.bigint());
        }
        if (out.overflowed) {
          metrics.rejections.inc({ reason: 'oversized' });
          warn.warn('oversized', { peer, maxFrameBytes: options.maxFrameBytes }, 'no frame end within the size cap: connection closed');
          connection.afterQueued(() => connection.socket.destroy());
        }
        return out.frames.length > 0;
      };
    },
  });
}
