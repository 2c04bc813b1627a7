import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProxyHeader, formatIpv4, formatIpv6, parseProxyHeader, type ProxyHeader } from '../../../src/protocols/proxy/index.js';

const port = fc.integer({ min: 0, max: 0xffff });
const endpoint = (size: 4 | 16) =>
  fc.record({
    address: fc.uint8Array({ minLength: size, maxLength: size }).map((b) => (size === 4 ? formatIpv4(b) : formatIpv6(b))),
    port,
  });
const version = fc.constantFrom(1 as const, 2 as const);
const header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({
    kind: fc.constant('proxied' as const),
    version,
    family: fc.constant('tcp4' as const),
    source: endpoint(4),
    destination: endpoint(4),
  }),
  fc.record({
    kind: fc.constant('proxied' as const),
    version,
    family: fc.constant('tcp6' as const),
    source: endpoint(16),
    destination: endpoint(16),
  }),
  fc.record({ kind: fc.constant('local' as const), version }),
);
const rest = fc.uint8Array({ maxLength: 64 });

/** A header's bytes with one byte replaced: near misses reach every rejection. */
const mutated = fc.tuple(header, fc.nat(), fc.integer({ min: 0, max: 255 }), rest).map(([h, at, value, tail]) => {
  const bytes = Buffer.concat([encodeProxyHeader(h), tail]);
  bytes[at % bytes.length] = value;
  return bytes;
});
const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  mutated,
);

describe('PROXY header properties (docs/proxy-protocol.md §2-4)', () => {
  it('round trip: parse(encode(h)) is h, whatever follows the header', () => {
    fc.assert(
      fc.property(header, rest, (h, tail) => {
        const bytes = encodeProxyHeader(h);
        expect(parseProxyHeader(Buffer.concat([bytes, tail]))).toEqual({ ...h, consumed: bytes.length });
      }),
    );
  });

  it('arbitrary bytes never throw, and a header never claims more bytes than it was given', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const result = parseProxyHeader(bytes);
        expect(['incomplete', 'proxied', 'local', 'invalid']).toContain(result.kind);
        if (result.kind === 'proxied' || result.kind === 'local') expect(result.consumed).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('split anywhere: a prefix needs more bytes (and no fewer than it says) or already gives the answer of the whole', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyBytes,
          fc.tuple(header, rest).map(([h, tail]) => Buffer.concat([encodeProxyHeader(h), tail])),
        ),
        fc.nat(),
        (bytes, cut) => {
          const whole = parseProxyHeader(bytes);
          const prefix = parseProxyHeader(bytes.subarray(0, cut % (bytes.length + 1)));
          if (prefix.kind !== 'incomplete') expect(prefix).toEqual(whole);
          // Nothing shorter than `need` decides either.
          else if (prefix.need - 1 <= bytes.length) expect(parseProxyHeader(bytes.subarray(0, prefix.need - 1)).kind).toBe('incomplete');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a whole header followed by anything is never reported incomplete', () => {
    fc.assert(
      fc.property(header, rest, (h, tail) => {
        const bytes = encodeProxyHeader(h);
        for (let cut = bytes.length; cut <= bytes.length + tail.length; cut++) {
          expect(parseProxyHeader(Buffer.concat([bytes, tail]).subarray(0, cut)).kind).toBe(h.kind);
        }
      }),
    );
  });
});
