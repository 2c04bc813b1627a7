/**
 * Lupusec XT Contact ID over TCP (docs/contact-id.md §5, issue 19): `[<subscriber> 18QEEEGGZZZC]` messages, each
 * answered with the single byte 0x06 once its event is accepted (the same durability contract as DC-09). The
 * subscriber is the account. A wrong check digit is counted and logged, not refused; only a message that cannot
 * be parsed, or events the acceptor refused, get 0x15 (the panel sends it again).
 */
import { sourceFromNative } from '../../mapper/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { LUPUSEC_ACK, LUPUSEC_NAK, LupusecFramer, parseLupusecMessage } from '../../protocols/lupusec/index.js';
import { noteChecksumMismatches } from '../ops/cid-checksum.js';
import type { Peer, Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { serveTcp, type RunningListener, type TcpListenerBase } from './tcp-server.js';

export interface LupusecListenerOptions extends TcpListenerBase {
  pipeline: Pipeline;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
  /** Receiver clock (tests and fixture replays set it). */
  now?: () => Date;
}

export async function startLupusecListener(options: LupusecListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `lupusec-cid/tcp/${listener.host}:${listener.port}`;
  const warn = new RateLimitedWarn(logger);
  const now = options.now ?? (() => new Date());

  const handleMessage = async (bytes: Buffer, peer: Peer): Promise<Buffer> => {
    const raw = escapeFrame(bytes);
    const peerText = `${peer.address}:${peer.port}`;
    const parsed = parseLupusecMessage(bytes);
    if (!parsed.ok) {
      metrics.frames.inc({ transport: 'tcp', token: 'lupusec-cid', result: 'error' });
      metrics.rejections.inc({ reason: 'lupusec-cid-unparseable' });
      warn.warn('lupusec-cid-unparseable', { peer: peerText, raw, error: parsed.error }, `Lupusec message refused (NAK): ${parsed.error}`);
      return LUPUSEC_NAK;
    }
    const at = now();
    const { subscriber, event } = parsed.message;
    const source = sourceFromNative({
      protocol: 'lupusec-cid',
      token: 'ADM-CID',
      account: subscriber,
      data: bytes.toString('latin1'),
      events: [event],
      receivedAt: at,
      peer: peerText,
      raw,
    });
    noteChecksumMismatches(source.events, 'lupusec-cid', metrics, warn, { peer: peerText, account: source.account, raw });
    const accepted = await pipeline.acceptSource(source, source.token);
    metrics.frames.inc({ transport: 'tcp', token: 'lupusec-cid', result: accepted ? 'accepted' : 'not-accepted' });
    if (!accepted) return LUPUSEC_NAK;
    options.onPanelActivity?.(source.account, peer, at);
    logger.info(
      { peer: peerText, account: source.account, codes: [`${event.qualifier}${event.code}`] },
      `Lupusec Contact ID ${source.account}`,
    );
    return LUPUSEC_ACK;
  };

  return serveTcp({
    ...options,
    name,
    onConnection(connection) {
      const framer = new LupusecFramer();
      return (chunk) => {
        const out = framer.push(chunk);
        if (out.junkBytes > 0) metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
        for (const message of out.messages) {
          connection.reply(async () => {
            const reply = await handleMessage(message, connection.peer);
            return { frame: reply, kind: reply === LUPUSEC_ACK ? 'ACK' : 'NAK' };
          }, process.hrtime.bigint());
        }
        return out.messages.length > 0;
      };
    },
  });
}
