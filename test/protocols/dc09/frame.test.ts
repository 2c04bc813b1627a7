import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFrameCrc } from '../../../src/protocols/dc09/crc.js';
import {
  buildAck,
  buildDuh,
  buildEncryptedAck,
  buildNak,
  buildRequest,
  crc16arc,
  Dc09Framer,
  formatTimestamp,
  frameBody,
  occurrenceTime,
  parseFrame,
  parseKey,
  parseTimestamp,
  type Dc09Message,
  type PadSource,
  type RequestFrame,
} from '../../../src/protocols/dc09/index.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const fixedPad =
  (char: string): PadSource =>
  (n) =>
    char.repeat(n);

describe('CRC-16/ARC (docs/dc09.md §3)', () => {
  it('has the catalogue check value', () => {
    expect(crc16arc(latin1('123456789'))).toBe(0xbb3d);
  });
  it('matches the Pyronix worked example (docs/dc09.md §2)', () => {
    expect(crc16arc(latin1('"NULL"0000L0#1409[]_20:38:07,08-27-2026'))).toBe(0xea74);
  });
  it('checks a declared CRC over the body, or over the body and its CR (Eldes)', () => {
    const body = latin1('"NULL"0000L0#1409[]\r');
    const end = body.length - 1;
    const plain = crc16arc(body, 0, end);
    const withCr = crc16arc(body);
    expect(checkFrameCrc(body, 0, end, plain)).toEqual({ ok: true, includesCr: false, computed: plain });
    expect(checkFrameCrc(body, 0, end, withCr)).toEqual({ ok: true, includesCr: true, computed: plain });
    expect(checkFrameCrc(body, 0, end, plain ^ 1)).toEqual({ ok: false, includesCr: false, computed: plain });
  });
  it('ends a frame at a CR ahead of its declared length, with more bytes behind, only when the CRC checks out', () => {
    // The length field says 0x40, the frame ends early and more bytes follow (no pause): only the CRC can tell.
    const body = '"NULL"0000L0#1409[]';
    const good = latin1(`\n${crc16arc(latin1(body)).toString(16).toUpperCase().padStart(4, '0')}0040${body}\r`);
    const more = latin1('"more');
    expect(new Dc09Framer().push(Buffer.concat([good, more])).frames).toEqual([good]);
    for (const digit of ['G', '0']) {
      const bad = Buffer.from(good);
      bad.write(digit, 4, 'latin1'); // not hex, or another CRC
      expect(new Dc09Framer().push(Buffer.concat([bad, more])).frames).toEqual([]);
    }
  });
  it('ends a frame early on every CRC form the parser accepts: lower-case hex, CR included (Eldes), binary', () => {
    const body = '"NULL"0000L0#1409[]';
    const more = latin1('"more');
    const hex = (crc: number) => crc.toString(16).padStart(4, '0');
    const cases: [string, Buffer][] = [
      ['lower-case hex', latin1(`\n${hex(crc16arc(latin1(body)))}0040${body}\r`)],
      ['CR included', latin1(`\n${hex(crc16arc(latin1(`${body}\r`))).toUpperCase()}0040${body}\r`)],
      [
        'binary',
        Buffer.concat([latin1('\n'), Buffer.from([crc16arc(latin1(body)) >> 8, crc16arc(latin1(body)) & 0xff]), latin1(`0040${body}\r`)]),
      ],
    ];
    for (const [name, frame] of cases) {
      const parsed = parseFrame(frame); // the declared length is wrong on purpose; the CRC is right
      expect(parsed.ok ? 'ok' : parsed.error.code, name).not.toBe('crc');
      expect(new Dc09Framer().push(Buffer.concat([frame, more])).frames, name).toEqual([frame]);
    }
  });
  it('does not end a frame early when the CRC field is not 4 hex digits (a space-padded CRC waits for the length)', () => {
    const body = '"NULL"0000L0#1409[]';
    const crc = crc16arc(latin1(body)).toString(16).toUpperCase().padStart(4, '0');
    const padded = latin1(`\n ${crc.slice(1)}0040${body}\r`);
    expect(new Dc09Framer().push(Buffer.concat([padded, latin1('"more')])).frames).toEqual([]);
  });
});

describe('timestamps (docs/dc09.md §10)', () => {
  it('formats UTC fields, month before day', () => {
    expect(formatTimestamp(new Date('2019-06-07T15:39:35Z'))).toBe('_15:39:35,06-07-2019');
  });
  it('rejects impossible dates and bad shapes', () => {
    expect(parseTimestamp('_12:00:00,02-31-2024')).toBeNull();
    expect(parseTimestamp('_24:00:00,01-01-2024')).toBeNull();
    expect(parseTimestamp('_12:00:00/01-01-2024')).toBeNull();
    expect(parseTimestamp('_12:00:00,01-01-2024')?.toISOString()).toBe('2024-01-01T12:00:00.000Z');
  });
});

/** Round-trip table (name, object, bytes) in the style of mqtt-packet: every frame kind. */
const table: { name: string; build: () => Buffer; bytes: string; expect: Partial<Dc09Message> }[] = [
  {
    name: 'NULL with timestamp (Pyronix, docs/dc09.md §2 worked example)',
    build: () =>
      buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: '1409', data: '', timestamp: new Date('2026-08-27T20:38:07Z') }),
    bytes: '\nEA740027"NULL"0000L0#1409[]_20:38:07,08-27-2026\r',
    expect: { token: 'NULL', sequence: '0000', line: '0', account: '1409', data: '', receiver: null },
  },
  {
    name: 'SIA-DCS with receiver, line and A text',
    build: () => buildRequest({ token: 'SIA-DCS', sequence: '0001', receiver: 'F3', line: '77', account: '1234', data: '#1234|NRR|Atest' }),
    bytes: '\nF4D20029"SIA-DCS"0001RF3L77#1234[#1234|NRR|Atest]\r',
    expect: { token: 'SIA-DCS', receiver: 'F3', line: '77', dataAccount: '1234', timestamp: null },
  },
  {
    name: 'ADM-CID with binary CRC (Trikdis, docs/dc09.md §3)',
    build: () =>
      buildRequest({
        token: 'ADM-CID',
        sequence: '0002',
        receiver: '1',
        line: '1',
        account: '9413',
        data: '#9413|1602 99 999',
        timestamp: new Date('2023-08-30T23:05:30Z'),
        crcForm: 'binary',
      }),
    bytes: '\n0n003D"ADM-CID"0002R1L1#9413[#9413|1602 99 999]_23:05:30,08-30-2023\r',
    expect: { token: 'ADM-CID', crc: { value: 0x306e, ok: true, form: 'binary', includesCr: false } },
  },
  {
    name: 'ADM-CID with CRC and length over the CR (Eldes, docs/dc09.md §3)',
    build: () =>
      buildRequest({ token: 'ADM-CID', sequence: '0056', line: '9999', account: '9999', data: '#9999|1900 00 001', crcIncludesCr: true }),
    bytes: '\nF19A002B"ADM-CID"0056L9999#9999[#9999|1900 00 001]\r',
    expect: { line: '9999', crc: { value: 0xf19a, ok: true, form: 'ascii', includesCr: true }, length: 0x2b },
  },
  {
    name: 'bare L and no header account (docs/dc09.md §7)',
    build: () => buildRequest({ token: 'SIA-DCS', sequence: '0001', line: '', data: '#9999|NBA2' }),
    bytes: '\n9F0D001A"SIA-DCS"0001L[#9999|NBA2]\r',
    expect: { line: '', account: null, dataAccount: '9999' },
  },
  {
    name: 'clear ACK (docs/dc09.md §11, NiftyDC09 → Pyronix)',
    build: () => buildAck({ sequence: '0000', line: '0', account: '1409' }),
    bytes: '\n59890012"ACK"0000L0#1409[]\r',
    expect: { token: 'ACK', receiver: null },
  },
  {
    name: 'NAK with receiver time (docs/dc09.md §11)',
    build: () => buildNak(new Date('2019-05-07T15:39:35Z')),
    bytes: '\n3C3B0025"NAK"0000R0L0A0[]_15:39:35,05-07-2019\r',
    expect: { token: 'NAK', receiver: '0', line: '0', account: null },
  },
  {
    name: 'DUH echoes the address',
    build: () => buildDuh({ sequence: '0042', receiver: '1', line: '2', account: 'ABC' }),
    bytes: '', // computed, checked by parse below
    expect: { token: 'DUH', sequence: '0042', receiver: '1', line: '2', account: 'ABC' },
  },
  {
    name: 'extended data blocks (docs/dc09.md §9)',
    build: () =>
      buildRequest({
        token: 'SIA-DCS',
        sequence: '0003',
        line: '0',
        account: '55',
        data: '#55|NBA1',
        xdata: [
          { id: 'M', value: '0026B9E4268B' },
          { id: 'Q', value: 'raw' },
        ],
      }),
    bytes: '',
    expect: {
      xdata: [
        { id: 'M', value: '0026B9E4268B' },
        { id: 'Q', value: 'raw' },
      ],
    },
  },
];

describe('frame round-trip table', () => {
  for (const row of table) {
    it(row.name, () => {
      const built = row.build();
      if (row.bytes) expect(built.toString('latin1')).toBe(row.bytes);
      const parsed = parseFrame(built);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.message).toMatchObject(row.expect);
    });
  }
});

describe('encryption (docs/dc09.md §12)', () => {
  const key = Buffer.from('3A1F6B8C9D4E7F20123456789ABCDEF0', 'hex');

  it('reproduces the synthetic encrypted ACK (CRC 89A9)', () => {
    const ack = buildEncryptedAck(
      { sequence: '0002', receiver: '1', line: '1', account: '1234' },
      key,
      new Date('2024-01-01T12:00:01Z'),
      {},
      () => '}m@0cGmzh)',
    );
    expect(ack.subarray(1, 5).toString('latin1')).toBe('89A9');
    const parsed = parseFrame(ack, { keysFor: () => [key] });
    expect(parsed.ok && parsed.message).toMatchObject({ token: 'ACK', encrypted: true, pad: '}m@0cGmzh)', data: '' });
  });

  it('decrypts the Hikvision *NULL with an ASCII key (pad without |)', () => {
    const frame = latin1('\n76D80055"*NULL"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9\r');
    const ascii = parseKey('AAAAAAAAAAAAAAAA', 'ascii');
    expect(ascii.ok).toBe(true);
    const parsed = parseFrame(frame, { keysFor: () => (ascii.ok ? [ascii.key] : null) });
    expect(parsed.ok && parsed.message).toMatchObject({ pad: 'ppppppppppp', data: '', token: 'NULL' });
  });

  it('reports a wrong key as a typed error, not garbage', () => {
    const frame = buildRequest({
      token: 'SIA-DCS',
      sequence: '0001',
      line: '0',
      account: '1234',
      data: '#1234|NBA1',
      key,
      timestamp: new Date(),
    });
    const wrong = Buffer.alloc(16, 7);
    const parsed = parseFrame(frame, { keysFor: () => [wrong] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe('decryption');
  });

  it('reports a missing key', () => {
    const frame = buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: '77', data: '', key, timestamp: new Date() });
    const parsed = parseFrame(frame);
    expect(!parsed.ok && parsed.error.code).toBe('no-key');
  });

  it('tries several candidate keys and reports the one that worked', () => {
    const frame = buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: '77', data: '', key, timestamp: new Date() });
    const parsed = parseFrame(frame, { keysFor: () => [Buffer.alloc(32, 1), key] });
    expect(parsed.ok && parsed.key).toEqual(key);
  });

  it('finds data and trailer when a random pad contains "]" or "|" (Ajax binary pads)', () => {
    // Pads whose `|` is followed by text that also looks like data: `BA…`, `NBA…`, a Contact ID-like run of hex.
    for (const pad of ['ab]cdefghij', 'ab|cdefghij', '|]|]|]', ']', '|', '\x01|BA\x02\x03\x04\x05\x06\x07\t', '|NBA1\x02', '|113001015']) {
      const rest = '|#1234|Nri1/BA01]_12:00:00,01-01-2024';
      const padded = pad.padEnd(pad.length + ((16 - ((pad.length + rest.length) % 16)) % 16), 'x');
      const frame = buildRequest({
        token: 'SIA-DCS',
        sequence: '0001',
        line: '0',
        account: '1234',
        data: '#1234|Nri1/BA01',
        key,
        timestamp: new Date('2024-01-01T12:00:00Z'),
        padSource: () => padded,
      });
      const parsed = parseFrame(frame, { keysFor: () => [key] });
      expect(parsed.ok && parsed.message.data, pad).toBe('#1234|Nri1/BA01');
    }
  });

  it('prefers, without an account wrapper, the "|" after which the data has no control characters', () => {
    const rest = '|Nri1/BA001]_12:00:00,01-01-2024';
    const padded = '\x01|BA\x02\x03\x04\x05\x06'.padEnd(16, '\x05');
    expect((padded.length + rest.length) % 16).toBe(0);
    const frame = buildRequest({
      token: 'SIA-DCS',
      sequence: '0001',
      line: '0',
      account: '1234',
      data: 'Nri1/BA001',
      key,
      timestamp: new Date('2024-01-01T12:00:00Z'),
      padSource: () => padded,
    });
    const parsed = parseFrame(frame, { keysFor: () => [key] });
    expect(parsed.ok && parsed.message).toMatchObject({ data: 'Nri1/BA001', pad: padded });
  });

  it('accepts lower-case cipher text and CRC hex', () => {
    const frame = buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: '77', data: '', key, timestamp: new Date() });
    const text = frame.toString('latin1');
    const hexStart = text.indexOf('[') + 1;
    const lowered = text.slice(0, hexStart) + text.slice(hexStart, -1).toLowerCase() + '\r';
    const body = lowered.slice(9, -1);
    const reframed = `\n${crc16arc(latin1(body)).toString(16).toLowerCase().padStart(4, '0')}${lowered.slice(5)}`;
    const parsed = parseFrame(latin1(reframed), { keysFor: () => [key] });
    expect(parsed.ok).toBe(true);
  });

  it('rejects keys of the wrong size or encoding', () => {
    expect(parseKey('00', 'hex').ok).toBe(false);
    expect(parseKey('zz'.repeat(16), 'hex').ok).toBe(false);
    expect(parseKey('short', 'ascii').ok).toBe(false);
    expect(parseKey('0'.repeat(64), 'hex').ok).toBe(true);
  });
});

describe('error codes', () => {
  const good = '"SIA-DCS"0001L0#1234[#1234|NBA1]';
  const cases: [string, Buffer, string][] = [
    ['missing LF', latin1(`0000${good}\r`), 'framing'],
    ['bad CRC', latin1(`\n0000${'0'}${good.length.toString(16).padStart(3, '0').toUpperCase()}${good}\r`), 'crc'],
    [
      'bad length',
      (() => {
        const f = frameBody(good);
        f.write('0FFF', 5, 'latin1');
        return f;
      })(),
      'length',
    ],
    ['bad sequence', frameBody('"SIA-DCS"01L0#1234[#1234|NBA1]'), 'header'],
    ['account too long', frameBody('"SIA-DCS"0001L0#12345678901234567[]'), 'account'],
    ['no data block', frameBody('"SIA-DCS"0001L0#1234'), 'header'],
    ['unclosed data block', frameBody('"SIA-DCS"0001L0#1234[#1234|NBA1'), 'data'],
    ['junk after data', frameBody('"SIA-DCS"0001L0#1234[]junk'), 'data'],
    ['malformed timestamp', frameBody('"SIA-DCS"0001L0#1234[]_25:00:00,01-01-2024'), 'timestamp'],
    ['odd cipher text', frameBody('"*SIA-DCS"0001L0#1234[ABC'), 'decryption'],
  ];
  for (const [name, bytes, code] of cases) {
    it(name, () => {
      const parsed = parseFrame(bytes);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error.code).toBe(code);
    });
  }

  it('tolerates a NUL after the CR (docs/dc09.md §1)', () => {
    expect(parseFrame(Buffer.concat([frameBody(good), Buffer.from([0])])).ok).toBe(true);
  });

  it('reads the H block as the time of occurrence', () => {
    expect(occurrenceTime([{ id: 'H', value: '_10:11:12,03-04-2025' }])?.toISOString()).toBe('2025-03-04T10:11:12.000Z');
  });
});

// --- properties -------------------------------------------------------------------------------------------

const hex = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9A-F]{${min},${max}}$`));
const account = fc.stringMatching(/^[0-9A-Za-z]{1,16}$/);
const seconds = fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }).map((s) => new Date(s * 1000));
const dataTail = fc.string({ unit: fc.constantFrom(...'#|ABCNOPRTZabcdefgir0123456789/^ -:'.split('')), maxLength: 60 });
/** Data blocks as panels send them: empty, or starting with an account wrapper (what the pad heuristic keys on). */
const dataText = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.stringMatching(/^[0-9A-Z]{1,6}$/), dataTail).map(([acct, tail]) => `#${acct}|N${tail}`),
);
const xdata = fc.array(
  fc.record({
    id: fc.constantFrom(...'XYZHVMPILRSOACJNTK'.split('')),
    value: fc.string({ unit: fc.constantFrom(...'ab01.:_ -'.split('')), maxLength: 20 }),
  }),
  { maxLength: 3 },
);
const keyBytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 24, maxLength: 24 }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);

const requestArb = fc.record({
  token: fc.constantFrom('SIA-DCS', 'ADM-CID', 'NULL'),
  sequence: fc.stringMatching(/^\d{4}$/),
  receiver: fc.option(hex(1, 6), { nil: null }),
  line: fc.option(fc.oneof(fc.constant(''), hex(1, 6)), { nil: null }),
  account: fc.option(account, { nil: null }),
  data: dataText,
  xdata,
  timestamp: fc.option(seconds, { nil: null }),
  crcForm: fc.constantFrom('ascii' as const, 'binary' as const),
  crcIncludesCr: fc.boolean(),
});

describe('properties', () => {
  it('parse(build(m)) equals m for clear frames', () => {
    fc.assert(
      fc.property(requestArb, (m) => {
        const parsed = parseFrame(buildRequest(m));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const { token, sequence, receiver, line, account: acct, data, xdata: x, timestamp } = parsed.message;
        expect({ token, sequence, receiver, line, account: acct, data, xdata: x, timestamp }).toEqual({
          token: m.token,
          sequence: m.sequence,
          receiver: m.receiver,
          line: m.line,
          account: m.account,
          data: m.data,
          xdata: m.xdata,
          timestamp: m.timestamp,
        });
        expect(parsed.message.crc).toMatchObject({ ok: true, form: m.crcForm, includesCr: m.crcIncludesCr });
      }),
      { numRuns: 300 },
    );
  });

  it('parse(build(m)) equals m for encrypted frames, every key size', () => {
    fc.assert(
      fc.property(requestArb, keyBytes, (m, key) => {
        const frame: RequestFrame = { ...m, account: m.account ?? 'A1', timestamp: m.timestamp ?? new Date(0), key };
        const parsed = parseFrame(buildRequest(frame), { keysFor: () => [key] });
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(parsed.message).toMatchObject({
          encrypted: true,
          token: m.token,
          data: m.data,
          xdata: m.xdata,
          timestamp: frame.timestamp,
          account: frame.account,
        });
        expect(parsed.message.pad).not.toMatch(/[|[\]]/);
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        parseFrame(bytes, { keysFor: () => [Buffer.alloc(16)] });
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes between a valid header and CR never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, encrypted) => {
        const body = Buffer.concat([latin1(encrypted ? '"*SIA-DCS"0001L0#1[' : '"SIA-DCS"0001L0#1['), bytes]);
        parseFrame(frameBody(body.toString('latin1')), { keysFor: () => [Buffer.alloc(16)] });
      }),
      { numRuns: 1000 },
    );
  });

  it('the framer yields the same frames for every chunking of a stream', () => {
    const frameArb = requestArb.map((m) => buildRequest(m));
    const junkArb = fc.oneof(
      fc.constant(Buffer.alloc(0)),
      fc.constant(latin1('\0')),
      fc.constant(latin1('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(junkArb, frameArb), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }),
        (parts, cuts) => {
          const frames = parts.map(([, f]) => f);
          const stream = Buffer.concat(parts.flatMap(([junk, f]) => [junk, f]));
          const framer = new Dc09Framer();
          const out: Buffer[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const size = cuts[i++ % cuts.length]!;
            out.push(...framer.push(stream.subarray(at, at + size)).frames);
            at += size;
          }
          expect(out.map((f) => f.toString('latin1'))).toEqual(frames.map((f) => f.toString('latin1')));
          expect(framer.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('framer', () => {
  const a = buildRequest({
    token: 'NULL',
    sequence: '0000',
    line: '0',
    account: 'CCC',
    data: '',
    timestamp: new Date('2026-03-10T02:48:01Z'),
  });
  const b = buildRequest({ token: 'NULL', sequence: '0000', line: '0', account: 'CCC', data: '' });

  it('splits two frames from one segment (Ajax, docs/dc09.md §1)', () => {
    const out = new Dc09Framer().push(Buffer.concat([a, b]));
    expect(out.frames.map((f) => f.toString('latin1'))).toEqual([a.toString('latin1'), b.toString('latin1')]);
  });

  it('reassembles a frame delivered byte by byte', () => {
    const framer = new Dc09Framer();
    const frames: Buffer[] = [];
    for (const byte of a) frames.push(...framer.push(Buffer.from([byte])).frames);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(a)).toBe(true);
  });

  it('caps the buffer when no CR ever comes', () => {
    const framer = new Dc09Framer({ maxFrameBytes: 256 });
    const head = latin1('\n1234007F"SIA-DCS"0001L0#1[');
    let overflowed = false;
    overflowed ||= framer.push(head).overflowed;
    // Every chunk is pushed (`||=` would skip the push once an overflow was seen) and the cap holds after each.
    for (let i = 0; i < 20; i++) {
      const out = framer.push(Buffer.alloc(64, 0x41));
      overflowed ||= out.overflowed;
      expect(framer.bufferedBytes).toBeLessThanOrEqual(256);
    }
    expect(overflowed).toBe(true);
    expect(framer.bufferedBytes).toBeLessThanOrEqual(256);
  });

  it('drops junk and counts it', () => {
    const out = new Dc09Framer().push(Buffer.concat([latin1('\x16\x03\x01junk'), a]));
    expect(out.frames).toHaveLength(1);
    expect(out.junkBytes).toBe(7);
  });

  it('ends a frame with a wrong length field at its CR', () => {
    const body = '"SIA-DCS"0001L0#1234[#1234|NBA1]';
    const wrong = latin1(`\n00000${(body.length + 40).toString(16).padStart(3, '0')}${body}\r`);
    const out = new Dc09Framer().push(wrong);
    expect(out.frames).toHaveLength(1);
    const parsed = parseFrame(out.frames[0]!);
    expect(!parsed.ok && parsed.error.code).toBe('crc');
  });

  it('does not cut a split frame at a CR inside Win-1252 xdata (length-based framing, docs/dc09.md §1)', () => {
    const f = buildRequest({
      token: 'SIA-DCS',
      sequence: '0001',
      line: '0',
      account: '1234',
      data: '#1234|NBA1',
      xdata: [{ id: 'I', value: 'line1\rline2' }],
      timestamp: new Date('2026-01-31T12:00:00Z'),
    });
    const cut = f.indexOf(0x0d) + 1;
    const framer = new Dc09Framer();
    expect(framer.push(Buffer.concat([f.subarray(0, cut), Buffer.from('l', 'latin1')])).frames).toHaveLength(0);
    const out = framer.push(f.subarray(cut + 1));
    expect(out.frames).toHaveLength(1);
    expect(parseFrame(out.frames[0]!).ok).toBe(true);
  });

  it('handles the Eldes length (CR counted) split right after the CR', () => {
    const eldes = buildRequest({
      token: 'ADM-CID',
      sequence: '0056',
      line: '9999',
      account: '9999',
      data: '#9999|1900 00 001',
      crcIncludesCr: true,
    });
    const framer = new Dc09Framer();
    expect(framer.push(eldes).frames).toHaveLength(1);
  });

  it('returns frames that survive later pushes (no buffer reuse)', () => {
    const framer = new Dc09Framer();
    const first = framer.push(Buffer.concat([a, b.subarray(0, 5)])).frames[0]!;
    const copy = Buffer.from(first);
    framer.push(b.subarray(5));
    expect(first.equals(copy)).toBe(true);
  });
});

describe('builders keep pads printable without | [ ]', () => {
  it('fixed pads are applied', () => {
    const key = Buffer.alloc(16, 3);
    const frame = buildRequest({
      token: 'NULL',
      sequence: '0000',
      line: '0',
      account: 'A',
      data: '',
      key,
      timestamp: new Date(0),
      padSource: fixedPad('p'),
    });
    const parsed = parseFrame(frame, { keysFor: () => [key] });
    expect(parsed.ok && parsed.message.pad).toMatch(/^p+$/);
  });
});
