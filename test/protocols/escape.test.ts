import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeFrame, escapeFrame, unescapeFrame } from '../../src/protocols/escape.js';

describe('frame escapes (capture files and the command line)', () => {
  it.each([
    ['printable text stays as it is', Buffer.from('"SIA-DCS"0001L0#1234[#1234|NBA001]', 'latin1'), '"SIA-DCS"0001L0#1234[#1234|NBA001]'],
    ['LF, CR and backslash get their short escapes', Buffer.from('\nA\\B\r', 'latin1'), '\\nA\\\\B\\r'],
    ['other control and high bytes become \\xHH', Buffer.from([0x00, 0x41, 0x14, 0xff, 0x7f]), '\\x00A\\x14\\xff\\x7f'],
    ['an escape at either end', Buffer.from([0x06, 0x41, 0x42, 0x15]), '\\x06AB\\x15'],
    ['nothing', Buffer.alloc(0), ''],
  ])('%s', (_name, bytes, text) => {
    expect(escapeFrame(bytes)).toBe(text);
    expect(unescapeFrame(text).equals(bytes)).toBe(true);
  });

  it('escapes a Uint8Array view the same as a Buffer of the same bytes', () => {
    const backing = new Uint8Array([0x41, 0x0a, 0x42, 0x0d, 0x43]);
    expect(escapeFrame(backing.subarray(1, 4))).toBe('\\nB\\r');
  });

  it('round-trips any bytes, and the text is printable ASCII only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = escapeFrame(bytes);
        expect(/^[\x20-\x7e]*$/.test(text)).toBe(true);
        expect(unescapeFrame(text).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it('completes a frame missing its LF and CR, keeping NULs after the CR', () => {
    expect(escapeFrame(completeFrame(Buffer.from('ABC', 'latin1')))).toBe('\\nABC\\r');
    expect(escapeFrame(completeFrame(Buffer.from('\nABC\r\0\0', 'latin1')))).toBe('\\nABC\\r\\x00\\x00');
  });
});
