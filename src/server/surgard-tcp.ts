/**
 * Sur-Gard MLR2 / System automation output over TCP (protocols.md §4, issue #8): records end with DC4 (or CR);
 * every record, heartbeats included, is answered ACK 0x06 once its events are accepted — the same durability
 * contract as DC-09 — and an unparseable record gets NAK 0x15 and a log line with its raw bytes.
 */
import { createServer, type Server } from 'node:net';
import { escapeFrame } from '../cli/escape.js';
import type { ListenerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { SourceFrame } from '../mapper/index.js';
import { parseSurgardRecord, SurgardFramer, SURGARD_ACK, SURGARD_NAK, type SurgardRecord } from '../protocols/surgard/index.js';
import type { BridgeMetrics } from './metrics.js';
import type { Peer, Pipeline } from './pipeline.js';
import { RateLimitedWarn } from './rate-limited-log.js';
import type { RunningListener } from './tcp.js';

export interface SurgardListenerOptions {
  listener: ListenerConfig;
  pipeline: Pipeline;
  logger: Logger;
  metrics: BridgeMetrics;
  maxConnections: number;
  idleTimeoutSeconds: number;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
}

/** A Contact ID or SIA record as the mapper's input: the same events as their DC-09 equivalents (issue #8). */
export function sourceFromSurgard(record: Exclude<SurgardRecord, { kind: 'heartbeat' }>, receivedAt: Date, peer: string, raw: string): SourceFrame {
  const cid = record.kind === 'cid';
  return {
    protocol: 'surgard',
    token: cid ? 'ADM-CID' : 'SIA-DCS',
    encrypted: false,
    account: (record.account ?? '').toUpperCase(),
    receiver: record.receiver,
    line: record.line,
    sequence: null,
    data: cid ? `${record.event.qualifier}${record.event.code} ${record.event.group} ${record.event.zone}` : record.data,
    xdata: [],
    timestamp: null,
    timestampTrusted: true,
    occurredAt: null,
    receivedAt,
    peer,
    transport: 'tcp',
    raw,
    events: cid ? [record.event] : record.events,
  };
}

export async function startSurgardListener(options: SurgardListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `surgard/tcp/${listener.host}:${listener.port}`;
  const warn = new RateLimitedWarn(logger);
  const gauge = metrics.openConnections.labels({ listener: name });
  const connections = new Set<{ socket: import('node:net').Socket; chain: Promise<void> }>();

  const handleRecord = async (bytes: Buffer, peer: Peer): Promise<Buffer> => {
    const raw = escapeFrame(bytes);
    const parsed = parseSurgardRecord(bytes);
    const peerText = `${peer.address}:${peer.port}`;
    if (!parsed.ok) {
      metrics.frames.inc({ transport: 'tcp', token: 'surgard', result: 'error' });
      metrics.rejections.inc({ reason: `surgard-${parsed.code}` });
      warn.warn(`surgard-${parsed.code}`, { peer: peerText, raw, error: parsed.error }, `Sur-Gard record refused (NAK): ${parsed.error}`);
      return SURGARD_NAK;
    }
    const now = new Date();
    const record = parsed.record;
    if (record.kind === 'heartbeat') {
      metrics.frames.inc({ transport: 'tcp', token: 'surgard-heartbeat', result: 'accepted' });
      if (listener.heartbeatAccount) options.onPanelActivity?.(listener.heartbeatAccount, peer, now);
      logger.debug({ peer: peerText, receiver: record.receiver }, 'Sur-Gard heartbeat');
      return SURGARD_ACK;
    }
    const source = sourceFromSurgard(record, now, peerText, raw);
    const accepted = await pipeline.acceptSource(source, source.token);
    metrics.frames.inc({ transport: 'tcp', token: `surgard-${record.kind}`, result: accepted ? 'accepted' : 'not-accepted' });
    if (!accepted) return SURGARD_NAK;
    if (listener.heartbeatAccount) options.onPanelActivity?.(listener.heartbeatAccount, peer, now);
    logger.info({ peer: peerText, account: source.account, receiver: record.receiver, line: record.line, codes: source.events.map((e) => (e.protocol === 'cid' ? `${e.qualifier}${e.code}` : e.code)) }, `Sur-Gard ${record.kind} ${source.account}`);
    return SURGARD_ACK;
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer: Peer = { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, transport: 'tcp' };
    const connection = { socket, chain: Promise.resolve() };
    const framer = new SurgardFramer();
    connections.add(connection);
    gauge.inc();
    socket.setTimeout(options.idleTimeoutSeconds * 1000);
    socket.on('timeout', () => socket.destroy());
    socket.on('error', (err) => logger.debug({ peer: `${peer.address}:${peer.port}`, err: err.message }, 'connection error'));
    socket.on('close', () => {
      connections.delete(connection);
      gauge.dec();
    });
    socket.on('data', (chunk) => {
      const out = framer.push(chunk);
      if (out.junkBytes > 0) metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
      if (out.overflowed) warn.warn('surgard-oversized', { peer: `${peer.address}:${peer.port}` }, 'Sur-Gard record over the size cap dropped');
      for (const record of out.records) {
        const received = process.hrtime.bigint();
        connection.chain = connection.chain.then(async () => {
          const reply = await handleRecord(record, peer);
          if (socket.destroyed) return;
          socket.write(reply);
          metrics.replies.inc({ kind: reply === SURGARD_ACK ? 'ACK' : 'NAK' });
          metrics.ackLatency.observe(Number(process.hrtime.bigint() - received) / 1e9);
        });
      }
    });
  });
  server.maxConnections = options.maxConnections;
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
