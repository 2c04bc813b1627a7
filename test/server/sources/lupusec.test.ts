import { afterEach, describe, expect, it } from 'vitest';
import { buildLupusecMessage } from '../../../src/protocols/lupusec/index.js';
import { byteLink, startTestBridge, type TestBridge } from '../harness.js';

const accounts = {
  TEST: { locationId: 'LOC-L', cameraId: 'cam', zones: { '10': { cameraId: 'cam-10', name: 'Garage' } } },
  'my-house.1': { locationId: 'LOC-H', cameraId: 'cam-h' },
};
let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function lupusecBridge(): Promise<TestBridge> {
  // Periodic tests are ignored by default; the published example is one, so it is mapped here to reach the sink.
  running = await startTestBridge({
    accounts,
    receiver: { duplicateWindowSeconds: 0 },
    mapping: { codes: { 'cid:602': { type: 'test', status: 'active' } } },
    listeners: [{ protocol: 'lupusec-cid', transport: 'tcp', host: '127.0.0.1', port: 0 }],
  });
  return running;
}

/** A Lupusec XT panel in ip://…/CID mode: writes messages, collects the single-byte replies. */
const panel = byteLink;

describe('Lupusec Contact ID listener (docs/contact-id.md §5)', () => {
  it('the published example gets 0x06 and arrives mapped like Contact ID, subscriber as the account (any case)', async () => {
    const b = await lupusecBridge();
    const p = await panel(b.bridge.port('tcp', 'lupusec-cid'));
    p.socket.write(Buffer.from('[test 18160201010B]', 'latin1'));
    expect(await p.waitFor(1)).toEqual([0x06]);
    const [event] = await b.events();
    expect(event).toMatchObject({ location_id: 'LOC-L', camera_id: 'cam-10', event_type: 'test' });
    expect(event.payload).toMatchObject({
      protocol: 'cid',
      token: 'ADM-CID',
      account: 'TEST',
      code: '602',
      qualifier: '1',
      zone: '010',
      zoneName: 'Garage',
      area: '01',
    });
  });

  it('a free-text subscriber (my-house.1) is configured and matched as the account', async () => {
    const b = await lupusecBridge();
    const p = await panel(b.bridge.port('tcp', 'lupusec-cid'));
    p.socket.write(buildLupusecMessage({ subscriber: 'My-House.1', qualifier: '1', code: '130', group: '01', zone: '003' }));
    expect(await p.waitFor(1)).toEqual([0x06]);
    const [event] = await b.events();
    expect(event).toMatchObject({ location_id: 'LOC-H', camera_id: 'cam-h', event_type: 'alarm', event_status: 'active' });
  });

  it('a wrong check digit is counted and logged, not refused', async () => {
    const b = await lupusecBridge();
    const p = await panel(b.bridge.port('tcp', 'lupusec-cid'));
    p.socket.write(buildLupusecMessage({ subscriber: 'Test', qualifier: '1', code: '130', group: '01', zone: '010', checkDigit: '1' }));
    p.socket.write(buildLupusecMessage({ subscriber: 'Test', qualifier: '3', code: '130', group: '01', zone: '010' }));
    expect(await p.waitFor(2)).toEqual([0x06, 0x06]);
    expect((await b.events()).map((e) => [e.event_type, e.event_status])).toEqual([
      ['alarm', 'active'],
      ['alarm', 'inactive'],
    ]);
    expect(await b.bridge.metrics.registry.getSingleMetricAsString('alarm_bridge_cid_checksum_mismatches_total')).toContain(
      'alarm_bridge_cid_checksum_mismatches_total{protocol="lupusec-cid"} 1',
    );
    expect(b.logs()).toMatch(/check digit does not follow DC-05/);
  });

  it('a message that cannot be parsed gets 0x15 and a log line with its raw bytes; messages split across reads work', async () => {
    const b = await lupusecBridge();
    const p = await panel(b.bridge.port('tcp', 'lupusec-cid'));
    p.socket.write(Buffer.from('[test 1816XX01010B]', 'latin1'));
    expect(await p.waitFor(1)).toEqual([0x15]);
    expect(b.logs()).toContain('1816XX01010B');
    const message = Buffer.from('[test 18160201010B]', 'latin1');
    p.socket.write(message.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 30));
    p.socket.write(message.subarray(7));
    expect(await p.waitFor(2)).toEqual([0x15, 0x06]);
    expect(await b.events()).toHaveLength(1);
  });
});
