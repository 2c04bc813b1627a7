import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest, parseFrame } from '../../../src/protocols/dc09/index.js';
import type { DurableLog } from '../../../src/sink/durable-log.js';
import { DeliveryTimeoutError } from '../../../src/sink/outbox/index.js';
import { startTestBridge, TcpPanel, text, udpExchange, type TestBridge } from '../harness.js';

const KEY_HEX = '000102030405060708090A0B0C0D0E0F';
const key = Buffer.from(KEY_HEX, 'hex');
const accounts = {
  '1234': { locationId: 'LOC', cameraId: 'cam', recorderId: 'rec' },
  SECURE: { key: KEY_HEX, keyEncoding: 'hex', locationId: 'LOC2', cameraId: 'cam2' },
};
/** The status of a log that holds nothing (the logs injected below only take or refuse events). */
const holdsNothing = { status: () => ({ depth: 0, oldestAgeSeconds: 0, state: 'running' as const, inFlight: 0 }) };
let running: TestBridge[] = [];
async function bridge(overrides: Record<string, unknown> = {}, options = {}): Promise<TestBridge> {
  const b = await startTestBridge({ accounts, ...overrides }, options);
  running.push(b);
  return b;
}
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

let seq = 0;
const frame = (data = '#1234|Nri1/BA1', over: Partial<Parameters<typeof buildRequest>[0]> = {}) =>
  buildRequest({
    token: 'SIA-DCS',
    sequence: String(++seq % 10000).padStart(4, '0'),
    line: '0',
    account: '1234',
    data,
    timestamp: new Date(),
    ...over,
  });

describe('TCP listener (issue #4)', () => {
  it('ACKs one frame and writes the mapped event', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#1234|Nri1/BA7', { sequence: '0042' }));
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toMatch(/"ACK"0042L0#1234\[\]\r$/);
    const events = await b.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ location_id: 'LOC', camera_id: 'cam', event_type: 'alarm', event_status: 'active' });
    panel.end();
  });

  it('answers many frames in one write, in order', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const frames = Array.from({ length: 20 }, (_, i) => frame(`#1234|Nri1/BA${i + 1}`, { sequence: String(i).padStart(4, '0') }));
    panel.write(Buffer.concat(frames));
    const replies = await panel.waitForReplies(20);
    expect(replies.map((r) => text(r).slice(14, 18))).toEqual(frames.map((_, i) => String(i).padStart(4, '0')));
    expect(await b.events()).toHaveLength(20);
  });

  it('keeps answering in order when a peer floods (reading pauses past the queue limit and resumes)', async () => {
    const b = await bridge({ receiver: { duplicateWindowSeconds: 0 } });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const frames = Array.from({ length: 1000 }, (_, i) => frame('', { token: 'NULL', sequence: String(i).padStart(4, '0') }));
    panel.write(Buffer.concat(frames));
    const replies = await panel.waitForReplies(1000, 15_000);
    expect(replies.map((r) => text(r).slice(14, 18))).toEqual(frames.map((_, i) => String(i).padStart(4, '0')));
  });

  it('reassembles byte-by-byte delivery', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const f = frame();
    for (const byte of f) {
      panel.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"ACK"');
  });

  it('serves two panels at once on kept-open connections with several events each', async () => {
    const b = await bridge();
    const [p1, p2] = await Promise.all([TcpPanel.open(b.bridge.port('tcp')), TcpPanel.open(b.bridge.port('tcp'))]);
    for (let i = 0; i < 3; i++) {
      p1.write(frame(`#1234|Nri1/BA${i + 10}`));
      p2.write(frame(`#1234|Nri2/FA${i + 20}`));
      await Promise.all([p1.waitForReplies(i + 1), p2.waitForReplies(i + 1)]);
    }
    expect(p1.closed || p2.closed).toBe(false);
    expect(await b.events()).toHaveLength(6);
  });

  it('drops junk and an HTTP GET before a frame, then answers the frame', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write('GET / HTTP/1.1\r\nHost: bridge\r\n\r\n\x16\x03\x01\x00junk');
    panel.write(frame());
    const replies = await panel.waitForReplies(1);
    expect(replies).toHaveLength(1);
    expect(text(replies[0])).toContain('"ACK"');
    expect(b.logs()).toContain('not part of a DC-09 frame');
    const metrics = await b.bridge.metrics.registry.getSingleMetricAsString('alarm_bridge_junk_bytes_total');
    expect(metrics).toMatch(/transport="tcp"} [1-9]/);
  });

  it('NAKs a frame whose CRC and length are both wrong (the masked public sample) without waiting', async () => {
    const b = await bridge({ receiver: { unknownAccounts: 'accept' } });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write('\n9618004D"SIA-DCS"7960L0#123456[#123456|Nri1CL0^VX FRONTE ^]_22:40:48,04-11-2021\r');
    const [reply] = await panel.waitForReplies(1, 2000);
    expect(text(reply)).toContain('"NAK"0000R0L0A0[]');
  });

  it('closes a connection that sends oversized garbage without a frame end', async () => {
    const b = await bridge({ receiver: { maxFrameBytes: 256 } });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write('\n1234007F"SIA-DCS"0001L0#1[' + 'A'.repeat(2000));
    await panel.waitForClose();
    expect(b.logs()).toContain('size cap');
  });

  it('closes idle connections', async () => {
    const b = await bridge({ receiver: { idleTimeoutSeconds: 1 } });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const start = Date.now();
    await panel.waitForClose(5000);
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('refuses connections beyond maxConnections and logs it', async () => {
    const b = await bridge({ receiver: { maxConnections: 2 } });
    const port = b.bridge.port('tcp');
    const kept = [await TcpPanel.open(port), await TcpPanel.open(port)];
    await new Promise((r) => setTimeout(r, 50));
    const extra = await TcpPanel.open(port);
    await extra.waitForClose();
    kept[0]!.write(frame());
    await kept[0]!.waitForReplies(1);
    expect(b.logs()).toContain('maxConnections reached');
  });

  it('closes after the reply with the configured delay (Ajax)', async () => {
    const b = await bridge({ listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0, closeAfterReplyMs: 200 }] });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame());
    await panel.waitForReplies(1);
    const acked = Date.now();
    await panel.waitForClose();
    expect(Date.now() - acked).toBeGreaterThanOrEqual(150);
  });

  it('does not close while a later frame is still being accepted: its ACK arrives first', async () => {
    let calls = 0;
    const slowSecond: DurableLog = {
      ...holdsNothing,
      append: async () => {
        if (++calls === 2) await new Promise((r) => setTimeout(r, 400));
      },
      close: async () => undefined,
    };
    const b = await bridge(
      { listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0, closeAfterReplyMs: 200 }] },
      { log: slowSecond },
    );
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#1234|NBA1'));
    await panel.waitForReplies(1);
    await new Promise((r) => setTimeout(r, 100));
    panel.write(frame('#1234|NBA2')); // its accept outlasts the 200 ms close timer of the first reply
    const replies = await panel.waitForReplies(2);
    expect(replies.map(text).filter((r) => r.includes('"ACK"'))).toHaveLength(2);
    await panel.waitForClose();
  });
});

describe('UDP listener', () => {
  it('answers a clear frame to the source port', async () => {
    const b = await bridge();
    const reply = await udpExchange(b.bridge.port('udp'), frame('#1234|NBA3', { sequence: '0077' }));
    expect(text(reply)).toContain('"ACK"0077L0#1234[]');
  });

  it('answers an encrypted frame with an encrypted ACK', async () => {
    const b = await bridge();
    const reply = await udpExchange(b.bridge.port('udp'), frame('#SECURE|NBA3', { account: 'SECURE', key }));
    const parsed = parseFrame(reply, { keysFor: () => [key] });
    expect(parsed.ok && parsed.message).toMatchObject({ token: 'ACK', encrypted: true });
    expect(await b.events()).toHaveLength(1);
  });
});

describe('encryption, windows, duplicates, failures', () => {
  it('right key → *ACK; wrong key → NAK; clear text for an encrypted account → NAK', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#SECURE|NBA1', { account: 'SECURE', key }));
    panel.write(frame('#SECURE|NBA2', { account: 'SECURE', key: Buffer.alloc(16, 9) }));
    panel.write(frame('#SECURE|NBA3', { account: 'SECURE' }));
    const replies = await panel.waitForReplies(3);
    expect(text(replies[0])).toContain('"*ACK"');
    expect(text(replies[1])).toContain('"NAK"0000R0L0A0[]_');
    expect(text(replies[2])).toContain('"NAK"');
    expect(await b.events()).toHaveLength(1);
    expect(b.logs()).not.toContain(KEY_HEX);
    expect(b.logs()).toContain('"reason":"decryption"');
  });

  it('without keyEncoding a 32-hex-digit key also works as 32 ASCII characters (AES-256, Home Assistant style)', async () => {
    const text32 = '3A1F6B8C9D4E7F20123456789ABCDEF0';
    const b = await bridge({
      accounts: {
        HA: { key: text32, locationId: 'L', cameraId: 'c' },
        STRICT: { key: text32, keyEncoding: 'hex', locationId: 'L', cameraId: 'c' },
      },
    });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#HA|NBA1', { account: 'HA', key: Buffer.from(text32, 'hex') }));
    panel.write(frame('#HA|NBA2', { account: 'HA', key: Buffer.from(text32, 'latin1') }));
    panel.write(frame('#STRICT|NBA3', { account: 'STRICT', key: Buffer.from(text32, 'latin1') }));
    const replies = await panel.waitForReplies(3);
    expect(replies.map((r) => (text(r).includes('"*ACK"') ? 'ACK' : 'NAK'))).toEqual(['ACK', 'ACK', 'NAK']);
    const ack = parseFrame(replies[1]!, { keysFor: () => [Buffer.from(text32, 'latin1')] });
    expect(ack.ok).toBe(true); // the *ACK is encrypted with the key that worked
  });

  it('NAKs an encrypted frame outside the window with the receiver time', async () => {
    const fixed = new Date('2026-11-26T12:00:00Z');
    const b = await bridge({}, { now: () => fixed });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#SECURE|NBA1', { account: 'SECURE', key, timestamp: new Date(fixed.getTime() - 60_000) }));
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"NAK"0000R0L0A0[]_12:00:00,11-26-2026');
  });

  it('answers a retransmission within the window but forwards it once (Ajax same seq, Eldes seq+1)', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const ts = new Date();
    panel.write(frame('#1234|NBA5', { sequence: '0227', timestamp: ts }));
    panel.write(frame('#1234|NBA5', { sequence: '0227', timestamp: ts }));
    panel.write(frame('#1234|NBA5', { sequence: '0228', timestamp: ts }));
    const replies = await panel.waitForReplies(3);
    expect(replies.map((r) => text(r).includes('"ACK"'))).toEqual([true, true, true]);
    expect(await b.events()).toHaveLength(1);
  });

  it('without timestamps, only a repeat of the last frame is a retransmission: alarm, restore, alarm all go out', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    const send = ['#1234|NBA3', '#1234|NBR3', '#1234|NBA3', '#1234|NBA3'];
    send.forEach((data, i) => panel.write(frame(data, { sequence: String(i + 1).padStart(4, '0'), timestamp: null })));
    const replies = await panel.waitForReplies(4);
    expect(replies.every((r) => text(r).includes('"ACK"'))).toBe(true);
    // The fourth repeats the third right away (Eldes resends with sequence + 1): answered, not forwarded again.
    expect((await b.events()).map((e) => e.event_status)).toEqual(['active', 'inactive', 'active']);
  });

  it('NAKs when the sink fails, so the panel retries', async () => {
    const failing: DurableLog = { ...holdsNothing, append: () => Promise.reject(new Error('disk on fire')), close: async () => undefined };
    const b = await bridge({}, { log: failing });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame());
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"NAK"');
    expect(b.logs()).toContain('answering NAK');
  });

  it('stops cleanly with frames in flight: they are answered and written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const written: unknown[] = [];
    const slow: DurableLog = {
      ...holdsNothing,
      append: async (events) => {
        await gate;
        written.push(...events);
      },
      close: async () => undefined,
    };
    const b = await bridge({}, { log: slow });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame());
    await new Promise((r) => setTimeout(r, 50));
    const stopped = b.stop();
    setTimeout(release, 100);
    const [reply] = await panel.waitForReplies(1);
    await stopped;
    expect(text(reply)).toContain('"ACK"');
    expect(written).toHaveLength(1);
  });
});

describe('Contact ID check digit inside ADM-CID (field dialect)', () => {
  it('a wrong DC-05 digit is ACKed and forwarded, counted by alarm_bridge_cid_checksum_mismatches_total and logged', async () => {
    const b = await bridge();
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('#1234|1234181131010159', { token: 'ADM-CID' }));
    panel.write(frame('#1234|1234183131010156', { token: 'ADM-CID' }));
    const replies = await panel.waitForReplies(2);
    expect(replies.map((r) => text(r))).toEqual([expect.stringContaining('"ACK"'), expect.stringContaining('"ACK"')]);
    expect((await b.events()).map((e) => [e.event_type, e.event_status])).toEqual([
      ['alarm', 'active'],
      ['alarm', 'inactive'],
    ]);
    expect(await b.bridge.metrics.registry.getSingleMetricAsString('alarm_bridge_cid_checksum_mismatches_total')).toContain(
      '{protocol="dc09"} 1',
    );
    expect(b.logs()).toMatch(/check digit does not follow DC-05/);
    panel.end();
  });
});

describe('ackAfter "delivered" timing out (stored, not yet delivered)', () => {
  // What the outbox throws when the API did not take the events within deliveredTimeoutSeconds.
  const timingOut: DurableLog = {
    ...holdsNothing,
    append: async () => {
      throw new DeliveryTimeoutError(['evt-1'], 10);
    },
    close: async () => undefined,
  };

  it.each([120, 0])('is answered with a NAK, duplicate window %i s', async (duplicateWindowSeconds) => {
    const b = await bridge({ receiver: { duplicateWindowSeconds } }, { log: timingOut });
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame());
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"NAK"');
  });
});

describe('property: chunking does not change the replies', () => {
  it('any chunking of a stream of frames yields the same replies in the same order', async () => {
    const b = await bridge({ receiver: { duplicateWindowSeconds: 0 } });
    const port = b.bridge.port('tcp');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('#1234|NBA1', '#1234|1130 01 015', '', '#1234|NRP'), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }),
        async (datas, cuts) => {
          const frames = datas.map((data, i) =>
            frame(data, { token: data.includes(' ') ? 'ADM-CID' : data === '' ? 'NULL' : 'SIA-DCS', sequence: String(i).padStart(4, '0') }),
          );
          const stream = Buffer.concat(frames);
          const panel = await TcpPanel.open(port);
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            panel.write(stream.subarray(at, at + size));
            at += size;
            if (i % 3 === 0) await new Promise((r) => setImmediate(r));
          }
          const replies = await panel.waitForReplies(frames.length);
          panel.end();
          expect(replies.map((r) => text(r).slice(9, 22))).toEqual(frames.map((_, i) => `"ACK"${String(i).padStart(4, '0')}L0#1`));
        },
      ),
      { numRuns: 25 },
    );
  });
});
