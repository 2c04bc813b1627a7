/**
 * Sur-Gard MLR2 / System automation output over TCP (docs/surgard.md, issue #8): records end with DC4 (or CR);
 * every record, heartbeats included, is answered ACK 0x06 once its events are accepted — the same durability
 * contract as DC-09 — and an unparseable record gets NAK 0x15 and a log line with its raw bytes.
 */
import { SurgardFramer } from '../../protocols/surgard/index.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { serveTcp, type RunningListener, type TcpListenerBase } from './tcp-server.js';

export interface SurgardListenerOptions extends TcpListenerBase {
  pipeline: Pipeline;
}

/** Frames the records and writes the pipeline's answers, in record order. */
export async function startSurgardListener(options: SurgardListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `surgard/tcp/${listener.host}:${listener.port}`;
  const warn = new RateLimitedWarn(logger);
  const heartbeatAccount = listener.heartbeatAccount ?? null;

  return serveTcp({
    name,
    listener,
    logger,
    metrics,
    slots: options.slots,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    onConnection(connection) {
      const framer = new SurgardFramer();
      return (chunk) => {
        const out = framer.push(chunk);
        if (out.junkBytes > 0) metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
        if (out.overflowed)
          warn.warn(
            'surgard-oversized',
            { peer: `${connection.peer.address}:${connection.peer.port}` },
            'Sur-Gard record over the size cap dropped',
          );
        for (const record of out.records) {
          connection.reply(() => pipeline.handleSurgard(record, connection.peer, heartbeatAccount), process.hrtime.bigint());
        }
        return out.records.length > 0;
      };
    },
  });
}
