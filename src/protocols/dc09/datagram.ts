/**
 * DC-09 over UDP carries exactly one frame per datagram (docs/dc09.md §1): the datagram starts with the frame's LF
 * and after its CR holds at most NUL/CR/LF padding (some panels send a NUL after the CR). Anything else makes the
 * datagram not a request: a second frame, the start of one, or junk. Such a datagram gets no reply, so one
 * datagram can never draw several replies.
 */
import { Dc09Framer } from './framer.js';

export type DatagramFrame = { ok: true; frame: Buffer } | { ok: false; reason: 'no-frame' | 'several-frames' | 'bytes-outside-frame' };

const isPadding = (b: number) => b === 0x00 || b === 0x0a || b === 0x0d;

function onlyPadding(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isPadding(bytes[i]!)) return false;
  return true;
}

export function frameOfDatagram(datagram: Buffer, maxFrameBytes: number): DatagramFrame {
  const { frames } = new Dc09Framer({ maxFrameBytes }).push(datagram);
  if (frames.length === 0) return { ok: false, reason: 'no-frame' };
  if (frames.length > 1) return { ok: false, reason: 'several-frames' };
  const frame = frames[0]!;
  // A fresh framer cuts its frames out of the chunk it was given, so the frame's offset is its place in the datagram.
  const start = frame.byteOffset - datagram.byteOffset;
  if (start !== 0 || !onlyPadding(datagram, frame.length, datagram.length)) return { ok: false, reason: 'bytes-outside-frame' };
  return { ok: true, frame };
}
