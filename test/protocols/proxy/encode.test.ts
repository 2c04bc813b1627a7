import { describe, expect, it } from 'vitest';
import { encodeProxyHeader } from '../../../src/protocols/proxy/index.js';
import { latin1, proxied, ROUND_TRIP } from './examples.js';

describe('PROXY header writer (docs/proxy-protocol.md §2-4)', () => {
  it.each(ROUND_TRIP)('%s: gives the bytes', (_name, header, bytes) => {
    expect(encodeProxyHeader(header).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('writes addresses the canonical way whatever their spelling', () => {
    const header = proxied(1, 'tcp6', ['2001:0DB8:0:0:0:0:0:7', 1], ['::FFFF:10.0.0.1', 2]);
    expect(encodeProxyHeader(header)).toEqual(latin1('PROXY TCP6 2001:db8::7 ::ffff:10.0.0.1 1 2\r\n'));
  });

  it('refuses an address that is not of the header family', () => {
    const header = proxied(2, 'tcp4', ['::1', 1], ['127.0.0.1', 2]);
    expect(() => encodeProxyHeader(header)).toThrow(/not an address of the header's family: ::1/);
  });
});
