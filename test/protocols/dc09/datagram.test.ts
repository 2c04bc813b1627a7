import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRequest, frameOfDatagram, parseFrame, type RequestFrame } from '../../../src/protocols/dc09/index.js';

const MAX = 4096;
const latin1 = (text: string) => Buffer.from(text, 'latin1');
const request = (over: Partial<RequestFrame> = {}) =>
  buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|NBA1', timestamp: null, ...over });

describe('frameOfDatagram: one frame per datagram (docs/dc09.md §1)', () => {
  it('returns the frame of a datagram that is exactly one frame', () => {
    const frame = request();
    expect(frameOfDatagram(frame, MAX)).toEqual({ ok: true, frame });
  });

  it.each([
    ['a NUL', '\0'],
    ['CR LF', '\r\n'],
    ['NULs, CR and LF', '\0\0\r\n\0'],
  ])('accepts NUL/CR/LF padding after the frame: %s', (_, after) => {
    const frame = request();
    expect(frameOfDatagram(Buffer.concat([frame, latin1(after)]), MAX)).toEqual({ ok: true, frame });
  });

  it('finds a binary-CRC frame whose CRC bytes look like padding', () => {
    // Search for a sequence whose binary CRC holds a NUL, CR or LF byte (docs/dc09.md §3): it must not be taken for padding.
    const frame = Array.from({ length: 2000 }, (_, i) => request({ crcForm: 'binary', sequence: String(i).padStart(4, '0') })).find((f) =>
      [f[1], f[2]].some((b) => b === 0 || b === 0x0a || b === 0x0d),
    )!;
    expect(frameOfDatagram(Buffer.concat([frame, latin1('\0')]), MAX)).toEqual({ ok: true, frame });
  });

  it.each([
    ['two frames', Buffer.concat([request(), request({ sequence: '0002' })]), 'several-frames'],
    ['two frames with padding between', Buffer.concat([request(), latin1('\0\r\n'), request({ sequence: '0002' })]), 'several-frames'],
    ['a frame and junk', Buffer.concat([request(), latin1('junk')]), 'bytes-outside-frame'],
    ['junk and a frame', Buffer.concat([latin1('GET / HTTP/1.1\r\n'), request()]), 'bytes-outside-frame'],
    ['padding before the frame', Buffer.concat([latin1('\0\r'), request()]), 'bytes-outside-frame'],
    ['a frame and the start of another', Buffer.concat([request(), request().subarray(0, 12)]), 'bytes-outside-frame'],
    ['a frame and a space', Buffer.concat([request(), latin1(' ')]), 'bytes-outside-frame'],
    ['junk only', latin1('\x16\x03\x01\x00junk'), 'no-frame'],
    ['nothing', Buffer.alloc(0), 'no-frame'],
    ['a frame cut short', request().subarray(0, 20), 'no-frame'],
  ])('refuses %s', (_, datagram, reason) => {
    expect(frameOfDatagram(datagram, MAX)).toEqual({ ok: false, reason });
  });

  const frames = fc
    .record({
      token: fc.constantFrom('SIA-DCS', 'ADM-CID', 'NULL', 'X'),
      sequence: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
      data: fc.constantFrom('#1234|NBA1', '#1234|1130 01 015', ''),
      crcForm: fc.constantFrom('ascii' as const, 'binary' as const),
      crcIncludesCr: fc.boolean(),
    })
    .map((f) => request(f));
  const padding = fc.array(fc.constantFrom(0x00, 0x0a, 0x0d), { maxLength: 6 }).map((bytes) => Buffer.from(bytes));

  it('property: any frame with any NUL/CR/LF padding after it is found, byte for byte', () => {
    fc.assert(
      fc.property(frames, padding, (frame, after) => {
        expect(frameOfDatagram(Buffer.concat([frame, after]), MAX)).toEqual({ ok: true, frame });
      }),
    );
  });

  it('property: two or more frames, or a frame with any byte before it or any other byte after it, are never one frame', () => {
    fc.assert(
      fc.property(fc.array(frames, { minLength: 2, maxLength: 5 }), padding, (list, pad) => {
        expect(frameOfDatagram(Buffer.concat(list.flatMap((f) => [f, pad])), MAX).ok).toBe(false);
      }),
    );
    fc.assert(
      fc.property(frames, fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.boolean(), (frame, extra, atEnd) => {
        fc.pre(!atEnd || extra.some((b) => b !== 0x00 && b !== 0x0a && b !== 0x0d));
        const datagram = atEnd ? Buffer.concat([frame, extra]) : Buffer.concat([extra, frame]);
        const found = frameOfDatagram(datagram, MAX);
        if (atEnd || !found.ok) {
          expect(found.ok).toBe(false);
        } else {
          // Bytes before a frame whose CRC is sent in binary can themselves read as a frame start with a matching
          // length (LF, two CRC bytes, "0LLL"): then the whole datagram is one candidate frame, and its CRC fails.
          expect(found.frame.equals(frame)).toBe(false);
          expect(parseFrame(found.frame).ok).toBe(false);
        }
      }),
    );
  });
});
