/**
 * What to change when the bridge refuses a frame: a short `hint` for the rejection's log line, naming the
 * configuration key to add or the setting (of the bridge or the panel) that caused it.
 */
import type { ReplyReason } from '../../protocols/dc09/index.js';

const acct = (account: string | null) => `accounts["${account ?? '<account>'}"]`;

const HINTS: Readonly<Partial<Record<ReplyReason, (account: string | null) => string>>> = {
  'unknown-account': (a) => `add ${acct(a)} (or set receiver.unknownAccounts to "accept")`,
  'clear-text-for-encrypted-account': (a) =>
    `${acct(a)}.key is set, so the panel must encrypt: turn on its DC-09 encryption with that key, or remove the key`,
  'no-key': (a) => `the panel encrypts: add ${acct(a)}.key (the panel's AES key)`,
  'decryption-failed': (a) => `${acct(a)}.key (and keyEncoding) must be the panel's AES key`,
  'timestamp-out-of-window': (a) => `set the panel's clock (NTP), or widen ${acct(a)}.timestampWindow or receiver.timestampWindow`,
  'bad-timestamp': () => "the panel's DC-09 timestamp is malformed: check its receiver (DC-09) settings and firmware",
  'bad-crc': () => 'frames arrive corrupted: check the line, and that the panel speaks SIA DC-09 to this port',
  'bad-length': () => 'frames arrive corrupted: check the line, and that the panel speaks SIA DC-09 to this port',
  malformed: () => 'not a SIA DC-09 frame: set the panel (or the sender) to SIA DC-09 for this port',
  'unknown-token': () => 'the panel sends a DC-09 event format alarm-bridge does not decode: choose SIA-DCS or ADM-CID on the panel',
};

/** The hint for a refusal, or undefined when there is nothing the operator can change. */
export function nakHint(reason: ReplyReason, account: string | null): string | undefined {
  return HINTS[reason]?.(account);
}
