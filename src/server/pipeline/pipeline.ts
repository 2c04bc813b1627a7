/**
 * The per-frame pipeline (design: decode → reply policy → map → accept → reply): bytes of one DC-09 frame in,
 * the reply to write out. The reply is only an ACK once the durable log took the frame's events (issue #4).
 */
import type { BridgeConfig } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log.js';
import { frameEventId, mapFrame, sourceFromDc09, type MappedEvent, type SourceFrame } from '../../mapper/index.js';
import { decodePayload } from '../../protocols/decode.js';
import { buildNak, decideReply, parseFrame, REPLY_TOKENS, REQUEST_TOKENS, type Dc09Message, type ReplyDecision } from '../../protocols/dc09/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { RefusalError, type DurableLog, type NotForwarded, type Refusal } from '../../sink/durable-log.js';
import type { OutgoingEvent } from '../../sink/types.js';
import type { BridgeMetrics } from '../ops/metrics.js';
import { accountDirectory, type AccountDirectory } from './policy.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';

export interface Peer {
  address: string;
  port: number;
  transport: 'tcp' | 'udp';
}

export interface PipelineDeps {
  config: BridgeConfig;
  /** Where accepted events go: the frame is ACKed once `append` resolved. */
  log: DurableLog;
  logger: Logger;
  metrics: BridgeMetrics;
  now?: () => Date;
  /** Called for every authenticated frame (valid CRC, known or accepted account, right key): supervision. */
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
}

/** `rejections` metric reason for each refusal of the log (an unexpected error: `not-accepted`). */
const REFUSAL_REASONS: Readonly<Record<Refusal, string>> = {
  'log-full': 'outbox-full',
  'delivery-timeout': 'delivery-timeout',
  'queue-full': 'queue-full',
  'delivery-failed': 'not-accepted',
  'write-failed': 'not-accepted',
  closed: 'not-accepted',
};

/** What accepting a frame's events came to (see `mapAndAccept`). */
type AcceptResult = 'accepted' | 'refused' | 'persisted-not-delivered';

interface DuplicateEntry {
  expires: number;
  /** Account, token and data of the remembered frame (for untimestamped frames the key is only the account). */
  content: string;
  /** Pending while the first copy is being accepted (a copy waits for its outcome); true once it was accepted. */
  accepted: Promise<AcceptResult> | true;
}

/**
 * Cap of remembered frames for duplicate suppression: at 10,000 frames/s a 120 s window would otherwise hold
 * 1.2 million keys. Past the cap the oldest are forgotten first (a late retransmission is then forwarded again;
 * with a panel timestamp it keeps its event_id, which the API can de-duplicate).
 */
const MAX_DUPLICATE_KEYS = 100_000;

const peerText = (peer: Peer) => `${peer.address}:${peer.port}`;

/** Metric label for a token: anything a panel can put there beyond the known tokens folds into `other`. */
const KNOWN_TOKENS: ReadonlySet<string> = new Set([...REQUEST_TOKENS, ...REPLY_TOKENS]);
const tokenLabel = (token: string | undefined) => (token === undefined ? 'unknown' : KNOWN_TOKENS.has(token) ? token : 'other');

/** At most this many (account, code) pairs remembered for "log unknown codes once"; then the memory starts over. */
const MAX_WARNED_CODES = 10_000;

export class Pipeline {
  private config: BridgeConfig;
  private directory: AccountDirectory;
  private readonly duplicates = new Map<string, DuplicateEntry>();
  private readonly warned = new Set<string>();
  private readonly warn: RateLimitedWarn;
  private readonly now: () => Date;

  constructor(private readonly deps: PipelineDeps) {
    this.config = deps.config;
    this.directory = accountDirectory(deps.config);
    this.warn = new RateLimitedWarn(deps.logger);
    this.now = deps.now ?? (() => new Date());
  }

  /** Swaps in a new configuration (SIGHUP): accounts, keys and mapping; connections stay up. */
  reconfigure(config: BridgeConfig): void {
    this.config = config;
    this.directory = accountDirectory(config);
    this.warned.clear();
  }

  get currentConfig(): BridgeConfig {
    return this.config;
  }

  /** Processes one DC-09 frame; never rejects. */
  async handleFrame(frame: Buffer, peer: Peer): Promise<ReplyDecision> {
    const { logger, metrics } = this.deps;
    const now = this.now();
    const result = parseFrame(frame, { keysFor: this.directory.keysFor });
    const decision = decideReply(result, this.directory.policy, { now });
    if (!result.ok) {
      metrics.frames.inc({ transport: peer.transport, token: tokenLabel(result.error.partial.token), result: 'error' });
      metrics.rejections.inc({ reason: result.error.code });
      this.warn.warn(result.error.code, { peer: peerText(peer), transport: peer.transport, error: result.error.message, reply: decision.kind, frame: escapeFrame(frame.subarray(0, 256)) }, `rejected frame: ${result.error.message}`);
      return decision;
    }
    const message = result.message;
    if (logger.isLevelEnabled('debug')) logger.debug({ peer: peerText(peer), transport: peer.transport, frame: escapeFrame(frame) }, 'frame');
    if (decision.kind !== 'ACK') {
      metrics.frames.inc({ transport: peer.transport, token: tokenLabel(message.token), result: decision.kind === 'none' ? 'ignored' : 'rejected' });
      if (decision.kind !== 'none') {
        metrics.rejections.inc({ reason: decision.reason });
        this.warn.warn(decision.reason, { peer: peerText(peer), transport: peer.transport, account: decision.account, dc09Token: message.token, sequence: message.sequence, skewSeconds: decision.skewSeconds, reply: decision.kind }, `answered ${decision.kind}: ${decision.reason}`);
      }
      return decision;
    }
    const account = decision.account ?? '';
    this.deps.onPanelActivity?.(account, peer, now);
    if (decision.skewFlagged) {
      this.warn.warn('clock-skew', { peer: peerText(peer), account, skewSeconds: decision.skewSeconds }, `panel clock is ${Math.round(decision.skewSeconds ?? 0)} s off; accepted (clear text), event time taken from receipt`);
    }
    const payload = decodePayload(message);
    // Link tests (NULL) carry no events: nothing to map or keep, so no source frame is built for them.
    let accepted = true;
    if (payload.events.length > 0 || payload.dataError) {
      const source = sourceFromDc09(message, payload.events, { account, receivedAt: now, peer: peerText(peer), transport: peer.transport, raw: escapeFrame(frame), skewFlagged: decision.skewFlagged });
      // A data block that does not decode is still ACKed (a NAK or DUH would make the panel resend it forever,
      // protocols.md §1.11) — and kept for the operator as a dead letter with the raw frame.
      accepted = payload.dataError ? await this.keepUndecodable(source, payload.dataError, peer) : await this.acceptSource(source, message.token);
    }
    if (!accepted) {
      metrics.frames.inc({ transport: peer.transport, token: tokenLabel(message.token), result: 'not-accepted' });
      return { ...decision, kind: 'NAK', reason: 'not-accepted', frame: buildNak(now, { crcForm: message.crc.form, crcIncludesCr: message.crc.includesCr }) };
    }
    metrics.frames.inc({ transport: peer.transport, token: tokenLabel(message.token), result: 'accepted' });
    this.logFrame(message, payload.events.map((e) => (e.protocol === 'cid' ? `${e.qualifier}${e.code}` : e.code)), account, peer, decision);
    return decision;
  }

  /** Keeps a frame whose data block did not decode as a dead letter (`undecodable-data`); true once kept. */
  private async keepUndecodable(source: SourceFrame, error: string, peer: Peer): Promise<boolean> {
    this.deps.metrics.events.inc({ outcome: 'undecodable-data' });
    this.warn.warn('undecodable-data', { peer: peerText(peer), account: source.account, dc09Token: source.token, data: source.data, error }, 'data block did not decode; frame ACKed and kept as a dead letter');
    const { log } = this.deps;
    if (!log.keepNotForwarded) return true;
    try {
      await log.keepNotForwarded([{ eventId: frameEventId(source, 0), account: source.account, reason: 'undecodable-data', message: `${error}; raw frame ${source.raw}`, source, index: 0 }]);
      return true;
    } catch (err) {
      this.deps.logger.error({ account: source.account, err: errorMessage(err) }, 'could not keep an undecodable frame: answering NAK');
      return false;
    }
  }

  /**
   * Maps and accepts the events of a frame (DC-09 or Sur-Gard). Resolves true once accepted (or a retransmission
   * of an accepted frame), false when the acceptor refused them (the caller NAKs).
   *
   * Retransmissions (protocols.md §1.6: Ajax resends with the same sequence, Eldes with sequence + 1): a frame
   * with a timestamp is a copy when (account, token, data, timestamp) was accepted within the window; a frame
   * without one only when it repeats the account's last accepted frame — otherwise alarm, restore, alarm again
   * within two minutes would lose the second alarm.
   */
  async acceptSource(source: SourceFrame, token: string): Promise<boolean> {
    if (source.events.length === 0) return true;
    const nowMs = source.receivedAt.getTime();
    const content = `${source.account}\u0000${token}\u0000${source.data}`;
    const timed = source.timestamp !== null;
    const key = timed ? `${content}\u0000${source.timestamp!.getTime()}` : source.account;
    this.expireDuplicates(nowMs);
    const previous = this.duplicates.get(key);
    // A timestamped key contains the content already; an untimestamped one (the account) must also match it.
    if (previous && previous.expires > nowMs && previous.content === content && (previous.accepted === true || (await previous.accepted) !== 'refused')) {
      this.deps.metrics.events.inc({ outcome: 'duplicate' }, source.events.length);
      this.deps.logger.info({ account: source.account, dc09Token: token, peer: source.peer, sequence: source.sequence }, 'retransmission of an accepted frame: answered, not forwarded again');
      return true;
    }
    const accepted = this.mapAndAccept(source);
    const windowMs = this.config.receiver.duplicateWindowSeconds * 1000;
    if (windowMs <= 0) return (await accepted) === 'accepted';
    const entry: DuplicateEntry = { expires: nowMs + windowMs, content, accepted };
    if (previous) this.duplicates.delete(key); // re-inserted at the end: insertion order is expiry order
    this.duplicates.set(key, entry);
    if (this.duplicates.size > MAX_DUPLICATE_KEYS) this.duplicates.delete(this.duplicates.keys().next().value!);
    const result = await accepted;
    if (result === 'refused') {
      if (this.duplicates.get(key) === entry) this.duplicates.delete(key);
    } else {
      entry.accepted = true; // drop the promise: only a flag stays in memory
    }
    return result === 'accepted';
  }

  /**
   * `accepted`; `refused` (nothing stored: NAK, and a retransmission is processed anew); `persisted-not-delivered`
   * (stored, but `ackAfter: "delivered"` timed out: NAK, yet a retransmission must not be stored a second time).
   */
  private async mapAndAccept(source: SourceFrame): Promise<AcceptResult> {
    const outgoing: OutgoingEvent[] = [];
    const kept: NotForwarded[] = [];
    const { log } = this.deps;
    try {
      for (const event of mapFrame(source, this.config)) {
        this.deps.metrics.events.inc({ outcome: event.forwarded ? 'forwarded' : event.reason });
        if (event.forwarded) outgoing.push({ body: event.body, account: event.account, ...(event.media ? { media: event.media } : {}) });
        else if (this.noteNotForwarded(event)) kept.push(event);
      }
      if (kept.length > 0 && log.keepNotForwarded) await log.keepNotForwarded(kept);
      if (outgoing.length > 0) await log.append(outgoing);
      return 'accepted';
    } catch (err) {
      const refusal = err instanceof RefusalError ? err : null;
      this.deps.metrics.rejections.inc({ reason: refusal ? REFUSAL_REASONS[refusal.refusal] : 'not-accepted' });
      this.deps.logger.error({ account: source.account, err: errorMessage(err), events: outgoing.length }, 'events not accepted: answering NAK so the panel retries');
      return refusal?.stored ? 'persisted-not-delivered' : 'refused';
    }
  }

  /** Logs an event that is not forwarded; true when the operator needs it kept (unmapped accounts and cameras). */
  private noteNotForwarded(event: Extract<MappedEvent, { forwarded: false }>): boolean {
    const fields = { account: event.account, code: event.panelEvent.code, reason: event.reason, eventId: event.eventId, configKey: event.configKey };
    if (event.reason === 'ignored') {
      this.deps.logger.debug(fields, event.message);
      return false;
    }
    if (event.reason === 'unknown-code') {
      // Logged once per code and account (issue #3).
      const once = `${event.account}\u0000${event.panelEvent.protocol}:${event.panelEvent.code}`;
      if (!this.warned.has(once)) {
        if (this.warned.size >= MAX_WARNED_CODES) this.warned.clear();
        this.warned.add(once);
        this.deps.logger.warn(fields, event.message);
      }
      return false;
    }
    this.warn.warn(event.reason, fields, event.message);
    // Unmapped accounts and cameras wait for the operator (issue #6: dead letters, `outbox retry` after the fix).
    return true;
  }

  private expireDuplicates(nowMs: number): void {
    // Insertion order is expiry order while the window stays the same; after a reload changes it, entries expire a
    // little late or early, which only widens or narrows suppression once.
    for (const [key, entry] of this.duplicates) {
      if (entry.expires > nowMs) break;
      this.duplicates.delete(key);
    }
  }

  private logFrame(message: Dc09Message, codes: string[], account: string, peer: Peer, decision: ReplyDecision): void {
    // Link tests (NULL) arrive every few seconds per panel: debug, not info (and not even built when debug is off).
    const level = codes.length > 0 ? 'info' : 'debug';
    if (!this.deps.logger.isLevelEnabled(level)) return;
    this.deps.logger[level](
      { peer: peerText(peer), transport: peer.transport, account, dc09Token: message.token, encrypted: message.encrypted, sequence: message.sequence, codes, reply: decision.kind },
      codes.length > 0 ? `${message.token} ${account} ${codes.join(' ')}` : `${message.token} ${account}`,
    );
  }
}
