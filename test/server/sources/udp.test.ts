import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { buildRequest, frameBody, type RequestFrame } from '../../../src/protocols/dc09/index.js';
import { RateLimitedWarn } from '../../../src/server/ops/rate-limited-log.js';
import { answerDatagram } from '../../../src/server/sources/udp.js';
import { startTestBridge, text, udpExchange, type TestBridge } from '../harness.js';

const KEY_HEX = '000102030405060708090A0B0C0D0E0F';
const key = Buffer.from(KEY_HEX, 'hex');
const accounts = {
  '1234': { locationId: 'LOC', cameraId: 'cam' },
  SECURE: { key: KEY_HEX, keyEncoding: 'hex', locationId: 'LOC2', cameraId: 'cam2' },
};
let running: TestBridge[] = [];
async function bridge(overrides: Record<string, unknown> = {}): Promise<TestBridge> {
  const b = await startTestBridge({ accounts, ...overrides });
  running.push(b);
  return b;
}
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

const frame = (sequence: string, over: Partial<RequestFrame> = {}) =>
  buildRequest({ token: 'SIA-DCS', sequence, line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date(), ...over });

/** A UDP panel on `address` (any of 127.0.0.0/8 on Linux) that collects the replies it gets. */
async function udpPanel(address = '127.0.0.1') {
  const socket = createSocket('udp4');
  clients.push(socket);
  const replies: Buffer[] = [];
  let waiter: (() => void) | null = null;
  socket.on('message', (reply) => {
    replies.push(reply);
    waiter?.();
  });
  await new Promise<void>((resolve) => socket.bind({ address, port: 0 }, resolve));
  return {
    replies,
    send: (port: number, bytes: Buffer) =>
      new Promise<void>((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()))),
    waitFor: (count: number, timeoutMs = 3000) =>
      new Promise<Buffer[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`have ${replies.length} replies, want ${count}`)), timeoutMs);
        const check = () => {
          if (replies.length < count) return;
          clearTimeout(timer);
          waiter = null;
          resolve(replies);
        };
        waiter = check;
        check();
      }),
  };
}

const rejections = async (b: TestBridge, reason: string) => {
  const metric = await b.bridge.metrics.rejections.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
};

describe('UDP: exactly one frame per datagram', () => {
  it('a datagram with two frames gets no reply and is counted; the next single frame is answered', async () => {
    const b = await bridge();
    const port = b.bridge.port('udp');
    const panel = await udpPanel();
    await panel.send(port, Buffer.concat([frame('0001'), frame('0002', { data: '#1234|NBA2' })]));
    await panel.send(port, frame('0003', { data: '#1234|NBA3' }));
    const [reply] = await panel.waitFor(1);
    expect(text(reply)).toContain('"ACK"0003');
    expect(await rejections(b, 'udp-several-frames')).toBe(1);
    expect(await b.events()).toHaveLength(1);
    expect(b.logs()).toContain('more than one frame');
  });

  it('a frame followed by junk gets no reply and is counted', async () => {
    const b = await bridge();
    const port = b.bridge.port('udp');
    const panel = await udpPanel();
    await panel.send(port, Buffer.concat([frame('0001'), Buffer.from('junk')]));
    await panel.send(port, frame('0002', { token: 'NULL', data: '' }));
    const [reply] = await panel.waitFor(1);
    expect(text(reply)).toContain('"ACK"0002');
    expect(await rejections(b, 'udp-bytes-outside-frame')).toBe(1);
  });

  it.each(['\0', '\r\n', '\0\r\n\0'])('a frame with trailing padding %j is answered', async (padding) => {
    const b = await bridge();
    const reply = await udpExchange(b.bridge.port('udp'), Buffer.concat([frame('0042'), Buffer.from(padding, 'latin1')]));
    expect(text(reply)).toContain('"ACK"0042L0#1234[]');
  });
});

describe('UDP: no reply larger than its request', () => {
  it('a short frame whose NAK would be larger gets nothing; a long one gets its NAK', async () => {
    const b = await bridge();
    const port = b.bridge.port('udp');
    const panel = await udpPanel();
    const short = frameBody('"NULL"0001[]'); // 22 bytes; its NAK (no account: unknown) would be 47
    const long = frame('0002', { account: '9999', data: '#9999|NBA1' });
    await panel.send(port, short);
    await panel.send(port, long);
    const [reply] = await panel.waitFor(1);
    expect(text(reply)).toContain('"NAK"0000R0L0A0[]');
    expect(reply!.length).toBeLessThanOrEqual(long.length);
    expect(await rejections(b, 'udp-reply-larger-than-request')).toBe(1);
  });

  const datagrams = fc
    .oneof(
      // Requests as panels send them, answered ACK, *ACK, NAK or DUH, then possibly damaged.
      {
        weight: 3,
        arbitrary: fc
          .record({
            token: fc.constantFrom('SIA-DCS', 'ADM-CID', 'NULL', 'X', 'ZZ-TOP'),
            sequence: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
            account: fc.constantFrom('1234', '9999', 'SECURE', '1'),
            data: fc.constantFrom('#1234|NBA1', '#1234|1130 01 015', '', '#9|NRP'),
            encrypted: fc.boolean(),
            skewSeconds: fc.constantFrom(0, -3600, null),
            crcForm: fc.constantFrom('ascii' as const, 'binary' as const),
            withReceiver: fc.boolean(),
          })
          .map((f) =>
            buildRequest({
              token: f.token,
              sequence: f.sequence,
              account: f.account,
              data: f.data,
              line: '0',
              crcForm: f.crcForm,
              ...(f.withReceiver ? { receiver: '12' } : {}),
              timestamp: f.skewSeconds === null ? null : new Date(Date.now() + f.skewSeconds * 1000),
              key: f.encrypted ? key : null,
            }),
          ),
      },
      // The smallest frames there are: short or empty bodies.
      fc.string({ maxLength: 12 }).map((body) => frameBody(body)),
      fc.constantFrom('"X"0[]', '"NULL"0[]', '"ACK"0[]', '"*X"0[00]').map((body) => frameBody(body)),
    )
    .chain((datagram) =>
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(datagram) },
        fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
          const damaged = Buffer.from(datagram);
          damaged[at % damaged.length]! ^= xor;
          return damaged;
        }),
        fc.nat().map((cut) => datagram.subarray(0, 1 + (cut % datagram.length))),
      ),
    );

  it('property: whatever the datagram, a reply is never larger than it', async () => {
    const b = await bridge({ receiver: { duplicateWindowSeconds: 0 } });
    const context = {
      pipeline: b.bridge.pipeline,
      metrics: b.bridge.metrics,
      warn: new RateLimitedWarn(createLogger({ level: 'silent' })),
      maxFrameBytes: 4096,
    };
    const peer = { address: '192.0.2.7', port: 4000, transport: 'udp' as const };
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(datagrams, async (datagram) => {
        const reply = await answerDatagram(datagram, peer, context);
        if (reply) {
          kinds.add(reply.kind);
          expect(reply.frame.length).toBeLessThanOrEqual(datagram.length);
        }
      }),
      { numRuns: 400 },
    );
    const withheld = await rejections(b, 'udp-reply-larger-than-request');
    // Not vacuous: every kind of reply was sent, and some replies were withheld for their size.
    expect([...kinds].sort()).toEqual(['ACK', 'DUH', 'NAK']);
    expect(withheld).toBeGreaterThan(0);
  });
});

describe('UDP: per-source rate limit', () => {
  it('answers a source up to its burst, drops the rest unread and counted; another source is not affected', async () => {
    const b = await bridge({ receiver: { udpDatagramsPerSecondPerSource: 0.001, udpBurstPerSource: 3 } });
    const port = b.bridge.port('udp');
    const flooding = await udpPanel('127.0.0.1');
    for (let i = 1; i <= 5; i++) await flooding.send(port, frame(String(i).padStart(4, '0'), { token: 'NULL', data: '' }));
    const other = await udpPanel('127.0.0.2');
    await other.send(port, frame('0099', { token: 'NULL', data: '' }));
    const [reply] = await other.waitFor(1);
    expect(text(reply)).toContain('"ACK"0099');
    // The five datagrams came in before the other source's: their bucket checks are done.
    expect(await rejections(b, 'udp-rate-limited')).toBe(2);
    const replies = await flooding.waitFor(3);
    expect(replies.map((r) => text(r).slice(14, 18)).sort()).toEqual(['0001', '0002', '0003']);
    expect(b.logs()).toContain('udpDatagramsPerSecondPerSource');
  });

  it('null turns the limit off', async () => {
    const b = await bridge({ receiver: { udpDatagramsPerSecondPerSource: null, udpBurstPerSource: 1 } });
    const port = b.bridge.port('udp');
    const panel = await udpPanel();
    for (let i = 1; i <= 3; i++) await panel.send(port, frame(String(i).padStart(4, '0'), { token: 'NULL', data: '' }));
    expect(await panel.waitFor(3)).toHaveLength(3);
    expect(await rejections(b, 'udp-rate-limited')).toBe(0);
  });
});
