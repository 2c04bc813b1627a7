import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/cli/decode.js';
import { crc16arc } from '../../src/protocols/dc09/index.js';
import { escapeFrame, unescapeFrame } from '../../src/protocols/escape.js';
import { runCli } from './run-cli.js';

interface Sample {
  frame: string;
  key_hex: string | null;
  crc_ok: boolean;
  len_ok: boolean;
  expect: Record<string, any>;
}
const samples: Sample[] = readFileSync(new URL('../../fixtures/dc09-samples.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));

function isoOf(ts: string): string {
  const [time, date] = ts.split(',');
  const [mm, dd, yyyy] = date!.split('-');
  return `${yyyy}-${mm}-${dd}T${time}.000Z`;
}

describe('alarm-bridge decode over every public sample', () => {
  for (const [i, sample] of samples.entries()) {
    it(`sample ${i + 1}: ${JSON.stringify(sample.frame).slice(0, 60)}`, async () => {
      const args = ['decode', escapeFrame(Buffer.from(sample.frame, 'latin1'))];
      if (sample.key_hex) args.push('--key', sample.key_hex);
      const now = sample.expect.timestamp ? isoOf(sample.expect.timestamp) : '2026-01-01T00:00:00Z';
      args.push('--now', now);
      const { code, stdout } = await runCli(args);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const report = JSON.parse(lines[0]!);
      const e = sample.expect;
      if (!sample.crc_ok || !sample.len_ok) {
        expect(code).toBe(1);
        expect(report.ok).toBe(false);
        expect(report.error.code).toMatch(/crc|length/);
        expect(report.reply.kind).toBe('NAK');
        return;
      }
      expect(code).toBe(0);
      expect(report.ok).toBe(true);
      expect(report.token).toBe(String(e.id).replace('*', ''));
      expect(report.encrypted).toBe(String(e.id).startsWith('*'));
      expect(report.sequence).toBe(e.seq);
      expect(report.receiver).toBe(e.receiver ?? null);
      if ('line' in e) expect(report.line).toBe(e.line);
      if ('account' in e) expect(report.account).toBe(e.account);
      if ('data_account' in e) expect(report.dataAccount).toBe(e.data_account);
      if ('data' in e) expect(report.data).toBe(e.data);
      if ('timestamp' in e) expect(report.timestamp).toBe(e.timestamp ? isoOf(e.timestamp) : null);
      if (e.sia) {
        expect(report.events.length).toBe(e.sia.length);
        e.sia.forEach((ev: any, j: number) => {
          const got = report.events[j];
          expect(got.protocol).toBe('sia');
          expect(got.code).toBe(ev.code);
          expect(got.address).toBe(ev.addr);
          expect(got.area).toBe(ev.area ?? ev.pi ?? null);
          if ('text' in ev) expect(got.text).toBe(ev.text);
          if ('ascii' in ev) expect(got.text).toBe(ev.ascii);
          expect(typeof got.category).toBe('string');
          expect(got.description.length).toBeGreaterThan(0);
        });
      }
      if (e.cid) {
        expect(report.events).toHaveLength(1);
        expect(report.events[0]).toMatchObject({
          protocol: 'cid',
          qualifier: e.cid.q,
          code: e.cid.event,
          group: e.cid.group,
          zone: e.cid.zone,
        });
      }
      const isReply = ['ACK', 'NAK', 'DUH'].includes(String(e.id));
      expect(report.reply.kind).toBe(isReply ? 'none' : 'ACK');
      if (!isReply) expect(report.reply.frame).toContain(String(e.id).startsWith('*') ? '"*ACK"' : '"ACK"');
    });
  }
});

describe('decode input conventions', () => {
  it('reads one frame per stdin line when no argument is given', async () => {
    const { code, stdout } = await runCli(
      ['decode'],
      ['"NULL"0000L0#1409[]_20:38:07,08-27-2026', '', 'EA740027"NULL"0000L0#1409[]_20:38:07,08-27-2026'],
    );
    expect(code).toBe(1);
    const reports = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(reports).toHaveLength(2);
    expect(reports[0].ok).toBe(false); // no CRC/length field at all
    expect(reports[1].ok).toBe(true);
  });

  it('NAKs a stale encrypted frame with the receiver time from --now', async () => {
    const frame =
      '\\n05BB0076"*SIA-DCS"7654L0#1111[C07DA1EB73C617857476EE5D79436CEE5E0084485E79EC56B0D5D1F3F6E648B278050BBCCBC8FE5DCA7E3C80DBDD4945\\r';
    const { stdout } = await runCli(['decode', frame, '--key-ascii', 'AAAAAAAAAAAAAAAA', '--now', '2026-11-26T10:00:00Z']);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.reply.kind).toBe('NAK');
    expect(report.reply.frame).toContain('"NAK"0000R0L0A0[]_10:00:00,11-26-2026');
  });

  it('reports a wrong key as a decryption error', async () => {
    const frame =
      '\\n05BB0076"*SIA-DCS"7654L0#1111[C07DA1EB73C617857476EE5D79436CEE5E0084485E79EC56B0D5D1F3F6E648B278050BBCCBC8FE5DCA7E3C80DBDD4945\\r';
    const { code, stdout } = await runCli(['decode', frame, '--key', '00'.repeat(16)]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error.code).toBe('decryption');
  });

  it('rejects an invalid key option with a usable message', async () => {
    const { code, stderr } = await runCli(['decode', 'x', '--key', 'abc']);
    expect(code).toBe(2);
    expect(stderr).toContain('--key');
  });

  it('names known extended-data blocks and keeps unknown ones raw (docs/dc09.md §9)', async () => {
    const frame = '"SIA-DCS"0001L0#1234[#1234|NBA1][M0026B9E4268B][Qraw]';
    const body = Buffer.from(frame, 'latin1');
    const { crc16arc } = await import('../../src/protocols/dc09/crc.js');
    const full = `\\n${crc16arc(body).toString(16).toUpperCase().padStart(4, '0')}0${body.length.toString(16).toUpperCase().padStart(3, '0')}${frame}\\r`;
    const { stdout } = await runCli(['decode', full]);
    expect(JSON.parse(stdout).xdata).toEqual([
      { id: 'M', value: '0026B9E4268B', name: 'MAC address' },
      { id: 'Q', value: 'raw', name: null },
    ]);
  });

  it('escapes round-trip', () => {
    const bytes = Buffer.from([0x0a, 0x41, 0x5c, 0x00, 0xff, 0x0d]);
    expect(escapeFrame(bytes)).toBe('\\nA\\\\\\x00\\xff\\r');
    expect(unescapeFrame(escapeFrame(bytes)).equals(bytes)).toBe(true);
  });
});

describe('decode shows the field dialects', () => {
  /** A frame with CRC and length computed over the body. */
  const frame = (body: string) => {
    const bytes = Buffer.from(body, 'latin1');
    const head = `${crc16arc(bytes).toString(16).toUpperCase().padStart(4, '0')}0${bytes.length.toString(16).toUpperCase().padStart(3, '0')}`;
    return Buffer.from(`\n${head}${body}\r`, 'latin1');
  };
  const now = new Date('2026-01-01T00:00:00Z');

  it('data account without "#": dataAccount', () => {
    expect(decodeFrame(frame('"SIA-DCS"0001L0#78919[1234|NFA129]'), null, now)).toMatchObject({
      ok: true,
      account: '78919',
      dataAccount: '1234',
      events: [{ code: 'FA' }],
    });
  });

  it('whole DC-05 string in ADM-CID: the checksum flag on the event', () => {
    const good = decodeFrame(frame('"ADM-CID"0002L0#1234[#1234|1234181131010158]'), null, now);
    const bad = decodeFrame(frame('"ADM-CID"0003L0#1234[#1234|1234181131010159]'), null, now);
    expect(good).toMatchObject({ ok: true, events: [{ code: '131', zone: '015', checksumOk: true }], reply: { kind: 'ACK' } });
    expect(bad).toMatchObject({ ok: true, events: [{ code: '131', zone: '015', checksumOk: false }], reply: { kind: 'ACK' } });
  });

  it('caret text after the area modifier: areaText', () => {
    expect(decodeFrame(frame('"SIA-DCS"0004L0#1234[#1234|Nri01^AREA NAME^/LX901^text^]'), null, now)).toMatchObject({
      ok: true,
      events: [{ code: 'LX', area: '01', address: '901', text: 'text', areaText: 'AREA NAME' }],
    });
  });
});

describe('decode --format galaxy|lupusec-cid', () => {
  it('reports each Galaxy block of an input with the reply block; a bad parity gets the reject block', async () => {
    const { code, stdout } = await runCli([
      'decode',
      '--format',
      'galaxy',
      '\\x05\\x01F#100200\\x99NNti09:58/BA1011\\xf1',
      'F#100200\\x98',
    ]);
    expect(code).toBe(1);
    const [account, event, bad] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(account).toMatchObject({
      ok: true,
      format: 'galaxy',
      kind: 'account',
      account: '100200',
      reply: { kind: 'ACK', frame: '@8\\x87' },
    });
    expect(event).toMatchObject({
      ok: true,
      kind: 'event',
      data: 'Nti09:58/BA1011',
      events: [{ protocol: 'sia', code: 'BA', address: '1011' }],
    });
    expect(bad).toMatchObject({ ok: false, kind: 'bad-block', reply: { kind: 'NAK', frame: '@9\\x86' }, error: { code: 'parity' } });
  });

  it('reports a Lupusec message with its check-digit flag, and NAK for an unparseable one', async () => {
    const { code, stdout } = await runCli(['decode', '--format', 'lupusec-cid', '[test 18160201010B]', '[test 18XX]']);
    expect(code).toBe(1);
    const [good, bad] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(good).toMatchObject({
      ok: true,
      format: 'lupusec-cid',
      account: 'test',
      events: [{ code: '602', checksumOk: false }],
      reply: { kind: 'ACK', frame: '\\x06' },
    });
    expect(bad).toMatchObject({ ok: false, reply: { kind: 'NAK', frame: '\\x15' }, error: { code: 'unparseable' } });
  });
});
