/**
 * Honeywell Galaxy native "SIA over IP" over TCP (docs/sia-dcs.md §4, issue 19): DC-03 blocks, each good one
 * answered with the ACK block and a bad one with the reject block (the panel sends it again). An event block's
 * ACK waits until its events are accepted — the same durability contract as DC-09 — and a refusal gets the reject
 * block so the panel retries. The connection ends after the end-of-data block is answered.
 */
import { sourceFromNative } from '../../mapper/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { GALAXY_ACK, GALAXY_REJECT, GalaxyFramer, readGalaxyBlock, type GalaxyMessage } from '../../protocols/galaxy/index.js';
import type { Peer, Pipeline } from '../pipeline/pipeline.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import { serveTcp, type RunningListener, type TcpListenerBase } from './tcp-server.js';

export interface GalaxyListenerOptions extends TcpListenerBase {
  pipeline: Pipeline;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
  /** Receiver clock (tests and fixture replays set it). */
  now?: () => Date;
}

/** One connection's session: the account of its last account block (docs/sia-dcs.md §4: it comes first, repeated until answered). */
interface Session {
  account: string | null;
}

type Reply = { frame: Buffer; kind: 'ACK' | 'NAK' };
const ACK: Reply = { frame: GALAXY_ACK, kind: 'ACK' };
const REJECT: Reply = { frame: GALAXY_REJECT, kind: 'NAK' };

export async function startGalaxyListener(options: GalaxyListenerOptions): Promise<RunningListener> {
  const { listener, pipeline, logger, metrics } = options;
  const name = `galaxy/tcp/${listener.host}:${listener.port}`;
  const warn = new RateLimitedWarn(logger);
  const now = options.now ?? (() => new Date());
  const count = (kind: string, result: string) => metrics.frames.inc({ transport: 'tcp', token: `galaxy-${kind}`, result });

  const acceptEvent = async (
    message: Extract<GalaxyMessage, { kind: 'event' }>,
    raw: string,
    session: Session,
    peer: Peer,
  ): Promise<Reply> => {
    const at = now();
    const peerText = `${peer.address}:${peer.port}`;
    const { decoded } = message;
    const source = sourceFromNative({
      protocol: 'galaxy',
      token: 'SIA-DCS',
      account: session.account ?? '',
      data: message.data,
      events: decoded.ok ? decoded.events : [],
      receivedAt: at,
      peer: peerText,
      raw,
    });
    // An event block that does not decode is still answered (a reject would make the panel resend it forever) and
    // kept as a dead letter with its raw bytes.
    const accepted = decoded.ok
      ? await pipeline.acceptSource(source, source.token)
      : await pipeline.keepUndecodable(source, decoded.error, peer);
    count('event', accepted ? 'accepted' : 'not-accepted');
    if (!accepted) return REJECT;
    if (source.account) options.onPanelActivity?.(source.account, peer, at);
    logger.info(
      { peer: peerText, account: source.account, codes: source.events.map((e) => e.code) },
      `Galaxy event ${source.account} ${message.data}`,
    );
    return ACK;
  };

  const handleBlock = async (block: Buffer, message: GalaxyMessage, session: Session, peer: Peer): Promise<Reply> => {
    const peerText = `${peer.address}:${peer.port}`;
    switch (message.kind) {
      case 'bad-block':
        count('block', 'error');
        metrics.rejections.inc({ reason: `galaxy-${message.code}` });
        warn.warn(
          `galaxy-${message.code}`,
          { peer: peerText, raw: escapeFrame(block), error: message.error },
          `Galaxy block rejected: ${message.error}`,
        );
        return REJECT;
      case 'account':
        // Repeats of the account block (sent every 50-100 ms until answered) only set the same account again.
        session.account = message.account.toUpperCase();
        count('account', 'accepted');
        options.onPanelActivity?.(session.account, peer, now());
        return ACK;
      case 'event':
        return acceptEvent(message, escapeFrame(block), session, peer);
      case 'text':
        // The text block follows an event block that was already answered (and so stored): it is logged with it.
        count('text', 'accepted');
        logger.info({ peer: peerText, account: session.account, text: message.text }, 'Galaxy text block');
        return ACK;
      case 'end':
        count('end', 'accepted');
        return ACK;
      case 'other':
        count('other', 'accepted');
        logger.debug(
          { peer: peerText, account: session.account, function: message.function, data: message.data },
          'Galaxy block acknowledged, nothing to forward',
        );
        return ACK;
    }
  };

  return serveTcp({
    ...options,
    name,
    onConnection(connection) {
      const framer = new GalaxyFramer();
      const session: Session = { account: null };
      return (chunk) => {
        const out = framer.push(chunk);
        if (out.junkBytes > 0) metrics.junkBytes.inc({ transport: 'tcp' }, out.junkBytes);
        for (const block of out.blocks) {
          const message = readGalaxyBlock(block);
          connection.reply(() => handleBlock(block, message, session, connection.peer), process.hrtime.bigint());
          // docs/sia-dcs.md §4: the session ends with the end-of-data block; its ACK is written first.
          if (message.kind === 'end') connection.afterQueued(() => void connection.socket.end());
        }
        return out.blocks.length > 0;
      };
    },
  });
}
