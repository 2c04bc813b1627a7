import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideReply, DEFAULT_WINDOW, parseFrame, type ReplyPolicy } from '../../../src/protocols/dc09/index.js';

interface Sample {
  panel: string;
  frame: string;
  key_hex: string | null;
  crc_ok: boolean;
  len_ok: boolean;
  quirks: string[];
  expect: Record<string, any>;
}

const samples: Sample[] = readFileSync(new URL('../../../fixtures/dc09-samples.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));

function tsText(date: Date | null): string | null {
  if (!date) return null;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())},${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}-${date.getUTCFullYear()}`;
}

describe('public DC-09 samples (docs/dc09.md §19)', () => {
  it('has the full sample set', () => {
    expect(samples.length).toBe(26);
  });

  for (const [index, sample] of samples.entries()) {
    const name = `#${index + 1} ${sample.panel} ${sample.expect.id ?? ''}`;
    it(name, () => {
      const key = sample.key_hex ? Buffer.from(sample.key_hex, 'hex') : null;
      const result = parseFrame(Buffer.from(sample.frame, 'latin1'), { keysFor: () => (key ? [key] : null) });
      if (!sample.crc_ok || !sample.len_ok) {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(['crc', 'length']).toContain(result.error.code);
        return;
      }
      expect(result.ok, JSON.stringify(!result.ok && result.error)).toBe(true);
      if (!result.ok) return;
      const m = result.message;
      const e = sample.expect;
      const id = String(e.id);
      expect(m.encrypted).toBe(id.startsWith('*'));
      expect(m.token).toBe(id.replace('*', ''));
      expect(m.sequence).toBe(e.seq);
      if ('receiver' in e) expect(m.receiver).toBe(e.receiver);
      if ('line' in e) expect(m.line).toBe(e.line);
      if ('account' in e) expect(m.account).toBe(e.account);
      if ('data_account' in e) expect(m.dataAccount).toBe(e.data_account);
      if ('data' in e) expect(m.data).toBe(e.data);
      if ('pad' in e) expect(m.pad).toBe(e.pad);
      if ('timestamp' in e) expect(tsText(m.timestamp)).toBe(e.timestamp);
      if ('xdata' in e) expect(m.xdata).toEqual(e.xdata);
      expect(m.crc.ok).toBe(true);
      expect(m.crc.form).toBe(sample.quirks.includes('binary_crc') ? 'binary' : 'ascii');
      expect(m.crc.includesCr).toBe(sample.quirks.includes('crc_and_length_include_cr'));
    });
  }
});

describe('reply policy over the samples', () => {
  const policy: ReplyPolicy = {
    account: () => null,
    unknownAccounts: 'accept',
    badCrc: 'nak',
    clearTimestamps: 'flag',
    defaultWindow: DEFAULT_WINDOW,
  };
  it('ACKs every valid clear request and NAKs the bad-CRC one', () => {
    for (const sample of samples) {
      if (sample.key_hex) continue;
      const result = parseFrame(Buffer.from(sample.frame, 'latin1'));
      const reply = decideReply(result, policy, { now: new Date('2026-11-26T12:00:00Z') });
      const id = String(sample.expect.id);
      if (!sample.crc_ok) expect(reply.kind).toBe('NAK');
      else if (['ACK', 'NAK', 'DUH'].includes(id)) expect(reply.kind).toBe('none');
      else expect(reply.kind, sample.frame).toBe('ACK');
    }
  });
});
