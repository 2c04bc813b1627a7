/**
 * The per-frame pipeline (receive → duplicate filter → map → durable log → reply): bytes of one DC-09 frame or
 * Sur-Gard record in, the reply to write out. The reply is only an ACK once the durable log took the frame's events
 * (issue #4).
 */
import type { BridgeConfig } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log.js';
import { frameEventId, mapFrame, type MappedEvent, type SourceFrame } from '../../mapper/index.js';
import { buildNak, REPLY_TOKENS, REQUEST_TOKENS, type Dc09Message, type ReplyDecision } from '../../protocols/dc09/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { SURGARD_NAK } from '../../protocols/surgard/index.js';
import { RefusalError, type DurableLog, type NotForwarded, type Refusal } from '../../sink/durable-log.js';
import type { OutgoingEvent } from '../../sink/types.js';
import type { BridgeMetrics } from '../ops/metrics.js';
import { accountDirectory, type AccountDirectory } from './policy.js';
import { nakHint } from './nak-hints.js';
import { RateLimitedWarn } from '../ops/rate-limited-log.js';
import type { ActivityObserver } from '../ops/activity.js';
import { DuplicateFilter, type AcceptResult, type LastFrameStore } from './duplicates.js';
import { receiveDc09, receiveSurgard, type SurgardDecision } from './receive.js';
import { noteChecksumMismatches } from '../ops/cid-checksum.js';

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
  /** The operator console's recorder: told of each answered DC-09 frame and each mapped event. */
  activity?: ActivityObserver;
  /** The accounts' last frames shared with other instances (cluster mode); default: this instance's memory alone. */
  lastFrames?: LastFrameStore;
}

/** `rejections` metric reason for each refusal of the log (an unexpected error: `not-accepted`). */
const REFUSAL_REASONS: Readonly<Record<Refusal, string>> = {
  'log-full': 'outbox-full',
  'delivery-timeout': 'delivery-timeout',
  'queue-full': 'queue-full',
  'delivery-failed': 'not-accepted',
  'write-failed': 'not-accepted',
  'store-unavailable': 'store-unavailable',
  closed: 'not-accepted',
};

const peerText = (peer: Peer) => `${peer.address}:${peer.port}`;

/** Event codes for the log line, space-separated: Contact ID with its qualifier digit (`1130`), SIA as sent. */
function eventCodes(source: SourceFrame): string {
  let text = '';
  for (const e of source.events) text += `${text === '' ? '' : ' '}${e.protocol === 'cid' ? e.qualifier : ''}${e.code}`;
  return text;
}

/** Metric label for a token: anything a panel can put there beyond the known tokens folds into `other`. */
const KNOWN_TOKENS: ReadonlySet<string> = new Set([...REQUEST_TOKENS, ...REPLY_TOKENS]);
const tokenLabel = (token: string | undefined) => (token === undefined ? 'unknown' : KNOWN_TOKENS.has(token) ? token : 'other');

/** At most this many (account, code) pairs remembered for "log unknown codes once"; then the memory starts over. */
const MAX_WARNED_CODES = 10_000;

export class Pipeline {
  private config: BridgeConfig;
  private directory: AccountDirectory;
  private readonly duplicates: DuplicateFilter;
  private readonly warned = new Set<string>();
  private readonly warn: RateLimitedWarn;
  private readonly now: () => Date;

  constructor(private readonly deps: PipelineDeps) {
    this.config = deps.config;
    this.directory = accountDirectory(deps.config);
    this.warn = new RateLimitedWarn(deps.logger);
    this.now = deps.now ?? (() => new Date());
    this.duplicates = new DuplicateFilter({
      windowMs: () => this.config.receiver.duplicateWindowSeconds * 1000,
      ...(deps.lastFrames ? { lastFrames: deps.lastFrames } : {}),
    });
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
    const from = peerText(peer);
    const { result, decision, source, dataError } = receiveDc09(frame, this.directory, now, { peer: from, transport: peer.transport });
    if (!result.ok) {
      metrics.frames.inc({ transport: peer.transport, token: tokenLabel(result.error.partial.token), result: 'error' });
      metrics.rejections.inc({ reason: result.error.code });
      this.deps.activity?.frame({
        at: now,
        peer: from,
        transport: peer.transport,
        account: result.error.partial.account ?? null,
        reply: decision.kind,
        reason: result.error.code,
        bytes: frame,
      });
      this.warn.warn(
        result.error.code,
        {
          peer: from,
          transport: peer.transport,
          error: result.error.message,
          reply: decision.kind,
          hint: nakHint(decision.reason, decision.account),
          frame: escapeFrame(frame.subarray(0, 256)),
        },
        `rejected frame: ${result.error.message}`,
      );
      return decision;
    }
    const message = result.message;
    if (logger.isLevelEnabled('debug'))
      logger.debug({ peer: from, transport: peer.transport, frame: source?.raw ?? escapeFrame(frame) }, 'frame');
    if (decision.kind !== 'ACK') {
      metrics.frames.inc({
        transport: peer.transport,
        token: tokenLabel(message.token),
        result: decision.kind === 'none' ? 'ignored' : 'rejected',
      });
      this.deps.activity?.frame({
        at: now,
        peer: from,
        transport: peer.transport,
        account: message.account ?? null,
        reply: decision.kind,
        reason: decision.reason,
        bytes: frame,
      });
      if (decision.kind !== 'none') {
        metrics.rejections.inc({ reason: decision.reason });
        this.warn.warn(
          decision.reason,
          {
            peer: from,
            transport: peer.transport,
            account: decision.account,
            dc09Token: message.token,
            sequence: message.sequence,
            skewSeconds: decision.skewSeconds,
            reply: decision.kind,
            hint: nakHint(decision.reason, decision.account),
          },
          `answered ${decision.kind}: ${decision.reason}`,
        );
      }
      return decision;
    }
    const account = decision.account ?? '';
    this.deps.onPanelActivity?.(account, peer, now);
    if (decision.skewFlagged) {
      this.warn.warn(
        'clock-skew',
        { peer: from, account, skewSeconds: decision.skewSeconds },
        `panel clock is ${Math.round(decision.skewSeconds ?? 0)} s off; accepted (clear text), event time taken from receipt`,
      );
    }
    if (source) noteChecksumMismatches(source.events, 'dc09', metrics, this.warn, { peer: from, account });
    // Link tests (NULL) carry no events: no source frame, nothing to map or keep.
    // A data block that does not decode is still ACKed (a NAK or DUH would make the panel resend it forever,
    // docs/dc09.md §11) — and kept for the operator as a dead letter with the raw frame.
    const accepted =
      !source || (dataError ? await this.keepUndecodable(source, dataError, peer) : await this.acceptSource(source, message.token));
    if (!accepted) {
      metrics.frames.inc({ transport: peer.transport, token: tokenLabel(message.token), result: 'not-accepted' });
      this.deps.activity?.frame({
        at: now,
        peer: from,
        transport: peer.transport,
        account,
        reply: 'NAK',
        reason: 'not-accepted',
        bytes: frame,
      });
      return {
        ...decision,
        kind: 'NAK',
        reason: 'not-accepted',
        frame: buildNak(now, { crcForm: message.crc.form, crcIncludesCr: message.crc.includesCr }),
      };
    }
    metrics.frameCounts.inc(peer.transport, tokenLabel(message.token), 'accepted');
    this.deps.activity?.frame({
      at: now,
      peer: from,
      transport: peer.transport,
      account,
      reply: decision.kind,
      reason: decision.reason,
      bytes: frame,
    });
    this.logFrame(message, source ? eventCodes(source) : '', account, from, peer.transport);
    return decision;
  }

  /**
   * Processes one Sur-Gard automation record (docs/surgard.md); never rejects. `heartbeatAccount` (the listener's)
   * counts the receiver link's heartbeats and records as that account's activity.
   */
  async handleSurgard(record: Buffer, peer: Peer, heartbeatAccount: string | null): Promise<SurgardDecision> {
    const { logger, metrics } = this.deps;
    const now = this.now();
    const { parsed, decision, source } = receiveSurgard(record, now, { peer: peerText(peer) });
    if (!parsed.ok) {
      metrics.frames.inc({ transport: 'tcp', token: 'surgard', result: 'error' });
      metrics.rejections.inc({ reason: decision.reason });
      this.warn.warn(
        decision.reason,
        { peer: peerText(peer), raw: escapeFrame(record), error: parsed.error },
        `Sur-Gard record refused (NAK): ${parsed.error}`,
      );
      return decision;
    }
    if (!source) {
      metrics.frames.inc({ transport: 'tcp', token: 'surgard-heartbeat', result: 'accepted' });
      if (heartbeatAccount) this.deps.onPanelActivity?.(heartbeatAccount, peer, now);
      logger.debug({ peer: peerText(peer), receiver: parsed.record.receiver }, 'Sur-Gard heartbeat');
      return decision;
    }
    const { kind, receiver, line } = parsed.record;
    const accepted = await this.acceptSource(source, source.token);
    metrics.frames.inc({ transport: 'tcp', token: `surgard-${kind}`, result: accepted ? 'accepted' : 'not-accepted' });
    if (!accepted) return { kind: 'NAK', frame: SURGARD_NAK, reason: 'not-accepted' };
    // The record's own account reported (its supervision resets) and so did the receiver link.
    if (source.account) this.deps.onPanelActivity?.(source.account, peer, now);
    if (heartbeatAccount) this.deps.onPanelActivity?.(heartbeatAccount, peer, now);
    logger.info(
      { peer: peerText(peer), account: source.account, receiver, line, codes: eventCodes(source) },
      `Sur-Gard ${kind} ${source.account}`,
    );
    return decision;
  }

  /** Keeps a frame whose data block did not decode as a dead letter (`undecodable-data`); true once kept. */
  async keepUndecodable(source: SourceFrame, error: string, peer: Peer): Promise<boolean> {
    this.deps.metrics.events.inc({ outcome: 'undecodable-data' });
    this.warn.warn(
      'undecodable-data',
      { peer: peerText(peer), account: source.account, dc09Token: source.token, data: source.data, error },
      'data block did not decode; frame ACKed and kept as a dead letter',
    );
    const { log } = this.deps;
    if (!log.keepNotForwarded) return true;
    try {
      await log.keepNotForwarded([
        {
          eventId: frameEventId(source, 0),
          account: source.account,
          reason: 'undecodable-data',
          message: `${error}; raw frame ${source.raw}`,
          source,
          index: 0,
        },
      ]);
      return true;
    } catch (err) {
      this.deps.logger.error({ account: source.account, err: errorMessage(err) }, 'could not keep an undecodable frame: answering NAK');
      return false;
    }
  }

  /**
   * Maps and accepts the events of a frame (DC-09 or Sur-Gard). Resolves true once accepted (or a retransmission
   * of an accepted frame, see DuplicateFilter), false when the durable log refused them (the caller NAKs).
   */
  async acceptSource(source: SourceFrame, token: string): Promise<boolean> {
    if (source.events.length === 0) return true;
    const result = await this.duplicates.filter(source, token, () => this.mapAndAccept(source));
    if (result === 'duplicate') {
      this.deps.metrics.events.inc({ outcome: 'duplicate' }, source.events.length);
      this.deps.logger.info(
        { account: source.account, dc09Token: token, peer: source.peer, sequence: source.sequence },
        'retransmission of an accepted frame: answered, not forwarded again',
      );
      return true;
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
        this.deps.metrics.eventCounts.inc(event.forwarded ? 'forwarded' : event.reason);
        this.deps.activity?.event(event, source);
        if (event.forwarded) outgoing.push({ body: event.body, account: event.account, ...(event.media ? { media: event.media } : {}) });
        else if (this.noteNotForwarded(event)) kept.push(event);
      }
      if (kept.length > 0 && log.keepNotForwarded) await log.keepNotForwarded(kept);
      if (outgoing.length > 0) await log.append(outgoing);
      return 'accepted';
    } catch (err) {
      const refusal = err instanceof RefusalError ? err : null;
      this.deps.metrics.rejections.inc({ reason: refusal ? REFUSAL_REASONS[refusal.refusal] : 'not-accepted' });
      this.deps.logger.error(
        { account: source.account, err: errorMessage(err), events: outgoing.length },
        'events not accepted: answering NAK so the panel retries',
      );
      return refusal?.stored ? 'persisted-not-delivered' : 'refused';
    }
  }

  /** Logs an event that is not forwarded; true when the operator needs it kept (all but ignored codes). */
  private noteNotForwarded(event: Extract<MappedEvent, { forwarded: false }>): boolean {
    const fields = {
      account: event.account,
      code: event.panelEvent.code,
      reason: event.reason,
      event_id: event.eventId,
      configKey: event.configKey,
    };
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
      return true;
    }
    this.warn.warn(event.reason, fields, event.message);
    // Unknown codes, unmapped accounts and cameras wait for the operator (issue #6: dead letters, `outbox retry` after the fix).
    return true;
  }

  /**
   * The per-event line (docs/performance.md §3): flat string fields only, the token and codes in the message too;
   * the reply is always ACK here and the frame itself is on the debug `frame` line.
   */
  private logFrame(message: Dc09Message, codes: string, account: string, from: string, transport: Peer['transport']): void {
    // Link tests (NULL) arrive every few seconds per panel: debug, not info (and not even built when debug is off).
    const level = codes !== '' ? 'info' : 'debug';
    if (!this.deps.logger.isLevelEnabled(level)) return;
    this.deps.logger[level](
      { account, peer: from, transport, sequence: message.sequence, codes },
      codes !== '' ? `${message.token} ${account} ${codes}` : `${message.token} ${account}`,
    );
  }
}
