import { afterEach, describe, expect, it } from 'vitest';
import { buildSurgardCid, buildSurgardHeartbeat, buildSurgardSia, withTerminator } from '../../../src/protocols/surgard/index.js';
import { runCli } from '../../cli/run-cli.js';
import { byteLink, startTestBridge, type TestBridge } from '../harness.js';

const accounts = {
  '1234': { locationId: 'LOC', cameraId: 'cam', zones: { '4': { cameraId: 'cam-4', name: 'Hall' } } },
  '7037': { locationId: 'LOC7', cameraId: 'cam7' },
};
let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function surgardBridge(): Promise<TestBridge> {
  running = await startTestBridge({
    accounts,
    receiver: { duplicateWindowSeconds: 0 },
    listeners: [{ protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0 }],
  });
  return running;
}

/** A receiver's automation output link: sends bytes, collects the single-byte replies. */
const link = byteLink;

describe('Sur-Gard listener (issue #8)', () => {
  it('ACKs a Contact ID record once mapped like its DC-09 equivalent; keeps receiver and line', async () => {
    const b = await surgardBridge();
    const l = await link(b.bridge.port('tcp', 'surgard'));
    l.socket.write(
      withTerminator(
        buildSurgardCid({ receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '130', group: '01', zone: '004' }),
      ),
    );
    expect(await l.waitFor(1)).toEqual([0x06]);
    const [event] = await b.events();
    expect(event).toMatchObject({ location_id: 'LOC', camera_id: 'cam-4', event_type: 'alarm', event_status: 'active' });
    expect(event.payload).toMatchObject({ protocol: 'cid', receiver: '01', line: '1', zone: '004', zoneName: 'Hall', qualifier: '1' });
    l.socket.end();
  });

  it('splits glued records and records split across reads; heartbeats are ACKed', async () => {
    const b = await surgardBridge();
    const l = await link(b.bridge.port('tcp', 'surgard'));
    const record = buildSurgardCid({ receiver: '01', line: '1', account: '7037', qualifier: 'E', code: '130', group: '01', zone: '004' });
    // EBS OSM retries: copies glued without terminators, then one terminator.
    l.socket.write(Buffer.from(record + record + record, 'latin1'));
    l.socket.write(Buffer.from([0x14]));
    const hb = withTerminator(buildSurgardHeartbeat());
    l.socket.write(hb.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 30));
    l.socket.write(hb.subarray(7));
    const sia = withTerminator(buildSurgardSia({ receiver: '01', line: '1', data: '#1234|Nri1/BA004' }), 'cr');
    l.socket.write(sia);
    expect(await l.waitFor(5)).toEqual([0x06, 0x06, 0x06, 0x06, 0x06]);
    const events = await b.events();
    expect(events.map((e) => e.location_id)).toEqual(['LOC7', 'LOC7', 'LOC7', 'LOC']);
    expect(events[3].payload).toMatchObject({ protocol: 'sia', code: 'BA', zoneName: 'Hall' });
  });

  it("takes the bridge's clock for receipt time and panel activity; heartbeats and records count for the listener's heartbeatAccount", async () => {
    const fixed = new Date('2026-11-26T12:00:00Z');
    const activity: { account: string; at: Date }[] = [];
    running = await startTestBridge(
      {
        accounts,
        receiver: { duplicateWindowSeconds: 0 },
        listeners: [{ protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0, heartbeatAccount: 'RCV1' }],
      },
      { now: () => fixed, onPanelActivity: (account, _peer, at) => activity.push({ account, at }) },
    );
    const l = await link(running.bridge.port('tcp', 'surgard'));
    l.socket.write(withTerminator(buildSurgardHeartbeat()));
    l.socket.write(
      withTerminator(
        buildSurgardCid({ receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '130', group: '01', zone: '004' }),
      ),
    );
    expect(await l.waitFor(2)).toEqual([0x06, 0x06]);
    const [event] = await running.events();
    expect(event.payload).toMatchObject({ receivedAt: fixed.toISOString() });
    expect(activity).toEqual([
      { account: 'RCV1', at: fixed },
      { account: '1234', at: fixed },
      { account: 'RCV1', at: fixed },
    ]);
    l.socket.end();
  });

  it('NAKs a record whose events cannot be stored (outbox at maxBytes), so the receiver sends it again', async () => {
    running = await startTestBridge({
      accounts,
      receiver: { duplicateWindowSeconds: 0 },
      outbox: { dir: 'outbox', maxBytes: 2000 },
      listeners: [{ protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0 }],
    });
    const l = await link(running.bridge.port('tcp', 'surgard'));
    for (let i = 0; i < 12; i++) {
      l.socket.write(
        withTerminator(
          buildSurgardCid({
            receiver: '01',
            line: '1',
            account: '1234',
            qualifier: 'E',
            code: '130',
            group: '01',
            zone: String(i + 1).padStart(3, '0'),
          }),
        ),
      );
      await l.waitFor(i + 1);
    }
    const replies = l.replies();
    expect(replies).toContain(0x15);
    const counted = (await running.bridge.metrics.frames.get()).values.find(
      (v) => v.labels.token === 'surgard-cid' && v.labels.result === 'not-accepted',
    );
    expect(counted?.value).toBe(replies.filter((r) => r === 0x15).length);
    l.socket.end();
  });

  it('NAKs an unparseable record and logs its raw bytes', async () => {
    const b = await surgardBridge();
    const l = await link(b.bridge.port('tcp', 'surgard'));
    l.socket.write(Buffer.from('5011 18ZZZZ\x14', 'latin1'));
    expect(await l.waitFor(1)).toEqual([0x15]);
    expect(b.logs()).toContain('5011 18ZZZZ');
  });
});

describe('decode --format surgard', () => {
  it('decodes records like frames', async () => {
    const { code, stdout } = await runCli([
      'decode',
      '--format',
      'surgard',
      '5011 181234E14401002\\x14',
      '1011           @    ',
      'garbage',
    ]);
    expect(code).toBe(1);
    const [cid, hb, bad] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(cid).toMatchObject({ ok: true, kind: 'cid', account: '1234', reply: { kind: 'ACK' } });
    expect(cid.events[0]).toMatchObject({ protocol: 'cid', qualifier: '1', code: '144', group: '01', zone: '002' });
    expect(hb).toMatchObject({ ok: true, kind: 'heartbeat' });
    expect(bad).toMatchObject({ ok: false, reply: { kind: 'NAK' } });
  });

  it('splits glued records like the listener', async () => {
    const { stdout } = await runCli(['decode', '--format', 'surgard', '5011 181234E144010025011 181234E14401002\\x14']);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).kind),
    ).toEqual(['cid', 'cid']);
  });
});
