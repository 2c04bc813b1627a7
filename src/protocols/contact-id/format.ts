/**
 * Writes Contact ID events: the ADM-CID data block (docs/contact-id.md §4) and the 16-digit DTMF message (docs/contact-id.md §1).
 * Used by frame builders and simulators. Invalid fields throw RangeError (a caller's mistake).
 */

import { cidChecksum } from './checksum.js';
import { DATA_ACCOUNT_PATTERN, toFixedField } from './fields.js';
import { normaliseQualifier, type CidQualifier } from './qualifier.js';

export interface CidEventInput {
  /** `1`/`3`/`6`, or Sur-Gard `E`/`R`/`P`; written in digit form. */
  qualifier: string;
  /** EEE: a number is written in decimal, zero-padded (`130` → `130`). */
  code: string | number;
  /** GG, zero-padded to 2 (`1` → `01`). */
  group: string | number;
  /** CCC, zero-padded to 3 (`15` → `015`). */
  zone: string | number;
}

export interface CidDataInput extends CidEventInput {
  /** Written as the `#acct|` wrapper when given (1–16 letters or digits). */
  account?: string | null;
}

export interface CidDtmfInput extends CidEventInput {
  /** AAAA, zero-padded to 4 hex digits. */
  account: string | number;
  /** MT, `18` (default, preferred) or `98` (docs/contact-id.md §1). */
  messageType?: '18' | '98';
}

function requireQualifier(qualifier: string): CidQualifier {
  const normalised = normaliseQualifier(qualifier);
  if (normalised === null) {
    throw new RangeError(`Contact ID qualifier must be 1, 3, 6 (or E, R, P), got ${JSON.stringify(qualifier)}`);
  }
  return normalised;
}

/** `Q` + `EEE` + `GG` + `CCC` with the given separator between EEE, GG and CCC. */
function eventDigits(input: CidEventInput, separator: string): string {
  const qualifier = requireQualifier(input.qualifier);
  const code = toFixedField('code', input.code);
  const group = toFixedField('group', input.group);
  const zone = toFixedField('zone', input.zone);
  return `${qualifier}${code}${separator}${group}${separator}${zone}`;
}

/** docs/contact-id.md §4: `#acct|QEEE GG CCC`, or `QEEE GG CCC` without an account. */
export function formatCidData(input: CidDataInput): string {
  const { account } = input;
  if (account === undefined || account === null) return eventDigits(input, ' ');
  if (!DATA_ACCOUNT_PATTERN.test(account)) {
    throw new RangeError(`Contact ID data account must be 1-16 letters or digits, got ${JSON.stringify(account)}`);
  }
  return `#${account}|${eventDigits(input, ' ')}`;
}

/** docs/contact-id.md §1: the 16 digits `AAAAMTQEEEGGCCCS`, without spaces, checksum included. */
export function buildCidDtmf(input: CidDtmfInput): string {
  const messageType = input.messageType ?? '18';
  if (messageType !== '18' && messageType !== '98') {
    throw new RangeError(`Contact ID message type must be 18 or 98, got ${JSON.stringify(messageType)}`);
  }
  const first15 = `${toFixedField('account', input.account)}${messageType}${eventDigits(input, '')}`;
  return `${first15}${cidChecksum(first15)}`;
}
