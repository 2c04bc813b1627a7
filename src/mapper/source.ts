/** Builds the mapper's protocol-neutral input from a decoded DC-09 frame. */
import type { Dc09Message } from '../protocols/dc09/types.js';
import { occurrenceTime } from '../protocols/dc09/xdata.js';
import type { PanelEvent } from '../protocols/events.js';
import type { SurgardRecord } from '../protocols/surgard/index.js';
import type { SourceFrame } from './frame.js';

export interface ReceiptContext {
  /** Routing account, upper-cased. */
  account: string;
  receivedAt: Date;
  peer: string | null;
  transport: 'tcp' | 'udp' | null;
  /** The frame as received, escaped. */
  raw: string;
  /** True when the reply policy flagged the panel clock as outside the window. */
  skewFlagged: boolean;
}

export function sourceFromDc09(message: Dc09Message, events: readonly PanelEvent[], receipt: ReceiptContext): SourceFrame {
  return {
    protocol: 'dc09',
    token: message.token,
    encrypted: message.encrypted,
    account: receipt.account,
    receiver: message.receiver,
    line: message.line,
    sequence: message.sequence,
    data: message.data,
    xdata: message.xdata,
    timestamp: message.timestamp,
    timestampTrusted: !receipt.skewFlagged,
    occurredAt: occurrenceTime(message.xdata),
    receivedAt: receipt.receivedAt,
    peer: receipt.peer,
    transport: receipt.transport,
    raw: receipt.raw,
    events,
  };
}

/** JSON form of a SourceFrame (dates as ISO strings), stored with unmapped events so they can be mapped again. */
export function reviveSource(stored: unknown): SourceFrame | null {
  if (typeof stored !== 'object' || stored === null) return null;
  const s = stored as Record<string, unknown>;
  if (typeof s.account !== 'string' || typeof s.token !== 'string' || !Array.isArray(s.events) || typeof s.receivedAt !== 'string')
    return null;
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
  return {
    ...(s as unknown as SourceFrame),
    timestamp: date(s.timestamp),
    occurredAt: date(s.occurredAt),
    receivedAt: new Date(s.receivedAt),
  };
}

/** A Contact ID or SIA record as the mapper's input: the same events as their DC-09 equivalents (issue #8). */
export function sourceFromSurgard(
  record: Exclude<SurgardRecord, { kind: 'heartbeat' }>,
  receivedAt: Date,
  peer: string,
  raw: string,
): SourceFrame {
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

/** What the native TCP protocols (Galaxy blocks, Lupusec Contact ID) have in common: no DC-09 header or timestamp. */
interface NativeReceipt {
  protocol: 'galaxy' | 'lupusec-cid';
  /** DC-09 token of the payload kind: `SIA-DCS` for Galaxy's DC-03 blocks, `ADM-CID` for Lupusec. */
  token: 'SIA-DCS' | 'ADM-CID';
  /** Account as the panel sent it (upper-cased here), '' when the session had none. */
  account: string;
  /** The payload as text: a Galaxy block's DC-03 data (`Nti11:46/BA1011`), a Lupusec message. */
  data: string;
  events: readonly PanelEvent[];
  receivedAt: Date;
  peer: string;
  raw: string;
}

/** A Galaxy event block or Lupusec message as the mapper's input: mapped like the SIA DCS / Contact ID events they carry. */
export function sourceFromNative(receipt: NativeReceipt): SourceFrame {
  return {
    protocol: receipt.protocol,
    token: receipt.token,
    encrypted: false,
    account: receipt.account.toUpperCase(),
    receiver: null,
    line: null,
    sequence: null,
    data: receipt.data,
    xdata: [],
    timestamp: null,
    timestampTrusted: true,
    occurredAt: null,
    receivedAt: receipt.receivedAt,
    peer: receipt.peer,
    transport: 'tcp',
    raw: receipt.raw,
    events: receipt.events,
  };
}
