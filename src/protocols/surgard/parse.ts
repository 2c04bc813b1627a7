/**
 * Sur-Gard MLR2 / System I–IV automation records (docs/surgard.md): heartbeat, Contact ID and SIA
 * records decoded into the protocol-neutral events. One record in (terminator optional), never throws: a
 * record that does not decode comes back as `{ ok: false }` with its raw text, to be NAKed and logged.
 */
import { escapeFrame } from '../escape.js';
import { quoteForError } from '../contact-id/fields.js';
import { normaliseQualifier, toCidEvent, type CidQualifier } from '../contact-id/index.js';
import type { CidEvent, PanelEvent } from '../events.js';
import { parseSiaData } from '../sia/index.js';
import {
  CID_ACCOUNT,
  CID_MESSAGE_TYPE,
  CID_MIN_LENGTH,
  CID_TAIL,
  CID_TAIL_LENGTH,
  HEARTBEAT,
  LINE,
  RECEIVER,
  SIA_RECORD,
} from './fields.js';

/** docs/surgard.md §1: the automation side answers every accepted record, heartbeats included, with ACK 0x06. */
export const SURGARD_ACK = Buffer.from([0x06]);
/** docs/surgard.md §1: NAK 0x15 asks the receiver to send the record again. */
export const SURGARD_NAK = Buffer.from([0x15]);

export type SurgardRecord =
  | { kind: 'heartbeat'; receiver: string; line: string }
  | { kind: 'cid'; receiver: string; line: string; account: string; event: CidEvent; raw: string }
  | { kind: 'sia'; receiver: string; line: string; account: string | null; data: string; events: PanelEvent[]; raw: string };

/**
 * Why a record did not decode: `unsupported` (a known Sur-Gard type this bridge does not decode: pulse,
 * old SIA level 1), `unrecognised` (no Sur-Gard record type), `malformed` (a known type with bad fields),
 * `ambiguous` (a Contact ID record without the space before `18` that reads more than one way),
 * `bad-data` (a SIA record whose DC-03 data does not decode), `not-text` (neither string nor bytes).
 */
export type SurgardErrorCode = 'unsupported' | 'unrecognised' | 'malformed' | 'ambiguous' | 'bad-data' | 'not-text';

export type SurgardResult = { ok: true; record: SurgardRecord } | { ok: false; error: string; raw: string; code: SurgardErrorCode };

const fail = (code: SurgardErrorCode, error: string, raw: string): SurgardResult => ({ ok: false, error, raw, code });

/** Record text without the padding around it: whitespace, control characters and the DC4/CR terminator. */
function trimRecord(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

/** Decodes one record: a string, or bytes taken as latin-1 (one byte = one character). */
export function parseSurgardRecord(record: string | Buffer): SurgardResult {
  let raw: string;
  if (typeof record === 'string') raw = record;
  else if (record instanceof Uint8Array) raw = Buffer.from(record.buffer, record.byteOffset, record.byteLength).toString('latin1');
  else return fail('not-text', 'Sur-Gard record is neither a string nor bytes', '');

  const text = trimRecord(raw);
  // docs/surgard.md §2: the first character is the record type.
  switch (text.charAt(0)) {
    case '1':
      return parseHeartbeat(text, raw);
    case '5':
      return parseCidRecord(text, raw);
    case 'S':
      return parseSiaRecord(text, raw);
    case '3':
      // docs/surgard.md §2: `3 RR L` + spaces + AAAA + EE + zone, legacy and not decoded here.
      return fail('unsupported', `unsupported record type: Sur-Gard old SIA level 1 record ${quoteForError(text)}`, raw);
    case '':
      return fail('unrecognised', 'empty Sur-Gard record', raw);
    default:
      return fail(
        'unrecognised',
        `unrecognised Sur-Gard record ${quoteForError(text)} (expected a heartbeat "1…@", Contact ID "5…" or SIA "S…")`,
        raw,
      );
  }
}

/**
 * docs/surgard.md §1: `1RRL` + 11 spaces + `@` + 4 spaces (`1RRLLL` … on System III/IV). Any number of
 * spaces is accepted. A `1` record without `@` is the pulse 3/1, 4/2 format of docs/surgard.md §2, not decoded here.
 */
function parseHeartbeat(text: string, raw: string): SurgardResult {
  const match = HEARTBEAT.exec(text);
  if (match !== null) {
    const [, receiver = '', line = ''] = match;
    return { ok: true, record: { kind: 'heartbeat', receiver, line } };
  }
  if (!text.includes('@')) {
    return fail('unsupported', `unsupported record type: Sur-Gard pulse (3/1, 4/2) record ${quoteForError(text)}`, raw);
  }
  return fail('malformed', `malformed Sur-Gard heartbeat ${quoteForError(text)} (expected 1RRL, spaces, "@")`, raw);
}

type CidLayout = 'line-18-account' | 'account-18';
interface CidReading {
  layout: CidLayout;
  line: string;
  account: string;
}

const isReading = (line: string, account: string): boolean => LINE.test(line) && CID_ACCOUNT.test(account);

/**
 * The ways the part between `5RR` and the tail can be read. docs/surgard.md §2: `L ␠ 18 AAAA`, the space
 * optional, and the variant `L AAAA 18` (account before 18). With the space the split is fixed; without
 * it every line width 1–4 is tried for both layouts.
 */
function cidReadings(middle: string): CidReading[] {
  const space = middle.indexOf(' ');
  if (space >= 0) {
    const line = middle.slice(0, space);
    const rest = middle.slice(space + 1);
    if (!rest.startsWith(CID_MESSAGE_TYPE)) return [];
    const account = rest.slice(CID_MESSAGE_TYPE.length);
    return isReading(line, account) ? [{ layout: 'line-18-account', line, account }] : [];
  }
  const readings: CidReading[] = [];
  for (let width = 1; width <= 4; width++) {
    const line = middle.slice(0, width);
    if (middle.startsWith(CID_MESSAGE_TYPE, width)) {
      const account = middle.slice(width + CID_MESSAGE_TYPE.length);
      if (isReading(line, account)) readings.push({ layout: 'line-18-account', line, account });
    }
    if (middle.endsWith(CID_MESSAGE_TYPE)) {
      const account = middle.slice(width, middle.length - CID_MESSAGE_TYPE.length);
      const same = readings.some((r) => r.line === line && r.account === account);
      if (!same && isReading(line, account)) readings.push({ layout: 'account-18', line, account });
    }
  }
  return readings;
}

/**
 * One reading of a Contact ID record, or an error when there is none or no way to choose.
 * docs/surgard.md §2: "accept 4–10 when unambiguous". When several readings fit, the one with the MLR2 /
 * System III widths (account 4, line 1 or 3) is taken; the only tie left there is between the two layouts
 * with the same widths, settled by the qualifier: a digit Q is the "account before 18, numeric Q" variant,
 * a letter Q the usual `L ␠ 18 AAAA` layout.
 */
function chooseReading(readings: CidReading[], qualifier: string): CidReading | string {
  if (readings.length === 1) return readings[0]!;
  if (readings.length === 0) return 'no line/account split fits (line 1-4 characters, "18", account 4-10 hex digits)';
  const standard = readings.filter((r) => r.account.length === 4 && (r.line.length === 1 || r.line.length === 3));
  if (standard.length === 1) return standard[0]!;
  if (standard.length === 2) {
    const wanted: CidLayout = /[0-9]/.test(qualifier) ? 'account-18' : 'line-18-account';
    const chosen = standard.find((r) => r.layout === wanted);
    if (chosen) return chosen;
  }
  const shown = readings.map((r) => `line ${JSON.stringify(r.line)} account ${JSON.stringify(r.account)}`).join(', ');
  return `ambiguous without the space before "18": ${shown}`;
}

/** docs/surgard.md §2: `5 RR L ␠ 18 AAAA Q EEE GG CCC` and its variants; Q as E/R/P or 1/3/6 (docs/contact-id.md §2). */
function parseCidRecord(text: string, raw: string): SurgardResult {
  const expected = '(expected 5RRL 18AAAAQEEEGGCCC)';
  const receiver = text.slice(1, 3);
  const tail = CID_TAIL.exec(text.slice(-CID_TAIL_LENGTH));
  if (text.length < CID_MIN_LENGTH || !RECEIVER.test(receiver) || tail === null) {
    return fail('malformed', `malformed Sur-Gard Contact ID record ${quoteForError(text)} ${expected}`, raw);
  }
  const [, symbol = '', code = '', group = '', zone = ''] = tail;
  const reading = chooseReading(cidReadings(text.slice(3, text.length - CID_TAIL_LENGTH)), symbol);
  if (typeof reading === 'string') {
    const errorCode = reading.startsWith('ambiguous') ? 'ambiguous' : 'malformed';
    return fail(errorCode, `Sur-Gard Contact ID record ${quoteForError(text)}: ${reading} ${expected}`, raw);
  }
  // CID_TAIL admits only 1/3/6 and E/R/P (any case), all of which normalise.
  const qualifier = normaliseQualifier(symbol) as CidQualifier;
  const event = toCidEvent({ qualifier, code, group, zone });
  return { ok: true, record: { kind: 'cid', receiver, line: reading.line, account: reading.account, event, raw } };
}

/** docs/surgard.md §2: `S RR L[LL] [#AAAA|N…]`, the body DC-03 data (docs/sia-dcs.md §1) decoded like a DC-09 SIA-DCS block. */
function parseSiaRecord(text: string, raw: string): SurgardResult {
  const match = SIA_RECORD.exec(text);
  if (match === null) {
    return fail('malformed', `malformed Sur-Gard SIA record ${quoteForError(text)} (expected S RR L [data])`, raw);
  }
  const [, receiver = '', line = ''] = match;
  const data = trimRecord(match[3] ?? '');
  const decoded = parseSiaData(data);
  if (!decoded.ok) {
    return fail('bad-data', `Sur-Gard SIA record ${quoteForError(text)}: ${decoded.error}`, raw);
  }
  return {
    ok: true,
    record: { kind: 'sia', receiver, line, account: decoded.account, data, events: decoded.events, raw },
  };
}

/** The `decode --format surgard` report: the DC-09 `decode` report's fields that apply to a Sur-Gard record. */
export interface SurgardCliReport {
  ok: boolean;
  format: 'surgard';
  kind: SurgardRecord['kind'] | null;
  receiver: string | null;
  line: string | null;
  account: string | null;
  /** The SIA data block, or the Contact ID event part `QEEEGGCCC` as sent; null for heartbeats and errors. */
  data: string | null;
  events: PanelEvent[];
  /** The record as given, escaped like DC-09 frames (`\x14` for DC4). */
  raw: string;
  reply: { kind: 'ACK' | 'NAK'; frame: string };
  error?: { code: SurgardErrorCode; message: string };
}

/** Decodes one record for the command line: ACK for a decoded record, NAK otherwise (docs/surgard.md §1). */
export function decodeSurgardForCli(text: string | Buffer): SurgardCliReport {
  const result = parseSurgardRecord(text);
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text instanceof Uint8Array ? text : Buffer.alloc(0);
  const raw = escapeFrame(bytes);
  if (!result.ok) {
    return {
      ok: false,
      format: 'surgard',
      kind: null,
      receiver: null,
      line: null,
      account: null,
      data: null,
      events: [],
      raw,
      reply: { kind: 'NAK', frame: escapeFrame(SURGARD_NAK) },
      error: { code: result.code, message: result.error },
    };
  }
  const { record } = result;
  const reply = { kind: 'ACK' as const, frame: escapeFrame(SURGARD_ACK) };
  const base = { ok: true, format: 'surgard' as const, kind: record.kind, receiver: record.receiver, line: record.line, raw, reply };
  switch (record.kind) {
    case 'heartbeat':
      return { ...base, account: null, data: null, events: [] };
    case 'cid': {
      // docs/surgard.md §2: the event part `Q EEE GG CCC` is the fixed 9-character tail of the record.
      const sent = trimRecord(record.raw).slice(-CID_TAIL_LENGTH);
      return { ...base, account: record.account, data: sent, events: [record.event] };
    }
    case 'sia':
      return { ...base, account: record.account, data: record.data, events: record.events };
  }
}
