/**
 * The account wrapper at the start of a data block, the same for SIA DCS and Contact ID (docs/dc09.md §8, docs/sia-dcs.md §1,
 * docs/contact-id.md §4): `#acct|` with 1–16 letters or digits (DC-07; it may differ from the header account), a bare `|` (Ajax sends
 * it for "no account"), or nothing.
 */
import type { DataDecodeResult } from './events.js';

export const MAX_DATA_ACCOUNT_LENGTH = 16;

const HASH = 0x23; // #
const BAR = 0x7c; // |

const isAlphanumeric = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** The wrapper's account (null without one) and where the rest of the block starts, or why the wrapper is wrong. */
export type AccountWrapper = { account: string | null; bodyStart: number } | { error: string };

export function readAccountWrapper(data: string): AccountWrapper {
  const first = data.charCodeAt(0);
  if (first === BAR) return { account: null, bodyStart: 1 };
  if (first !== HASH) return { account: null, bodyStart: 0 };
  let end = 1;
  while (isAlphanumeric(data.charCodeAt(end))) end++;
  const length = end - 1;
  if (length > MAX_DATA_ACCOUNT_LENGTH) {
    return { error: `account after "#" is too long: ${length} letters or digits from offset 1, at most ${MAX_DATA_ACCOUNT_LENGTH}` };
  }
  if (length === 0 || data.charCodeAt(end) !== BAR) {
    const found = end < data.length ? `found ${JSON.stringify(data.charAt(end))}` : 'found end of data';
    return {
      error:
        `account after "#" must be 1-${MAX_DATA_ACCOUNT_LENGTH} letters or digits closed by "|": ` +
        `${found} at offset ${end} after ${length} account characters`,
    };
  }
  return { account: data.slice(1, end), bodyStart: end + 1 };
}

/**
 * Decodes `data` with `parse`; when that fails and the data starts with an account without its `#` (docs/dc09.md §7:
 * ioBroker.sia quotes `[alarm2|Nri1OP0001*Familie*]`, DC09Gen sends `[1234|NFA129]`), decodes it again with the `#`
 * put back. Only after a failure, so SIA data like `NRR|Atest` keeps its meaning; the first reading's error is the
 * one reported.
 */
export function parseAllowingBareAccount(data: string, parse: (data: string) => DataDecodeResult): DataDecodeResult {
  const result = parse(data);
  if (result.ok) return result;
  const marked = `#${data}`;
  // The same rule as a `#acct|` wrapper: 1–16 letters or digits, then `|`.
  if ('error' in readAccountWrapper(marked)) return result;
  const retried = parse(marked);
  // Read that way the data must hold an event: `NBA1|` is a stray bar, not an account with nothing after it.
  return retried.ok && retried.events.length > 0 ? retried : result;
}
