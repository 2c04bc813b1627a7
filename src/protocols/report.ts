/**
 * What `decode` prints for a DC-09 frame and what the operator console shows of a raw frame: every field as parsed,
 * the decoded events and the reply the receiver would send. Pure.
 */
import { decodePayload } from './decode.js';
import {
  DEFAULT_WINDOW,
  describeXData,
  formatCrc,
  type DescribedXData,
  type ParseResult,
  type ReplyDecision,
  type ReplyPolicy,
} from './dc09/index.js';
import type { PanelEvent } from './events.js';
import { escapeFrame } from './escape.js';

/** The policy `decode` answers with: every account accepted, clear text allowed, default window. */
export const DECODE_POLICY: ReplyPolicy = {
  account: () => null,
  unknownAccounts: 'accept',
  badCrc: 'nak',
  clearTimestamps: 'flag',
  defaultWindow: DEFAULT_WINDOW,
};

export interface FrameReport {
  ok: boolean;
  token: string | null;
  encrypted: boolean | null;
  crc: { value: string; ok: boolean; form: 'ascii' | 'binary'; includesCr: boolean } | null;
  length: number | null;
  sequence: string | null;
  receiver: string | null;
  line: string | null;
  account: string | null;
  dataAccount: string | null;
  data: string | null;
  xdata: DescribedXData[];
  timestamp: string | null;
  events: PanelEvent[];
  dataError?: string;
  error?: { code: string; message: string };
  reply: { kind: ReplyDecision['kind']; reason: string; frame: string | null; skewSeconds: number | null; skewFlagged: boolean };
}

/** The JSON report of one parsed frame and the reply the policy chose. */
export function frameReport(result: ParseResult, decision: ReplyDecision): FrameReport {
  const reply = {
    kind: decision.kind,
    reason: decision.reason,
    frame: decision.frame ? escapeFrame(decision.frame) : null,
    skewSeconds: decision.skewSeconds,
    skewFlagged: decision.skewFlagged,
  };
  const m = result.ok ? result.message : result.error.partial;
  const crc = m.crc ? { value: formatCrc(m.crc.value), ok: m.crc.ok, form: m.crc.form, includesCr: m.crc.includesCr } : null;
  const base = {
    token: m.token ?? null,
    encrypted: m.encrypted ?? null,
    crc,
    length: m.length ?? null,
    sequence: m.sequence ?? null,
    receiver: m.receiver ?? null,
    line: m.line ?? null,
    account: m.account ?? null,
    dataAccount: m.dataAccount ?? null,
    data: m.data ?? null,
    xdata: (m.xdata ?? []).map(describeXData),
    timestamp: m.timestamp ? m.timestamp.toISOString() : null,
  };
  if (!result.ok) {
    return { ok: false, ...base, events: [], error: { code: result.error.code, message: result.error.message }, reply };
  }
  const payload = decodePayload(result.message);
  return { ok: true, ...base, events: payload.events, ...(payload.dataError ? { dataError: payload.dataError } : {}), reply };
}
