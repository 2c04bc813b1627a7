import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildGalaxyBlock, GalaxyFramer } from '../../../src/protocols/galaxy/index.js';
import type { DurableLog } from '../../../src/sink/durable-log.js';
import { startTestBridge, type TestBridge } from '../harness.js';

const accounts = { '123456': { locationId: 'LOC-G', cameraId: 'cam', zones: { '1011': { cameraId: 'cam-1011', name: 'Hall' } } } };
let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function galaxyBridge(overrides: Record<string, unknown> = {}): Promise<TestBridge> {
  running = await startTestBridge({
    accounts,
    receiver: { duplicateWindowSeconds: 0 },
    listeners: [{ protocol: 'galaxy', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    ...overrides,
  });
  return running;
}

const block = (fn: string, data = '') => buildGalaxyBlock({ function: fn, data });
const HELLO = Buffer.from([0x05, 0x01]);
const ACK = '403887';
const REJECT = '403986';

/** A Galaxy E080 module: writes blocks, collects the receiver's reply blocks and whether it closed the connection. */
async function panel(port: number) {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  const framer = new GalaxyFramer();
  const replies: string[] = [];
  let closed = false;
  socket.on('data', (d) => replies.push(...framer.push(d).blocks.map((b) => b.toString('hex'))));
  socket.on('close', () => (closed = true));
  const until = async (done: () => boolean, what: string) => {
    const start = Date.now();
    while (!done()) {
      if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}; replies ${replies.join(' ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    socket,
    replies,
    closed: () => closed,
    waitFor: async (n: number) => {
      await until(() => replies.length >= n, `${n} replies`);
      return replies;
    },
    waitClosed: () => until(() => closed, 'the close'),
  };
}

describe('Galaxy listener (docs/sia-dcs.md §4)', () => {
  it('a whole session: hello, account, events, text, end → ACK each, events at the sink mapped like SIA DCS, then close', async () => {
    const b = await galaxyBridge();
    const p = await panel(b.bridge.port('tcp', 'galaxy'));
    p.socket.write(Buffer.concat([HELLO, block('#', '123456')]));
    await p.waitFor(1);
    p.socket.write(block('N', 'ti11:46/BA1011'));
    await p.waitFor(2);
    p.socket.write(block('A', 'HALL PIR'));
    p.socket.write(block('N', 'ti11:47/id001/pi010/CL'));
    p.socket.write(block('0'));
    expect(await p.waitFor(5)).toEqual([ACK, ACK, ACK, ACK, ACK]);
    await p.waitClosed();
    const events = await b.events();
    expect(events.map((e) => [e.location_id, e.camera_id, e.event_type])).toEqual([
      ['LOC-G', 'cam-1011', 'alarm'],
      ['LOC-G', 'cam', 'arming'],
    ]);
    expect(events[0].payload).toMatchObject({
      protocol: 'sia',
      token: 'SIA-DCS',
      account: '123456',
      code: 'BA',
      zone: '1011',
      zoneName: 'Hall',
      transport: 'tcp',
    });
    expect(events[1].payload).toMatchObject({ code: 'CL', user: '001', area: '010' });
    expect(b.logs()).toContain('HALL PIR');
  });

  it('the account block repeated until answered: one session, one event', async () => {
    const b = await galaxyBridge();
    const p = await panel(b.bridge.port('tcp', 'galaxy'));
    const account = block('#', '123456');
    p.socket.write(Buffer.concat([account, account, account]));
    await p.waitFor(3);
    p.socket.write(Buffer.concat([block('N', 'ti11:46/BA1011'), block('0')]));
    expect(await p.waitFor(5)).toEqual([ACK, ACK, ACK, ACK, ACK]);
    await p.waitClosed();
    expect((await b.events()).map((e) => e.payload.code)).toEqual(['BA']);
  });

  it('a bad parity gets the reject block and a log line; the block sent again is ACKed and forwarded once', async () => {
    const b = await galaxyBridge();
    const p = await panel(b.bridge.port('tcp', 'galaxy'));
    const event = block('N', 'ti11:46/BA1011');
    const corrupted = Buffer.from(event);
    corrupted[5]! ^= 0x01;
    p.socket.write(Buffer.concat([block('#', '123456'), corrupted]));
    expect(await p.waitFor(2)).toEqual([ACK, REJECT]);
    p.socket.write(event);
    expect(await p.waitFor(3)).toEqual([ACK, REJECT, ACK]);
    expect(b.logs()).toMatch(/Galaxy block rejected: parity byte/);
    expect((await b.events()).map((e) => e.payload.code)).toEqual(['BA']);
    expect(await b.bridge.metrics.registry.getSingleMetricAsString('alarm_bridge_rejections_total')).toContain('reason="galaxy-parity"');
  });

  it('the ACK of an event block waits for the event to be accepted: a refusal gets the reject block', async () => {
    let appends = 0;
    const log: DurableLog = {
      status: () => ({ depth: 0, oldestAgeSeconds: 0, state: 'running' as const, inFlight: 0 }),
      append: async () => {
        if (++appends === 1) throw Object.assign(new Error('outbox full'), { name: 'OutboxFullError' });
      },
      close: async () => undefined,
    };
    running = await startTestBridge(
      { accounts, listeners: [{ protocol: 'galaxy', transport: 'tcp', host: '127.0.0.1', port: 0 }] },
      { log },
    );
    const p = await panel(running.bridge.port('tcp', 'galaxy'));
    p.socket.write(Buffer.concat([block('#', '123456'), block('N', 'ti11:46/BA1011')]));
    expect(await p.waitFor(2)).toEqual([ACK, REJECT]);
    p.socket.write(block('N', 'ti11:46/BA1011'));
    expect(await p.waitFor(3)).toEqual([ACK, REJECT, ACK]);
    expect(appends).toBe(2);
  });

  it('an event block that does not decode is ACKed and kept, not rejected forever', async () => {
    const b = await galaxyBridge({ outbox: { dir: 'outbox' } });
    const p = await panel(b.bridge.port('tcp', 'galaxy'));
    p.socket.write(Buffer.concat([block('#', '123456'), block('N', 'BA1^open')]));
    expect(await p.waitFor(2)).toEqual([ACK, ACK]);
    expect(b.logs()).toMatch(/data block did not decode/);
    expect(b.bridge.outbox?.status()).toMatchObject({ deadLetters: 1 });
  });
});
