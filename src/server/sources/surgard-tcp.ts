/**
 * Sur-Gard MLR2 / System automation output over TCP (docs/surgard.md, issue #8): records end with DC4 (or CR);
 * every record, heartbeats included, is answered ACK 0x06 once its events are accepted — the same durability
 * contract as DC-09 — and an unparseable record gets NAK 0x15 and a log line with its raw bytes.
 */
import { escapeFrame } from '../../protocols/escape.js';
import { sourceFromSurgard } from '../../mapper/index.js';
import { parseSurgardRecord, SurgardFramer, SURGARD_ACK, SURGARD_NAK } from '../../protocols/surgard/index.js';
import type { Peer, Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { serveTcp, type RunningListener, type TcpListenerBase } from './tcp-server.js';

export interface SurgardListenerOptions extends TcpListenerBase {
  pipeline: Pipeline;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
}

export async function startSurgardListener(options: SurgardListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `surgard/tcp/${listener.host}:${listener.port}`;
  const warn = new RateLimitedWarn(logger);

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
    // The record's own account reported (its supervision resets) and so did the receiver link.
    if (source.account) options.onPanelActivity?.(source.account, peer, now);
    if (listener.heartbeatAccount) options.onPanelActivity?.(listener.heartbeatAccount, peer, now);
    logger.info({ peer: peerText, account: source.account, receiver: record.receiver, line: record.line, codes: source.events.map((e) => (e.protocol === 'cid' ? `${e.qualifier}${e.code}` : e.code)) }, `Sur-Gard ${record.kind} ${source.account}`);
    return SURGARD_ACK;
  };

  return serveTcp({
    name,
    listener,
    logger,
    metrics,
    maxConnections: options.maxConnections,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    onConnection(connection) {
      const framer = new SurgardFramer();
      return (chunk) => {
        const out = framer.push(chunk);
        if (out.junkBytes > 0) metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
        if (out.overflowed) warn.warn('surgard-oversized', { peer: `${connection.peer.address}:${connection.peer.port}` }, 'Sur-Gard record over the size cap dropped');
        for (const record of out.records) {
          connection.reply(async () => {
            const reply = await handleRecord(record, connection.peer);
            return { frame: reply, kind: reply === SURGARD_ACK ? 'ACK' : 'NAK' };
          }, process.hrtime.bigint());
        }
      };
    },
  });
}
