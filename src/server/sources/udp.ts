/** DC-09 over UDP: one frame per datagram, the reply to the datagram's source address and port (docs/dc09.md §1). */
import { createSocket } from 'node:dgram';
import type { ListenerConfig } from '../../config/types.js';
import { errorStack, type Logger } from '../../log.js';
import { Dc09Framer } from '../../protocols/dc09/index.js';
import type { BridgeMetrics } from '../ops/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { bound, type RunningListener } from './tcp-server.js';

export interface UdpListenerOptions {
  listener: ListenerConfig;
  pipeline: Pipeline;
  logger: Logger;
  metrics: BridgeMetrics;
  maxFrameBytes: number;
}

export async function startUdpListener(options: UdpListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `dc09/udp/${listener.host}:${listener.port}`;
  const socket = createSocket(listener.host.includes(':') ? 'udp6' : 'udp4');
  const warn = new RateLimitedWarn(logger);
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  socket.on('message', (datagram, rinfo) => {
    if (closing) return;
    const received = process.hrtime.bigint();
    // A datagram carries one frame; the framer strips junk and NULs around it.
    const out = new Dc09Framer({ maxFrameBytes: options.maxFrameBytes }).push(datagram);
    if (out.frames.length === 0) {
      metrics.rejections.inc({ reason: 'not-a-frame' });
      warn.warn('not-a-frame', { peer: `${rinfo.address}:${rinfo.port}`, bytes: datagram.length }, 'datagram holds no DC-09 frame');
      return;
    }
    const peer = { address: rinfo.address, port: rinfo.port, transport: 'udp' as const };
    for (const frame of out.frames) {
      const work = pipeline.handleFrame(frame, peer).then((decision) => {
        if (!decision.frame) return;
        socket.send(decision.frame, rinfo.port, rinfo.address);
        metrics.replies.inc({ kind: decision.kind });
        metrics.ackLatency.observe(Number(process.hrtime.bigint() - received) / 1e9);
      });
      const guarded = work.catch((err: unknown) => logger.error({ peer: `${rinfo.address}:${rinfo.port}`, listener: name, err: errorStack(err) }, 'frame processing failed'));
      inFlight.add(guarded);
      void guarded.finally(() => inFlight.delete(guarded));
    }
  });
  socket.on('error', (err) => logger.error({ listener: name, err: err.message }, 'UDP listener error'));

  await bound(socket, (done) => socket.bind({ address: listener.host, port: listener.port }, done));
  const port = socket.address().port;
  logger.info({ listener: name, port }, 'listening');
  return {
    name,
    port,
    async close() {
      closing = true;
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
