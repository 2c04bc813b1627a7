import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { buildAck, buildRequest, type RequestFrame } from '../../../src/protocols/dc09/index.js';
import { escapeFrame } from '../../../src/protocols/escape.js';
import {
  buildSurgardCid,
  buildSurgardHeartbeat,
  buildSurgardSia,
  SURGARD_ACK,
  SURGARD_NAK,
  withTerminator,
} from '../../../src/protocols/surgard/index.js';
import { accountDirectory } from '../../../src/server/pipeline/policy.js';
import { receiveDc09, receiveSurgard, type Receipt } from '../../../src/server/pipeline/receive.js';

const key = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
const config = parseConfig(
  {
    accounts: {
      '1234': { locationId: 'LOC', cameraId: 'cam' },
      SECURE: { key: key.toString('hex'), keyEncoding: 'hex', locationId: 'LOC2', cameraId: 'cam2' },
    },
  },
  'receive-test.json',
);
const directory = accountDirectory(config);
const now = new Date('2026-11-26T12:00:00Z');
const tcp: Receipt = { peer: '127.0.0.1:5000', transport: 'tcp' };

const request = (overrides: Partial<RequestFrame>) =>
  buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '0', account: '1234', data: '#1234|Nri1/BA15', timestamp: now, ...overrides });
const withBadCrc = (frame: Buffer) => {
  const copy = Buffer.from(frame);
  copy[1] = copy[1] === 0x30 ? 0x31 : 0x30;
  return copy;
};

interface Dc09Case {
  name: string;
  frame: Buffer;
  receipt?: Receipt;
  decision: { kind: string; reason: string; skewFlagged?: boolean };
  /** Expected source fields; null: no source. */
  source: Record<string, unknown> | null;
  dataError?: RegExp;
}

const dc09Cases: Dc09Case[] = [
  {
    name: 'a clear SIA frame of a configured account: ACK, its events in the source',
    frame: request({ data: '#1234|Nri1/BA15/RP0' }),
    decision: { kind: 'ACK', reason: 'accepted', skewFlagged: false },
    source: {
      protocol: 'dc09',
      account: '1234',
      token: 'SIA-DCS',
      data: '#1234|Nri1/BA15/RP0',
      encrypted: false,
      peer: '127.0.0.1:5000',
      transport: 'tcp',
      receivedAt: now,
      timestamp: now,
      timestampTrusted: true,
      events: [{ code: 'BA' }, { code: 'RP' }],
    },
  },
  {
    name: 'a Contact ID frame: ACK, Contact ID events',
    frame: request({ token: 'ADM-CID', data: '#1234|1130 01 015' }),
    decision: { kind: 'ACK', reason: 'accepted' },
    source: { token: 'ADM-CID', events: [{ protocol: 'cid', code: '130', zone: '015' }] },
  },
  {
    name: 'an encrypted frame with the account key: ACK, encrypted source',
    frame: request({ account: 'SECURE', data: '#SECURE|Nri1/CL3', key }),
    decision: { kind: 'ACK', reason: 'accepted' },
    source: { account: 'SECURE', encrypted: true, events: [{ code: 'CL' }] },
  },
  {
    name: 'a link test (NULL): ACK, nothing to map',
    frame: request({ token: 'NULL', data: '' }),
    decision: { kind: 'ACK', reason: 'accepted' },
    source: null,
  },
  {
    name: 'a data block that does not decode: ACK, the data error and a source without events (kept as a dead letter)',
    frame: request({ data: '#1234|BA1^open' }),
    decision: { kind: 'ACK', reason: 'accepted' },
    source: { data: '#1234|BA1^open', events: [] },
    dataError: /never closed/,
  },
  {
    name: 'a clear frame with a skewed timestamp: ACK, flagged, its timestamp not trusted',
    frame: request({ timestamp: new Date(now.getTime() - 3600_000) }),
    decision: { kind: 'ACK', reason: 'accepted', skewFlagged: true },
    source: { timestampTrusted: false },
  },
  {
    name: 'an account not in the config: NAK, yet a source (map shows what to add)',
    frame: request({ account: '9999', data: '#9999|NBA1' }),
    decision: { kind: 'NAK', reason: 'unknown-account' },
    source: { account: '9999', events: [{ code: 'BA' }] },
  },
  {
    name: 'clear text for an account with a key: NAK',
    frame: request({ account: 'SECURE', data: '#SECURE|NBA1' }),
    decision: { kind: 'NAK', reason: 'clear-text-for-encrypted-account' },
    source: { account: 'SECURE' },
  },
  {
    name: 'a bad CRC: NAK, no source',
    frame: withBadCrc(request({})),
    decision: { kind: 'NAK', reason: 'bad-crc' },
    source: null,
  },
  {
    name: "another receiver's ACK: no answer, nothing to map",
    frame: buildAck({ sequence: '0001', line: '0', account: '1234' }),
    decision: { kind: 'none', reason: 'reply-frame' },
    source: null,
  },
  {
    name: 'a frame given on the command line: no peer, no transport',
    frame: request({}),
    receipt: { peer: null, transport: null },
    decision: { kind: 'ACK', reason: 'accepted' },
    source: { peer: null, transport: null },
  },
  {
    name: 'a stored frame: its kept raw text and account win',
    frame: request({}),
    receipt: { peer: '10.0.0.1:1', transport: 'udp', raw: 'KEPT', account: 'STORED' },
    decision: { kind: 'ACK', reason: 'accepted' },
    source: { raw: 'KEPT', account: 'STORED', peer: '10.0.0.1:1', transport: 'udp' },
  },
];

describe('receiveDc09', () => {
  it.each(dc09Cases)('$name', ({ frame, receipt, decision, source, dataError }) => {
    const got = receiveDc09(frame, directory, now, receipt ?? tcp);
    expect(got.decision).toMatchObject(decision);
    expect(got.result.ok).toBe(decision.reason !== 'bad-crc');
    if (source === null) expect(got.source).toBeNull();
    else expect(got.source).toMatchObject(source);
    if (dataError) expect(got.dataError).toMatch(dataError);
    else expect(got.dataError).toBeNull();
  });

  it('keeps the frame as received, escaped, when no raw text is given', () => {
    const frame = request({});
    expect(receiveDc09(frame, directory, now, tcp).source?.raw).toBe(escapeFrame(frame));
  });

  it('never throws on arbitrary bytes, framed or not', () => {
    const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));
    // Well-framed requests (valid CRC and length) with arbitrary data, so the data decoders see it too.
    const framed = fc
      .tuple(fc.constantFrom('SIA-DCS', 'ADM-CID', 'NULL', 'XYZ'), fc.string({ maxLength: 200 }))
      .map(([token, data]) => request({ token, data }));
    fc.assert(
      fc.property(
        fc.oneof(
          bytes,
          framed,
          bytes.map((b) => Buffer.concat([Buffer.from([0x0a]), b])),
        ),
        (frame) => {
          const got = receiveDc09(frame, directory, now, tcp);
          // A source exists only for a frame that parsed; an ACK or DUH only for one that did too.
          if (!got.result.ok) {
            expect(got.source).toBeNull();
            expect(['NAK', 'none']).toContain(got.decision.kind);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

interface SurgardCase {
  name: string;
  record: Buffer;
  decision: { kind: string; reason: string; frame: Buffer };
  source: Record<string, unknown> | null;
}

const surgardCases: SurgardCase[] = [
  {
    name: 'a heartbeat: ACK, nothing to map',
    record: withTerminator(buildSurgardHeartbeat()),
    decision: { kind: 'ACK', reason: 'heartbeat', frame: SURGARD_ACK },
    source: null,
  },
  {
    name: 'a Contact ID record: ACK (once accepted), mapped like ADM-CID, timed by the given clock',
    record: withTerminator(
      buildSurgardCid({ receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '130', group: '01', zone: '004' }),
    ),
    decision: { kind: 'ACK', reason: 'accepted', frame: SURGARD_ACK },
    source: {
      protocol: 'surgard',
      token: 'ADM-CID',
      account: '1234',
      receiver: '01',
      line: '1',
      receivedAt: now,
      peer: '127.0.0.1:6000',
      transport: 'tcp',
      timestamp: null,
      events: [{ protocol: 'cid', code: '130', zone: '004' }],
    },
  },
  {
    name: 'a SIA record: ACK (once accepted), mapped like SIA-DCS',
    record: withTerminator(buildSurgardSia({ receiver: '02', line: '3', data: '#abcd|NBA15' }), 'cr'),
    decision: { kind: 'ACK', reason: 'accepted', frame: SURGARD_ACK },
    source: { token: 'SIA-DCS', account: 'ABCD', receiver: '02', line: '3', events: [{ code: 'BA' }] },
  },
  {
    name: 'no Sur-Gard record type: NAK',
    record: Buffer.from('garbage\x14', 'latin1'),
    decision: { kind: 'NAK', reason: 'surgard-unrecognised', frame: SURGARD_NAK },
    source: null,
  },
];

describe('receiveSurgard', () => {
  it.each(surgardCases)('$name', ({ record, decision, source }) => {
    const got = receiveSurgard(record, now, { peer: '127.0.0.1:6000' });
    expect(got.decision).toEqual(decision);
    expect(got.parsed.ok).toBe(decision.kind === 'ACK');
    if (source === null) expect(got.source).toBeNull();
    else expect(got.source).toMatchObject({ ...source, raw: escapeFrame(record) });
  });

  it('keeps the raw text it is given (a stored record)', () => {
    const record = withTerminator(
      buildSurgardCid({ receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '130', group: '01', zone: '004' }),
    );
    expect(receiveSurgard(record, now, { peer: '', raw: 'KEPT' }).source?.raw).toBe('KEPT');
  });

  it('never throws on arbitrary bytes; a NAK carries no source', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const got = receiveSurgard(Buffer.from(bytes), now, { peer: 'p' });
        if (got.decision.kind === 'NAK') expect(got.source).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });
});
