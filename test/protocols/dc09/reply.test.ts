import { describe, expect, it } from 'vitest';
import {
  buildRequest,
  decideReply,
  DEFAULT_WINDOW,
  frameBody,
  parseFrame,
  type AccountSettings,
  type ReplyPolicy,
} from '../../../src/protocols/dc09/index.js';

const now = new Date('2026-11-26T12:00:00Z');
const key = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const accounts: Record<string, AccountSettings> = {
  '1234': { keys: [], timestampWindow: DEFAULT_WINDOW },
  SECURE: { keys: [key], timestampWindow: DEFAULT_WINDOW },
  WIDE: { keys: [key], timestampWindow: { pastSeconds: 600, futureSeconds: 600 } },
};
function policy(overrides: Partial<ReplyPolicy> = {}): ReplyPolicy {
  return {
    account: (a) => accounts[a] ?? null,
    unknownAccounts: 'reject',
    badCrc: 'nak',
    clearTimestamps: 'flag',
    defaultWindow: DEFAULT_WINDOW,
    ...overrides,
  };
}
const keysFor = (a: string) => accounts[a]?.keys ?? null;

function reply(frame: Buffer, p = policy()) {
  const result = parseFrame(frame, { keysFor });
  return { result, decision: decideReply(result, p, { now }) };
}
const text = (b: Buffer | null) => b?.toString('latin1') ?? null;
const clear = (over: Partial<Parameters<typeof buildRequest>[0]> = {}) =>
  buildRequest({
    token: 'SIA-DCS',
    sequence: '0007',
    receiver: null,
    line: '0',
    account: '1234',
    data: '#1234|NBA1',
    timestamp: now,
    ...over,
  });

describe('reply policy (docs/dc09.md §11, docs/dc09.md §17)', () => {
  it('ACKs a valid clear frame echoing seq, L and #acct and omitting R when absent', () => {
    const { decision } = reply(clear());
    expect(decision.kind).toBe('ACK');
    expect(text(decision.frame)).toMatch(/^\n[0-9A-F]{4}0[0-9A-F]{3}"ACK"0007L0#1234\[\]\r$/);
  });

  it('echoes R only when present', () => {
    const { decision } = reply(clear({ receiver: '1F' }));
    expect(text(decision.frame)).toContain('"ACK"0007R1FL0#1234[]');
  });

  it('answers in the binary CRC form the panel used', () => {
    const { decision } = reply(clear({ crcForm: 'binary' }));
    const parsed = parseFrame(decision.frame!);
    expect(parsed.ok && parsed.message.crc.form).toBe('binary');
  });

  it('answers an Eldes frame with CRC over the CR too', () => {
    const { decision } = reply(clear({ crcIncludesCr: true, timestamp: null }));
    const parsed = parseFrame(decision.frame!);
    expect(parsed.ok && parsed.message.crc.includesCr).toBe(true);
  });

  it('ACKs unknown event codes (never DUH)', () => {
    expect(reply(clear({ data: '#1234|NQQ99' })).decision.kind).toBe('ACK');
  });

  it('NAKs a bad CRC, or stays silent when configured', () => {
    const bad = clear();
    bad.write('0000', 1, 'latin1');
    expect(reply(bad).decision.kind).toBe('NAK');
    expect(reply(bad, policy({ badCrc: 'silent' })).decision).toMatchObject({ kind: 'none', reason: 'bad-crc' });
  });

  it('NAK has the fixed pseudo address and the receiver time', () => {
    const bad = clear();
    bad.write('0000', 1, 'latin1');
    expect(text(reply(bad).decision.frame)).toMatch(/"NAK"0000R0L0A0\[\]_12:00:00,11-26-2026\r$/);
  });

  it('NAKs unknown accounts when rejecting, ACKs them when accepting', () => {
    const f = clear({ account: '9999', data: '#9999|NBA1' });
    expect(reply(f).decision).toMatchObject({ kind: 'NAK', reason: 'unknown-account' });
    expect(reply(f, policy({ unknownAccounts: 'accept' })).decision.kind).toBe('ACK');
  });

  it('routes by the data account when the header has none', () => {
    const f = clear({ account: null, data: '#1234|NBA1' });
    expect(reply(f).decision).toMatchObject({ kind: 'ACK', account: '1234' });
  });

  it('matches accounts case-insensitively', () => {
    const f = buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: 'secure', data: '', key, timestamp: now });
    expect(reply(f).decision.kind).toBe('ACK');
  });

  it('NAKs clear text for an account that has a key', () => {
    expect(reply(clear({ account: 'SECURE', data: '' })).decision).toMatchObject({
      kind: 'NAK',
      reason: 'clear-text-for-encrypted-account',
    });
  });

  it('answers an encrypted frame with an encrypted *ACK under the same key', () => {
    const f = buildRequest({
      token: 'SIA-DCS',
      sequence: '0002',
      receiver: '1',
      line: '1',
      account: 'SECURE',
      data: '#SECURE|NBA1',
      key,
      timestamp: now,
    });
    const { decision } = reply(f);
    expect(decision.kind).toBe('ACK');
    expect(text(decision.frame)).toContain('"*ACK"0002R1L1#SECURE[');
    const ack = parseFrame(decision.frame!, { keysFor: () => [key] });
    expect(ack.ok && ack.message).toMatchObject({ token: 'ACK', encrypted: true, data: '', timestamp: now });
  });

  it('NAKs a wrong key', () => {
    const f = buildRequest({
      token: 'NULL',
      sequence: '0000',
      line: '0',
      account: 'SECURE',
      data: '',
      key: Buffer.alloc(16, 9),
      timestamp: now,
    });
    expect(reply(f).decision).toMatchObject({ kind: 'NAK', reason: 'decryption-failed' });
  });

  it('enforces the window on encrypted frames (-40 s / +20 s by default)', () => {
    const at = (offset: number) =>
      reply(
        buildRequest({
          token: 'NULL',
          sequence: '0000',
          line: '0',
          account: 'SECURE',
          data: '',
          key,
          timestamp: new Date(now.getTime() + offset * 1000),
        }),
      ).decision;
    expect(at(-40).kind).toBe('ACK');
    expect(at(-41)).toMatchObject({ kind: 'NAK', reason: 'timestamp-out-of-window', skewSeconds: -41 });
    expect(at(20).kind).toBe('ACK');
    expect(at(21).kind).toBe('NAK');
  });

  it('uses the per-account window', () => {
    const f = buildRequest({
      token: 'NULL',
      sequence: '0000',
      line: '0',
      account: 'WIDE',
      data: '',
      key,
      timestamp: new Date(now.getTime() - 300_000),
    });
    expect(reply(f).decision.kind).toBe('ACK');
  });

  it('flags skewed clear frames by default and NAKs them when enforcing', () => {
    const stale = clear({ timestamp: new Date(now.getTime() - 3_600_000) });
    expect(reply(stale).decision).toMatchObject({ kind: 'ACK', skewFlagged: true, skewSeconds: -3600 });
    expect(reply(stale, policy({ clearTimestamps: 'enforce' })).decision.kind).toBe('NAK');
  });

  it('DUHs a valid frame with an unknown token, echoing the address', () => {
    const { decision } = reply(frameBody('"XYZ"0005L0#1234[]'));
    expect(decision.kind).toBe('DUH');
    expect(text(decision.frame)).toContain('"DUH"0005L0#1234[]');
  });

  it('does not answer replies', () => {
    expect(reply(frameBody('"ACK"0005L0#1234[]')).decision.kind).toBe('none');
  });

  it('NAKs malformed frames', () => {
    expect(reply(frameBody('"SIA-DCS"00L0#1234[]')).decision).toMatchObject({ kind: 'NAK', reason: 'malformed' });
  });
});
