/**
 * Decodes Contact ID: the ADM-CID data block of a DC-09 frame (docs/contact-id.md §4) and the
 * 16-digit DTMF message (docs/contact-id.md §1). The decoders never throw; bad input comes back as `ok: false`.
 */

import { parseAllowingBareAccount, readAccountWrapper } from '../account-wrapper.js';
import type { CidEvent, DataDecodeResult } from '../events.js';
import { cidDigitsSumOk, isCidChecksumValid } from './checksum.js';
import { toCidEvent } from './event.js';
import { HEX_DIGIT, quoteForError } from './fields.js';
import { normaliseQualifier, type CidQualifier } from './qualifier.js';

/**
 * docs/contact-id.md §4: `QEEE GG CCC`, spaces optional. Q may be a Sur-Gard letter (docs/surgard.md §2); EEE, GG and
 * CCC are taken as hex digits, as DTMF allows.
 */
const DATA_EVENT = new RegExp(`^([136ERPerp]) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT}{2}) *(${HEX_DIGIT}{3})$`);

/** docs/contact-id.md §4: Hikvision's NULL filler `0000 00 000`, the only use of qualifier 0. */
const HIKVISION_NULL_FILLER = /^0 *000 *00 *000$/;

/** docs/contact-id.md §1: `AAAA MT Q EEE GG CCC S`, spaces optional, MT 18 or 98. */
const DTMF_MESSAGE = new RegExp(
  `^(${HEX_DIGIT}{4}) *(18|98) *([136]) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT}{2}) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT})$`,
);

/**
 * docs/contact-id.md §1 digits after the account, `[AAAA] MT Q EEE GG CCC S`, spaces optional: the whole DC-05 string
 * that some panels put into ADM-CID data (with or without AAAA) and Lupusec's `18QEEEGGZZZC` (docs/contact-id.md §5).
 */
const CHECKED_MESSAGE = new RegExp(
  `^(?:(${HEX_DIGIT}{4}) *)?(18|98) *([136]) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT}{2}) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT})$`,
);

/** An account that can stand for AAAA in a checksum: 1–4 hex digits. */
const DTMF_ACCOUNT = new RegExp(`^${HEX_DIGIT}{1,4}$`);

export type CidDtmfParseResult =
  { ok: true; account: string; messageType: '18' | '98'; event: CidEvent; checksumOk: boolean } | { ok: false; error: string };

/**
 * Decodes an ADM-CID data block (`#acct|QEEE GG CCC`). An empty event part and Hikvision's NULL
 * filler give zero events.
 */
export function parseCidData(data: string): DataDecodeResult {
  if (typeof data !== 'string') return { ok: false, account: null, error: 'Contact ID data is not a string' };
  // docs/dc09.md §7: an account without its `#` (`[1234|1130 01 015]`) is tolerated too.
  return parseAllowingBareAccount(data, parseBlock);
}

function parseBlock(data: string): DataDecodeResult {
  // docs/contact-id.md §4: the optional `#acct|` wrapper (it may differ from the header account).
  const wrapper = readAccountWrapper(data);
  if ('error' in wrapper) return { ok: false, account: null, error: `Contact ID ${wrapper.error}` };
  const { account } = wrapper;
  const body = data.slice(wrapper.bodyStart).trim();
  if (body === '' || HIKVISION_NULL_FILLER.test(body)) return { ok: true, account, events: [] };

  const match = DATA_EVENT.exec(body);
  if (match === null) {
    const checked = parseCidMessage(body, account);
    if (checked !== null) return { ok: true, account, events: [checked] };
    return {
      ok: false,
      account,
      error: `not a Contact ID event ${quoteForError(body)} (expected QEEE GG CCC or [AAAA] 18 Q EEE GG CCC S)`,
    };
  }
  const [, qualifier = '', code = '', group = '', zone = ''] = match;
  // DATA_EVENT admits only 1/3/6 and E/R/P, all of which normalise.
  const event = toCidEvent({ qualifier: normaliseQualifier(qualifier) as CidQualifier, code, group, zone });
  return { ok: true, account, events: [event] };
}

/**
 * Decodes `[AAAA] MT Q EEE GG CCC S` (CHECKED_MESSAGE) into an event whose `checksumOk` says whether the DC-05 check
 * digit holds (docs/contact-id.md §1); null when the text is not that shape. Without AAAA the digit holds when the digits sent sum
 * to a multiple of 15, or do so with `account` (1–4 hex digits, zero-padded) as AAAA: panels that leave the account
 * out differ in whether their check digit covers it.
 */
export function parseCidMessage(text: string, account: string | null): CidEvent | null {
  const match = CHECKED_MESSAGE.exec(text);
  if (match === null) return null;
  const [digits, messageAccount, , qualifier = '', code = '', group = '', zone = ''] = match;
  const checksumOk =
    messageAccount !== undefined
      ? cidDigitsSumOk(digits)
      : cidDigitsSumOk(digits) ||
        (account !== null && DTMF_ACCOUNT.test(account) && cidDigitsSumOk(`${account.padStart(4, '0')}${digits}`));
  // CHECKED_MESSAGE admits only the digits 1, 3 and 6 as Q.
  const event = toCidEvent({ qualifier: qualifier as CidQualifier, code, group, zone });
  event.checksumOk = checksumOk;
  return event;
}

/** Decodes a 16-digit DTMF message; `checksumOk` reports the docs/contact-id.md §1 checksum, the event is decoded either way. */
export function parseCidDtmf(text: string): CidDtmfParseResult {
  if (typeof text !== 'string') return { ok: false, error: 'Contact ID message is not a string' };
  const match = DTMF_MESSAGE.exec(text.trim());
  if (match === null) {
    return {
      ok: false,
      error: `not a Contact ID message ${quoteForError(text)} (expected AAAA 18|98 Q EEE GG CCC S, Q 1/3/6)`,
    };
  }
  const [digits, account = '', messageType = '', qualifier = '', code = '', group = '', zone = ''] = match;
  return {
    ok: true,
    account,
    messageType: messageType === '98' ? '98' : '18',
    // DTMF_MESSAGE admits only the digits 1, 3 and 6 as Q.
    event: toCidEvent({ qualifier: qualifier as CidQualifier, code, group, zone }),
    checksumOk: isCidChecksumValid(digits),
  };
}
