/**
 * DC-09 over UDP: one frame per datagram, the reply to the datagram's source address and port (docs/dc09.md §1).
 * A UDP source address can be forged, so the listener must not be usable as a reflector: a datagram that is not
 * exactly one frame gets nothing, a reply is never larger than the datagram it answers, and each source address
 * has a token bucket of datagrams (a source past it is dropped unread, which also keeps a flood from starving TCP).
 */
import { createSocket } from 'node:dgram';
import type { ListenerConfig } from '../../config/types.js';
import { errorStack, type Logger } from '../../log.js';
import { frameOfDatagram, type DatagramFrame } from '../../protocols/dc09/index.js';
import type { BridgeMetrics } from '../ops/metrics.js';
import type { Peer, Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { bound, type RunningListener } from './tcp-server.js';
import { TokenBuckets } from './token-buckets.js';

export interface UdpRateLimit {
  perSecond: number;
  burst: number;
}

export interface UdpListenerOptions {
  listener: ListenerConfig;
  pipeline: Pipeline;
  logger: Logger;
  metrics: BridgeMetrics;
  maxFrameBytes: number;
  /** Datagrams handled per source address; null: no limit. */
  rateLimit: UdpRateLimit | null;
}

/** What answering one datagram needs. */
export interface DatagramContext {
  pipeline: Pipeline;
  metrics: BridgeMetrics;
  warn: RateLimitedWarn;
  maxFrameBytes: number;
}

type Refusal = Extract<DatagramFrame, { ok: false }>['reason'];

/** `rejections` metric reason and log line of a datagram that is not exactly one frame. */
const REFUSALS: Readonly<Record<Refusal, { reason: string; message: string }>> = {
  'no-frame': { reason: 'not-a-frame', message: 'datagram holds no DC-09 frame' },
  'several-frames': { reason: 'udp-several-frames', message: 'datagram holds more than one frame: not answered (one frame per datagram)' },
  'bytes-outside-frame': {
    reason: 'udp-bytes-outside-frame',
    message: 'datagram holds bytes besides its frame and NUL/CR/LF padding: not answered',
  },
};

/**
 * The reply one datagram gets, or null: not exactly one frame, a frame that needs no answer, or a reply larger than
 * the datagram (a short frame's NAK, 47 bytes, would otherwise amplify a forged request). Never rejects.
 */
export async function answerDatagram(
  datagram: Buffer,
  peer: Peer,
  context: DatagramContext,
): Promise<{ frame: Buffer; kind: string } | null> {
  const { metrics, warn } = context;
  const found = frameOfDatagram(datagram, context.maxFrameBytes);
  if (!found.ok) {
    const refusal = REFUSALS[found.reason];
    metrics.rejections.inc({ reason: refusal.reason });
    warn.warn(refusal.reason, { peer: `${peer.address}:${peer.port}`, bytes: datagram.length }, refusal.message);
    return null;
  }
  const decision = await context.pipeline.handleFrame(found.frame, peer);
  if (!decision.frame) return null;
  if (decision.frame.length > datagram.length) {
    metrics.rejections.inc({ reason: 'udp-reply-larger-than-request' });
    warn.warn(
      'udp-reply-larger-than-request',
      { peer: `${peer.address}:${peer.port}`, bytes: datagram.length, reply: decision.kind, replyBytes: decision.frame.length },
      `${decision.kind} not sent: it would be larger than the datagram it answers`,
    );
    return null;
  }
  return { frame: decision.frame, kind: decision.kind };
}

export async function startUdpListener(options: UdpListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `dc09/udp/${listener.host}:${listener.port}`;
  const socket = createSocket(listener.host.includes(':') ? 'udp6' : 'udp4');
  const warn = new RateLimitedWarn(logger);
  const context: DatagramContext = { pipeline, metrics, warn, maxFrameBytes: options.maxFrameBytes };
  const buckets = options.rateLimit ? new TokenBuckets(options.rateLimit) : null;
  const rateLimited = metrics.rejections.labels({ reason: 'udp-rate-limited' });
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  socket.on('message', (datagram, rinfo) => {
    if (closing) return;
    if (buckets && !buckets.take(rinfo.address)) {
      rateLimited.inc();
      warn.warn(
        'udp-rate-limited',
        { address: rinfo.address },
        'datagrams dropped unread: source address over receiver.udpDatagramsPerSecondPerSource',
      );
      return;
    }
    const received = process.hrtime.bigint();
    const peer: Peer = { address: rinfo.address, port: rinfo.port, transport: 'udp' };
    const work = answerDatagram(datagram, peer, context).then((reply) => {
      if (!reply) return;
      socket.send(reply.frame, rinfo.port, rinfo.address);
      metrics.replyCounts.inc(reply.kind);
      metrics.ackLatency.observe(Number(process.hrtime.bigint() - received) / 1e9);
    });
    const guarded = work.catch((err: unknown) =>
      logger.error({ peer: `${rinfo.address}:${rinfo.port}`, listener: name, err: errorStack(err) }, 'frame processing failed'),
    );
    inFlight.add(guarded);
    void guarded.finally(() => inFlight.delete(guarded));
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
