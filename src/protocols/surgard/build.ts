/**
 * Writes Sur-Gard automation records (docs/surgard.md) for tests and simulators. The builders
 * return the record text without its terminator; `withTerminator` adds DC4 or CR. Invalid fields throw
 * RangeError (a caller's mistake).
 */
import { toFixedField } from '../contact-id/fields.js';
import { normaliseQualifier } from '../contact-id/index.js';
import { CID_ACCOUNT, CID_MESSAGE_TYPE, CR, DC4, HEARTBEAT_GAP, HEARTBEAT_TRAILER, LINE, RECEIVER } from './fields.js';

export interface SurgardCidInput {
  /** RR: a number is zero-padded to 2 (`1` → `01`). */
  receiver: string | number;
  /** L: 1–4 letters or digits (1 on MLR2, 3 on System III/IV); a number is written as is. */
  line: string | number;
  /** AAAA: 4–10 hex digits; a number is zero-padded to 4. */
  account: string | number;
  /** Sur-Gard `E`/`R`/`P` or Contact ID `1`/`3`/`6`, written as given (upper case). */
  qualifier: string;
  /** EEE, GG, CCC as in the Contact ID builders: numbers zero-padded to 3, 2, 3. */
  code: string | number;
  group: string | number;
  zone: string | number;
  /** The space before `18` that real captures carry (default true). */
  spaceBefore18?: boolean;
}

export interface SurgardHeartbeatInput {
  /** Default `01`. */
  receiver?: string | number;
  /** Default `1`; a 3-character line gives the System III/IV form. */
  line?: string | number;
}

export interface SurgardSiaInput {
  receiver: string | number;
  line: string | number;
  /** DC-03 data (docs/sia-dcs.md §1), e.g. `#1234|Nri1/BA001`; printable ASCII without brackets. */
  data: string;
}

export type SurgardTerminator = 'dc4' | 'cr';

function receiverField(value: string | number): string {
  const text = typeof value === 'number' ? String(value).padStart(2, '0') : value;
  if (!RECEIVER.test(text)) throw new RangeError(`Sur-Gard receiver must be 2 digits, got ${JSON.stringify(value)}`);
  return text;
}

function lineField(value: string | number): string {
  const text = String(value);
  if (!LINE.test(text)) throw new RangeError(`Sur-Gard line must be 1-4 letters or digits, got ${JSON.stringify(value)}`);
  return text;
}

/** docs/surgard.md §2: `5 RR L ␠ 18 AAAA Q EEE GG CCC`, e.g. `5011 181234E14401002`. */
export function buildSurgardCid(input: SurgardCidInput): string {
  const receiver = receiverField(input.receiver);
  const line = lineField(input.line);
  const account = typeof input.account === 'number' ? String(input.account).padStart(4, '0') : input.account;
  if (!CID_ACCOUNT.test(account)) {
    throw new RangeError(`Sur-Gard Contact ID account must be 4-10 hex digits, got ${JSON.stringify(input.account)}`);
  }
  const qualifier = input.qualifier.toUpperCase();
  if (qualifier.length !== 1 || normaliseQualifier(qualifier) === null) {
    throw new RangeError(`Sur-Gard qualifier must be E, R, P (or 1, 3, 6), got ${JSON.stringify(input.qualifier)}`);
  }
  const event = `${qualifier}${toFixedField('code', input.code)}${toFixedField('group', input.group)}${toFixedField('zone', input.zone)}`;
  const space = input.spaceBefore18 === false ? '' : ' ';
  return `5${receiver}${line}${space}${CID_MESSAGE_TYPE}${account}${event}`;
}

/** docs/surgard.md §1: `1RRL` + 11 spaces + `@` + 4 spaces (`1RRLLL           @    ` with a 3-digit line). */
export function buildSurgardHeartbeat(input: SurgardHeartbeatInput = {}): string {
  const receiver = receiverField(input.receiver ?? '01');
  const line = lineField(input.line ?? '1');
  return `1${receiver}${line}${' '.repeat(HEARTBEAT_GAP)}@${' '.repeat(HEARTBEAT_TRAILER)}`;
}

/** docs/surgard.md §2: `S RR L [data]`, written without spaces as in `S011[#1234|Nri1/BA001]`. */
export function buildSurgardSia(input: SurgardSiaInput): string {
  const receiver = receiverField(input.receiver);
  const line = lineField(input.line);
  if (!/^[\x20-\x7e]*$/.test(input.data) || /[[\]]/.test(input.data)) {
    throw new RangeError(`Sur-Gard SIA data must be printable ASCII without brackets, got ${JSON.stringify(input.data)}`);
  }
  return `S${receiver}${line}[${input.data}]`;
}

/** docs/surgard.md §1: the record's bytes (latin-1) followed by DC4 (default) or CR. */
export function withTerminator(text: string, terminator: SurgardTerminator = 'dc4'): Buffer {
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from([terminator === 'cr' ? CR : DC4])]);
}
