/**
 * The receive step shared by the receiver, `map` and `outbox retry`: one frame's bytes (and the account directory
 * and clock) in, the reply decision and the mapper's source frame out. Pure: no I/O, no logger, no metrics.
 */
import { sourceFromDc09, sourceFromSurgard, type SourceFrame } from '../../mapper/index.js';
import { decodePayload } from '../../protocols/decode.js';
import { decideReply, parseFrame, type ParseResult, type ReplyDecision } from '../../protocols/dc09/index.js';
import { escapeFrame } from '../../protocols/escape.js';
import { parseSurgardRecord, SURGARD_ACK, SURGARD_NAK, type SurgardResult } from '../../protocols/surgard/index.js';
import type { AccountDirectory } from './policy.js';

/** Where a frame came from, for its source frame: null peer and transport for a frame given on the command line. */
export interface Receipt {
  peer: string | null;
  transport: 'tcp' | 'udp' | null;
  /** The frame as received, escaped; default: the frame's bytes escaped (a stored frame passes the text it kept). */
  raw?: string;
  /** Routing account; default: the decision's (a stored frame passes the account it was received under). */
  account?: string;
}

export interface Dc09Receipt {
  /** The parse result: the error to log, or the message (token, sequence, CRC form). */
  result: ParseResult;
  decision: ReplyDecision;
  /**
   * What the mapper takes, whatever the decision (`map` shows what an unknown account would post); null when the
   * frame did not parse or carries nothing to map (link tests: no events and no data error).
   */
  source: SourceFrame | null;
  /** Why the data block did not decode (the frame is still ACKed and kept as a dead letter); null when it did. */
  dataError: string | null;
}

export function receiveDc09(frame: Buffer, directory: AccountDirectory, now: Date, receipt: Receipt): Dc09Receipt {
  const result = parseFrame(frame, { keysFor: directory.keysFor });
  const decision = decideReply(result, directory.policy, { now });
  if (!result.ok) return { result, decision, source: null, dataError: null };
  const payload = decodePayload(result.message);
  if (payload.events.length === 0 && !payload.dataError) return { result, decision, source: null, dataError: null };
  const source = sourceFromDc09(result.message, payload.events, {
    account: receipt.account ?? decision.account ?? '',
    receivedAt: now,
    peer: receipt.peer,
    transport: receipt.transport,
    raw: receipt.raw ?? escapeFrame(frame),
    skewFlagged: decision.skewFlagged,
  });
  return { result, decision, source, dataError: payload.dataError };
}

/**
 * A Sur-Gard record's answer (docs/surgard.md §1): ACK for a heartbeat and, once its events are accepted, for an
 * event record; NAK for a record that does not decode (`surgard-` and the parser's code).
 */
export interface SurgardDecision {
  kind: 'ACK' | 'NAK';
  frame: Buffer;
  /** `not-accepted`: the pipeline's, when the record's events could not be stored (the receiver sends it again). */
  reason: 'heartbeat' | 'accepted' | 'not-accepted' | `surgard-${Extract<SurgardResult, { ok: false }>['code']}`;
}

export interface SurgardReceipt {
  /** The parse result: the error to log, or the record (kind, receiver, line). */
  parsed: SurgardResult;
  decision: SurgardDecision;
  /** The event record as the mapper's input; null for a heartbeat and for a record that did not decode. */
  source: SourceFrame | null;
}

export function receiveSurgard(record: Buffer, now: Date, receipt: Pick<Receipt, 'raw'> & { peer: string }): SurgardReceipt {
  const parsed = parseSurgardRecord(record);
  if (!parsed.ok) return { parsed, decision: { kind: 'NAK', frame: SURGARD_NAK, reason: `surgard-${parsed.code}` }, source: null };
  if (parsed.record.kind === 'heartbeat')
    return { parsed, decision: { kind: 'ACK', frame: SURGARD_ACK, reason: 'heartbeat' }, source: null };
  const source = sourceFromSurgard(parsed.record, now, receipt.peer, receipt.raw ?? escapeFrame(record));
  return { parsed, decision: { kind: 'ACK', frame: SURGARD_ACK, reason: 'accepted' }, source };
}
