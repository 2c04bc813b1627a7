/**
 * DC-09 frame builders: requests (for simulators and tests) and the receiver's replies (docs/dc09.md §11).
 * Every frame is `LF + CRC + 0LLL + body + CR` with CRC and length over the body (docs/dc09.md §2, docs/dc09.md §3).
 */
import { crc16arc, crc16UpdateByte, formatCrc } from './crc.js';
import { encryptBlocks, padLengthFor, randomPad, type PadSource } from './crypto.js';
import { formatTimestamp } from './timestamp.js';
import type { CrcForm, XData } from './types.js';

export interface FrameForm {
  crcForm?: CrcForm;
  /** Eldes style: CRC and length also cover the trailing CR (docs/dc09.md §3). */
  crcIncludesCr?: boolean;
}

/** Wraps a body: LF, CRC, `0LLL`, body, CR. */
export function frameBody(body: string, form: FrameForm = {}): Buffer {
  const bodyLength = Buffer.byteLength(body, 'latin1');
  const includesCr = form.crcIncludesCr === true;
  const binary = form.crcForm === 'binary';
  const out = Buffer.allocUnsafe(1 + (binary ? 2 : 4) + 4 + bodyLength + 1);
  out[0] = 0x0a;
  const lengthAt = binary ? 3 : 5;
  const bodyAt = lengthAt + 4;
  out.write(body, bodyAt, 'latin1');
  out[bodyAt + bodyLength] = 0x0d;
  let crc = crc16arc(out, bodyAt, bodyAt + bodyLength);
  if (includesCr) crc = crc16UpdateByte(crc, 0x0d);
  const length = bodyLength + (includesCr ? 1 : 0);
  out.write(`0${length.toString(16).toUpperCase().padStart(3, '0')}`, lengthAt, 'latin1');
  if (binary) {
    out[1] = crc >>> 8;
    out[2] = crc & 0xff;
  } else {
    out.write(formatCrc(crc), 1, 'latin1');
  }
  return out;
}

/** The address part of a header: sequence, optional `R`, `L`, optional `#acct` — echoed exactly (docs/dc09.md §7). */
export interface FrameAddress {
  sequence: string;
  receiver?: string | null;
  /** `""` writes a bare `L`; null/undefined omits it. */
  line?: string | null;
  account?: string | null;
}

function addressText(a: FrameAddress): string {
  let text = a.sequence;
  if (a.receiver != null) text += `R${a.receiver}`;
  if (a.line != null) text += `L${a.line}`;
  if (a.account != null) text += `#${a.account}`;
  return text;
}

function xdataText(xdata: readonly XData[] | undefined): string {
  let text = '';
  for (const block of xdata ?? []) text += `[${block.id}${block.value}]`;
  return text;
}

export interface RequestFrame extends FrameAddress, FrameForm {
  /** `SIA-DCS`, `ADM-CID`, `NULL`, or any other token (without `*`). */
  token: string;
  /** Data block text, e.g. `#1234|Nri1/BA01`. */
  data: string;
  xdata?: readonly XData[];
  /** Required for encrypted frames; optional for clear ones. */
  timestamp?: Date | null;
  /** AES key: the frame is encrypted when given (docs/dc09.md §12). */
  key?: Uint8Array | null;
  padSource?: PadSource;
}

/**
 * Encrypted payload: pad + `|` + data + `]` + xdata + timestamp, AES-CBC, as upper-case hex (docs/dc09.md §12).
 * The pad never contains `|`, `[`, `]`.
 */
export function encryptPayload(key: Uint8Array, rest: string, padSource: PadSource = randomPad): string {
  const restLength = Buffer.byteLength(rest, 'latin1');
  const plain = padSource(padLengthFor(restLength)) + rest;
  return encryptBlocks(key, Buffer.from(plain, 'latin1')).toString('hex').toUpperCase();
}

export function buildRequest(frame: RequestFrame): Buffer {
  const timestamp = frame.timestamp ? formatTimestamp(frame.timestamp) : '';
  const head = `"${frame.key ? '*' : ''}${frame.token}"${addressText(frame)}[`;
  if (frame.key) {
    const ts = timestamp || formatTimestamp(new Date());
    const hex = encryptPayload(frame.key, `|${frame.data}]${xdataText(frame.xdata)}${ts}`, frame.padSource);
    return frameBody(head + hex, frame);
  }
  return frameBody(`${head}${frame.data}]${xdataText(frame.xdata)}${timestamp}`, frame);
}

/** Clear ACK: `"ACK"seq[R][L][#acct][]` (docs/dc09.md §11). */
export function buildAck(address: FrameAddress, form: FrameForm = {}): Buffer {
  return frameBody(`"ACK"${addressText(address)}[]`, form);
}

/** Encrypted ACK: `"*ACK"seq…[` + HEX(pad `|` `]` `_timestamp`) (docs/dc09.md §11, ioBroker form). */
export function buildEncryptedAck(
  address: FrameAddress,
  key: Uint8Array,
  now: Date,
  form: FrameForm = {},
  padSource: PadSource = randomPad,
): Buffer {
  return frameBody(`"*ACK"${addressText(address)}[${encryptPayload(key, `|]${formatTimestamp(now)}`, padSource)}`, form);
}

/** NAK: fixed `"NAK"0000R0L0A0[]` + the receiver's UTC time, never encrypted (docs/dc09.md §11). */
export function buildNak(now: Date, form: FrameForm = {}): Buffer {
  return frameBody(`"NAK"0000R0L0A0[]${formatTimestamp(now)}`, form);
}

/** DUH: `"DUH"seq[R][L][#acct][]`, clear even for encrypted requests (docs/dc09.md §11). */
export function buildDuh(address: FrameAddress, form: FrameForm = {}): Buffer {
  return frameBody(`"DUH"${addressText(address)}[]`, form);
}
