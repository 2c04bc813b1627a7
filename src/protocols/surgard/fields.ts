/**
 * Field shapes of Sur-Gard automation records shared by the parser, the glued-record splitter and the
 * builders (docs/surgard.md §2 "Field widths when parsing").
 */

/** docs/surgard.md §1: the record terminator DC4, and CR used by some emulations instead. */
export const DC4 = 0x14;
export const CR = 0x0d;

/** docs/surgard.md §2: `RR` is 2 digits. */
export const RECEIVER = /^[0-9]{2}$/;

/** docs/surgard.md §2: `L` is 1 (MLR2) or 3 (System III/IV) characters; 2 and 4 are tolerated. */
export const LINE = /^[0-9A-Za-z]{1,4}$/;

/** docs/surgard.md §2: the Contact ID account is 4 hex digits on MLR2, longer (up to 10 here) on MLR2 8 / MLR2000. */
export const CID_ACCOUNT = /^[0-9A-Fa-f]{4,10}$/;

/**
 * docs/surgard.md §2 / docs/contact-id.md §2: the fixed tail of a Contact ID record, `Q EEE GG CCC` = 9 characters,
 * Q as the Sur-Gard letter E/R/P or the Contact ID digit 1/3/6.
 */
export const CID_TAIL = /^([136ERPerp])([0-9A-Fa-f]{3})([0-9A-Fa-f]{2})([0-9A-Fa-f]{3})$/;
export const CID_TAIL_LENGTH = 9;

/** docs/surgard.md §2: the Contact ID message type printed in every Sur-Gard Contact ID record. */
export const CID_MESSAGE_TYPE = '18';

/** Shortest and longest Contact ID record: `5` + RR + line 1–4 + optional space + `18` + account 4–10 + tail. */
export const CID_MIN_LENGTH = 1 + 2 + 1 + 2 + 4 + CID_TAIL_LENGTH;
export const CID_MAX_LENGTH = 1 + 2 + 4 + 1 + 2 + 10 + CID_TAIL_LENGTH;

/** docs/surgard.md §1: heartbeat `1 RR L[LL]` + spaces (blank account) + `@` + spaces. */
const HEARTBEAT_SOURCE = '1([0-9]{2})([0-9A-Za-z]{1,4}) *@ *';
export const HEARTBEAT = new RegExp(`^${HEARTBEAT_SOURCE}$`);
/** The same, matched where a glued piece starts (sticky). */
export const HEARTBEAT_AT = new RegExp(HEARTBEAT_SOURCE, 'y');
/** docs/surgard.md §1: the blanks between the line and `@`, and after `@`, in a Sur-Gard heartbeat. */
export const HEARTBEAT_GAP = 11;
export const HEARTBEAT_TRAILER = 4;

/**
 * docs/surgard.md §2: SIA record `S RR L[LL] [data]`; spaces between the fields are tolerated. The data is a
 * DC-03 block and holds no brackets.
 */
const SIA_SOURCE = 'S *([0-9]{2}) *([0-9A-Za-z]{1,4}) *\\[([^[\\]]*)\\]';
export const SIA_RECORD = new RegExp(`^${SIA_SOURCE}$`);
/** The same, matched where a glued piece starts (sticky). */
export const SIA_AT = new RegExp(SIA_SOURCE, 'y');

/**
 * Bytes that pad a record rather than belong to it: docs/surgard.md §2 "strip a leading LF/space some
 * emulators add"; NUL is treated the same way.
 */
export function isFill(code: number): boolean {
  return code === 0x0a || code === 0x20 || code === 0x00;
}
