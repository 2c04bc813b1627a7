/**
 * Payload decoding by ID token (docs/dc09.md §8): SIA-DCS data → SIA events, ADM-CID data → Contact ID
 * events, NULL and replies → no events.
 */
import { readAccountWrapper } from './account-wrapper.js';
import { parseCidData } from './contact-id/index.js';
import type { Dc09Message } from './dc09/types.js';
import type { DataDecodeResult, PanelEvent } from './events.js';
import { parseSiaData } from './sia/index.js';

export interface PayloadEvents {
  events: PanelEvent[];
  /** Why the data block did not decode (the frame is still ACKed, and kept as a dead letter); null when it did. */
  dataError: string | null;
}

const DECODERS: Readonly<Record<string, (data: string) => DataDecodeResult>> = {
  'SIA-DCS': parseSiaData,
  'ADM-CID': parseCidData,
};

/** A data block that may start with an account without its `#` (docs/dc09.md §7: `1234|NFA129`, `alarm2|Nri1…`). */
const BARE_ACCOUNT_START = /^[0-9A-Za-z]{1,16}\|/;

/**
 * The data account of a message: the `#acct|` wrapper's, else — for a data block that starts with an account
 * without its `#` — the account the token's decoder reads there (only when it reads the block that way, docs/dc09.md §7;
 * `NRR|Atest` has none). Null when there is none.
 */
export function dataAccountFor(token: string, data: string): string | null {
  const wrapper = readAccountWrapper(data);
  if ('error' in wrapper) return null;
  if (wrapper.account !== null || !BARE_ACCOUNT_START.test(data)) return wrapper.account;
  const decoded = DECODERS[token]?.(data);
  return decoded?.ok ? decoded.account : null;
}

export function decodePayload(message: Pick<Dc09Message, 'token' | 'data'>): PayloadEvents {
  const decoder = DECODERS[message.token];
  if (!decoder) return { events: [], dataError: null };
  const result = decoder(message.data);
  return result.ok ? { events: result.events, dataError: null } : { events: [], dataError: result.error };
}
