/**
 * Lupusec XT Contact ID over TCP (docs/contact-id.md §5): panels in `ip://<subscriber>@host:port/CID` mode
 * send `[<subscriber> 18QEEEGGZZZC]` and expect the single byte 0x06. The subscriber is any text of up to 16
 * characters. The check digit C is not reliable in the field (the published example's digit does not follow
 * DC-05, docs/contact-id.md §1), so a wrong one is flagged on the event (`checksumOk: false`), not refused.
 */
import { buildCidDtmf, cidCheckDigit, parseCidMessage, type CidEventInput } from '../contact-id/index.js';
import { escapeFrame } from '../escape.js';
import type { CidEvent } from '../events.js';

export const LUPUSEC_ACK = Buffer.from([0x06]);
/** Answer to a message that cannot be parsed. */
export const LUPUSEC_NAK = Buffer.from([0x15]);

export const LUPUSEC_MAX_SUBSCRIBER = 16;

/** `[`, the subscriber (printable, no brackets), one or more spaces, then MT Q EEE GG ZZZ C without spaces. */
const MESSAGE = /^\[ *([\x20-\x5a\x5c\x5e-\x7e]{1,16}?) +([0-9A-Fa-f]{12}) *\]$/;

export interface LupusecMessage {
  subscriber: string;
  /** The Contact ID event; `checksumOk` says whether C follows DC-05 over the digits sent. */
  event: CidEvent;
}

export type LupusecResult = { ok: true; message: LupusecMessage } | { ok: false; error: string };

/** Parses one message as the framer cuts it, brackets included. Never throws. */
export function parseLupusecMessage(bytes: Uint8Array): LupusecResult {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const match = MESSAGE.exec(text);
  const event = match ? parseCidMessage(match[2]!, null) : null;
  if (!match || !event) {
    const shown = text.length > 48 ? `${text.slice(0, 48)}…` : text;
    return {
      ok: false,
      error: `not a Lupusec Contact ID message ${JSON.stringify(shown)} (expected [<subscriber of 1-16 characters> 18QEEEGGZZZC], Q 1/3/6)`,
    };
  }
  return { ok: true, message: { subscriber: match[1]!, event } };
}

export interface LupusecMessageInput extends CidEventInput {
  subscriber: string;
  /** MT, `18` by default. */
  messageType?: '18' | '98';
  /** The check digit to send; default: the DC-05 digit over the 11 digits sent. */
  checkDigit?: string;
}

/** `[<subscriber> 18QEEEGGZZZC]`. Throws RangeError for a subscriber that cannot be sent or bad fields. */
export function buildLupusecMessage(input: LupusecMessageInput): Buffer {
  const { subscriber } = input;
  if (!/^[\x21-\x5a\x5c\x5e-\x7e](?:[\x20-\x5a\x5c\x5e-\x7e]{0,14}[\x21-\x5a\x5c\x5e-\x7e])?$/.test(subscriber)) {
    throw new RangeError(
      `Lupusec subscriber must be 1-${LUPUSEC_MAX_SUBSCRIBER} printable characters without brackets or outer spaces, got ${JSON.stringify(subscriber)}`,
    );
  }
  // The same fields as a DTMF message without its account and check digit.
  const digits = buildCidDtmf({ ...input, account: 0 }).slice(4, 15);
  const check = input.checkDigit ?? cidCheckDigit(digits)!;
  if (!/^[0-9A-Fa-f]$/.test(check)) throw new RangeError(`Lupusec check digit must be one hex digit, got ${JSON.stringify(check)}`);
  return Buffer.from(`[${subscriber} ${digits}${check}]`, 'latin1');
}

/** The `decode --format lupusec-cid` report of one message and the reply a receiver sends. */
export interface LupusecCliReport {
  ok: boolean;
  format: 'lupusec-cid';
  /** The subscriber, which is the account. */
  account: string | null;
  events: CidEvent[];
  raw: string;
  reply: { kind: 'ACK' | 'NAK'; frame: string };
  error?: { code: 'unparseable'; message: string };
}

export function decodeLupusecForCli(bytes: Uint8Array): LupusecCliReport {
  const result = parseLupusecMessage(bytes);
  const raw = escapeFrame(bytes);
  if (!result.ok) {
    return {
      ok: false,
      format: 'lupusec-cid',
      account: null,
      events: [],
      raw,
      reply: { kind: 'NAK', frame: escapeFrame(LUPUSEC_NAK) },
      error: { code: 'unparseable', message: result.error },
    };
  }
  return {
    ok: true,
    format: 'lupusec-cid',
    account: result.message.subscriber,
    events: [result.message.event],
    raw,
    reply: { kind: 'ACK', frame: escapeFrame(LUPUSEC_ACK) },
  };
}
