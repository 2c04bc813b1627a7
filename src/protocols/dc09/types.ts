/** Typed DC-09 messages and errors (docs/dc09.md §2 frame layout). */

export type CrcForm = 'ascii' | 'binary';

export interface CrcInfo {
  /** The CRC the frame carried. */
  value: number;
  /** Whether it matched the computed CRC (in either coverage, see includesCr). */
  ok: boolean;
  /** 4 hex digits (standard) or 2 raw big-endian bytes (Lupusec, Jablotron, Trikdis; docs/dc09.md §3). */
  form: CrcForm;
  /** CRC and length cover the trailing CR too (Eldes, docs/dc09.md §3). */
  includesCr: boolean;
}

/** One extended-data block `[X…]` (docs/dc09.md §9). */
export interface XData {
  id: string;
  value: string;
}

/** Tokens a panel sends (requests) and a receiver answers with (replies); docs/dc09.md §5. */
export const REQUEST_TOKENS = ['SIA-DCS', 'ADM-CID', 'NULL'] as const;
export const REPLY_TOKENS = ['ACK', 'NAK', 'DUH', 'RSP'] as const;

export interface Dc09Message {
  /** ID token without the `*` (`SIA-DCS`, `ADM-CID`, `NULL`, `ACK`, …). */
  token: string;
  encrypted: boolean;
  /** Four decimal digits, as received. */
  sequence: string;
  /** `R` field hex digits, null when absent. */
  receiver: string | null;
  /** `L` field hex digits: `""` for a bare `L`, null when absent. */
  line: string | null;
  /** Header `#acct`, null when absent (and for NAK's fixed `A0`). */
  account: string | null;
  /** Account of the data block's `#acct|` wrapper, null when absent or empty. */
  dataAccount: string | null;
  /** Data block text (decrypted, without pad and `|`). */
  data: string;
  /** Pad of an encrypted message (for diagnostics), null for clear messages. */
  pad: string | null;
  xdata: XData[];
  /** Message timestamp, null when absent (clear messages only). */
  timestamp: Date | null;
  crc: CrcInfo;
  /** The length field's value. */
  length: number;
}

export type Dc09ErrorCode =
  | 'framing' // no LF … CR around the frame
  | 'size' // longer than a DC-09 frame can be
  | 'crc'
  | 'length'
  | 'header' // a header field does not fit docs/dc09.md §2
  | 'account' // account characters or length
  | 'no-key' // encrypted message for an account without a key
  | 'decryption' // wrong key or corrupted cipher text
  | 'timestamp' // timestamp present but malformed
  | 'data'; // data / xdata block structure

export interface Dc09Error {
  code: Dc09ErrorCode;
  message: string;
  /** What could be read before the failure: lets a caller log and answer (e.g. DUH needs seq/R/L/acct). */
  partial: Partial<Dc09Message>;
}

export type ParseResult =
  /** `key` is the AES key that decrypted an encrypted message (the `*ACK` must use the same one). */
  { ok: true; message: Dc09Message; key?: Uint8Array } | { ok: false; error: Dc09Error };
