/**
 * Decodes Contact ID: the ADM-CID data block of a DC-09 frame (docs/contact-id.md §4) and the
 * 16-digit DTMF message (docs/contact-id.md §1). The decoders never throw; bad input comes back as `ok: false`.
 */

import { parseAllowingBareAccount, readAccountWrapper } from '../account-wrapper.js';
import type { CidEvent, DataDecodeResult } from '../events.js';
import { isCidChecksumValid } from './checksum.js';
import { toCidEvent } from './event.js';
import { HEX_DIGIT, quoteForError } from './fields.js';
import { normaliseQualifier, type CidQualifier } from './qualifier.js';


/**
 * docs/contact-id.md §4: `QEEE GG CCC`, spaces optional. Q may be a Sur-Gard letter (docs/surgard.md §2); EEE, GG and
 * CCC are taken as hex digits, as DTMF allows.
 */
const DATA_EVENT = new RegExp(
  `^([136ERPerp]) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT}{2}) *(${HEX_DIGIT}{3})$`,
);

/** docs/contact-id.md §4: Hikvision's NULL filler `0000 00 000`, the only use of qualifier 0. */
const HIKVISION_NULL_FILLER = /^0 *000 *00 *000$/;

/** docs/contact-id.md §1: `AAAA MT Q EEE GG CCC S`, spaces optional, MT 18 or 98. */
const DTMF_MESSAGE = new RegExp(
  `^(${HEX_DIGIT}{4}) *(18|98) *([136]) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT}{2}) *(${HEX_DIGIT}{3}) *(${HEX_DIGIT})$`,
);

export type CidDtmfParseResult =
  | { ok: true; account: string; messageType: '18' | '98'; event: CidEvent; checksumOk: boolean }
  | { ok: false; error: string };

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
    return { ok: false, account, error: `not a Contact ID event ${quoteForError(body)} (expected QEEE GG CCC)` };
  }
  const [, qualifier = '', code = '', group = '', zone = ''] = match;
  // DATA_EVENT admits only 1/3/6 and E/R/P, all of which normalise.
  const event = toCidEvent({ qualifier: normaliseQualifier(qualifier) as CidQualifier, code, group, zone });
  return { ok: true, account, events: [event] };
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
