/**
 * Reply policy: which answer a frame gets, as a pure function of (parse result, account settings, now).
 * Implements docs/dc09.md §11 ("When to send what") in the order of docs/dc09.md §17.
 */
import { buildAck, buildDuh, buildEncryptedAck, buildNak, type FrameForm } from './build.js';
import type { PadSource } from './crypto.js';
import type { Dc09Message, ParseResult } from './types.js';
import { REPLY_TOKENS, REQUEST_TOKENS } from './types.js';

export type ReplyKind = 'ACK' | 'NAK' | 'DUH' | 'none';

export interface TimestampWindowSeconds {
  pastSeconds: number;
  futureSeconds: number;
}

export interface AccountSettings {
  /** AES keys of the account; non-empty makes encryption mandatory for it. */
  keys: readonly Uint8Array[];
  timestampWindow: TimestampWindowSeconds;
}

export interface ReplyPolicy {
  /** Settings of a configured account (upper-cased lookup), null when unknown. */
  account(account: string): AccountSettings | null;
  unknownAccounts: 'reject' | 'accept';
  badCrc: 'nak' | 'silent';
  /** Clear frames: `flag` ACKs a skewed timestamp and flags it, `enforce` NAKs it (docs/dc09.md §10 recommendation). */
  clearTimestamps: 'flag' | 'enforce';
  /** Window for accounts without settings (unknown accounts accepted with defaults). */
  defaultWindow: TimestampWindowSeconds;
}

export const DEFAULT_WINDOW: TimestampWindowSeconds = { pastSeconds: 40, futureSeconds: 20 };

export type ReplyReason =
  | 'accepted'
  | 'reply-frame'
  | 'bad-crc'
  | 'bad-length'
  | 'malformed'
  | 'unknown-account'
  | 'no-key'
  | 'decryption-failed'
  | 'clear-text-for-encrypted-account'
  | 'timestamp-out-of-window'
  | 'bad-timestamp'
  | 'unknown-token'
  /** The frame was valid but its events could not be stored (sink or outbox refused): the panel retries. */
  | 'not-accepted';

export interface ReplyDecision {
  kind: ReplyKind;
  /** The reply frame to send; null for `none`. */
  frame: Buffer | null;
  reason: ReplyReason;
  /** Message time minus receiver time in seconds, when the message had a timestamp. */
  skewSeconds: number | null;
  /** True when a clear frame's timestamp lay outside the window but was accepted (`clearTimestamps: flag`). */
  skewFlagged: boolean;
  /** The account the frame was processed under (header account, else data account), upper-cased. */
  account: string | null;
}

export interface ReplyContext {
  now: Date;
  padSource?: PadSource;
}

// Positional fields, not an options object: one allocation per frame instead of two.
function decision(
  kind: ReplyKind,
  frame: Buffer | null,
  reason: ReplyReason,
  account: string | null,
  skewSeconds: number | null = null,
  skewFlagged = false,
): ReplyDecision {
  return { kind, frame, reason, skewSeconds, skewFlagged, account };
}

/** The account a message is routed under: header account, else the data block's (docs/dc09.md §17 step 4). */
export function routingAccount(message: Pick<Dc09Message, 'account' | 'dataAccount'>): string | null {
  const account = message.account ?? message.dataAccount;
  return account === null ? null : account.toUpperCase();
}

const REQUESTS: ReadonlySet<string> = new Set(REQUEST_TOKENS);
const REPLIES: ReadonlySet<string> = new Set(REPLY_TOKENS);

export function decideReply(result: ParseResult, policy: ReplyPolicy, context: ReplyContext): ReplyDecision {
  const { now } = context;
  if (!result.ok) {
    const { code, partial } = result.error;
    const form: FrameForm = { crcForm: partial.crc?.form, crcIncludesCr: partial.crc?.includesCr };
    const account = partial.account ? partial.account.toUpperCase() : null;
    const nak = (reason: ReplyReason) => decision('NAK', buildNak(now, form), reason, account);
    switch (code) {
      case 'crc':
        return policy.badCrc === 'silent' ? decision('none', null, 'bad-crc', account) : nak('bad-crc');
      case 'length':
        return policy.badCrc === 'silent' ? decision('none', null, 'bad-length', account) : nak('bad-length');
      case 'no-key':
        return nak('no-key');
      case 'decryption':
        return nak('decryption-failed');
      case 'timestamp':
        return nak('bad-timestamp');
      default:
        return nak('malformed');
    }
  }

  const message = result.message;
  const form: FrameForm = { crcForm: message.crc.form, crcIncludesCr: message.crc.includesCr };
  const account = routingAccount(message);
  // Replies from another receiver are never answered.
  if (REPLIES.has(message.token)) return decision('none', null, 'reply-frame', account);

  const settings = account === null ? null : policy.account(account);
  if (!settings && policy.unknownAccounts === 'reject') {
    return decision('NAK', buildNak(now, form), 'unknown-account', account);
  }
  if (!message.encrypted && settings && settings.keys.length > 0) {
    // A configured key makes encryption mandatory for the account.
    return decision('NAK', buildNak(now, form), 'clear-text-for-encrypted-account', account);
  }

  const window = settings?.timestampWindow ?? policy.defaultWindow;
  let skewSeconds: number | null = null;
  let skewFlagged = false;
  if (message.timestamp) {
    skewSeconds = (message.timestamp.getTime() - now.getTime()) / 1000;
    const outside = skewSeconds < -window.pastSeconds || skewSeconds > window.futureSeconds;
    if (outside && (message.encrypted || policy.clearTimestamps === 'enforce')) {
      // docs/dc09.md §10: NAK carrying the receiver's time so the panel can correct its clock.
      return decision('NAK', buildNak(now, form), 'timestamp-out-of-window', account, skewSeconds);
    }
    skewFlagged = outside;
  }

  const address = { sequence: message.sequence, receiver: message.receiver, line: message.line, account: message.account };
  // docs/dc09.md §11: a valid frame with an unknown token gets DUH (clear even for encrypted input).
  if (!REQUESTS.has(message.token)) return decision('DUH', buildDuh(address, form), 'unknown-token', account, skewSeconds);

  if (message.encrypted) {
    // An encrypted request is only ever parsed with the key that decrypted it; the *ACK uses that key (docs/dc09.md §11).
    if (!result.key) return decision('NAK', buildNak(now, form), 'no-key', account);
    return decision(
      'ACK',
      buildEncryptedAck(address, result.key, now, form, context.padSource),
      'accepted',
      account,
      skewSeconds,
      skewFlagged,
    );
  }
  return decision('ACK', buildAck(address, form), 'accepted', account, skewSeconds, skewFlagged);
}
