/**
 * End to end over loopback: panel frames over TCP → bridge → Partner API sink → the emulator. The delivered
 * bodies must equal what the mapper says (except sent_at), and no secret may appear in the bridge's log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { mapFrame, sourceFromDc09 } from '../../src/mapper/index.js';
import { decodePayload } from '../../src/protocols/decode.js';
import { buildRequest, parseFrame } from '../../src/protocols/dc09/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startTestBridge, TcpPanel, type TestBridge } from '../server/harness.js';
import { emulatorSink, until } from './api-harness.js';

const KEY_HEX = '3A1F6B8C9D4E7F20123456789ABCDEF0';
const key = Buffer.from(KEY_HEX, 'hex');
let emulator: Emulator | null = null;
let bridge: TestBridge | null = null;
afterEach(async () => {
  await bridge?.stop();
  await emulator?.close();
  bridge = null;
  emulator = null;
});

describe('panel → bridge → Partner Event API emulator', () => {
  it('delivers mapped bodies in order with JWT auth, and logs no secret', async () => {
    emulator = await startEmulator({ quiet: true });
    const accounts = {
      '1234': {
        key: KEY_HEX,
        keyEncoding: 'hex',
        locationId: 'Z6RSOG',
        recorderId: 'Z6RANV',
        cameraId: 'cam-default',
        zones: { '15': { cameraId: 'cam-15', name: 'Back door' } },
        users: { '3': 'Alice' },
      },
    };
    const { sink } = await emulatorSink(emulator);
    bridge = await startTestBridge({ accounts, sink, log: { level: 'debug' } });

    const now = new Date();
    const frames = [
      buildRequest({
        token: 'SIA-DCS',
        sequence: '0001',
        receiver: '1',
        line: '1',
        account: '1234',
        data: '#1234|Nri1/BA15',
        timestamp: now,
        key,
      }),
      buildRequest({
        token: 'ADM-CID',
        sequence: '0002',
        receiver: '1',
        line: '1',
        account: '1234',
        data: '#1234|3401 01 003',
        timestamp: now,
        key,
      }),
      buildRequest({
        token: 'SIA-DCS',
        sequence: '0003',
        receiver: '1',
        line: '1',
        account: '1234',
        data: '#1234|Nri1/BR15',
        timestamp: now,
        key,
      }),
    ];
    const panel = await TcpPanel.open(bridge.bridge.port('tcp'));
    panel.write(Buffer.concat(frames));
    const replies = await panel.waitForReplies(3);
    expect(replies.every((r) => r.toString('latin1').includes('"*ACK"'))).toBe(true);
    await until(() => emulator!.events().length === 3);

    const received = emulator.events().map((e) => e.body as Record<string, unknown>);
    const config = parseConfig({ accounts }, '/x/bridge.json');
    const expected = frames.map((f) => {
      const parsed = parseFrame(f, { keysFor: () => [key] });
      if (!parsed.ok) throw new Error('fixture frame');
      const events = decodePayload(parsed.message).events;
      const mapped = mapFrame(
        sourceFromDc09(parsed.message, events, {
          account: '1234',
          receivedAt: now,
          peer: null,
          transport: 'tcp',
          raw: '',
          skewFlagged: false,
        }),
        config,
      )[0]!;
      if (!mapped.forwarded) throw new Error('fixture should forward');
      return mapped.body;
    });
    const strip = ({ sent_at: _s, payload: _p, ...rest }: Record<string, unknown>) => rest;
    expect(received.map(strip)).toEqual(expected.map((b) => strip(b as unknown as Record<string, unknown>)));
    expect(received.map((b) => (b.payload as any).zoneName)).toEqual(['Back door', null, 'Back door']);
    expect(emulator.tokenRequests()).toBe(1);
    expect(emulator.events().every((e) => String(e.headers.authorization).startsWith('Bearer '))).toBe(true);

    await bridge.stop();
    const logs = bridge.logs();
    const pemBody = emulator
      .privateKeyPem!.split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
    expect(logs).not.toContain(KEY_HEX);
    expect(logs).not.toContain(pemBody.slice(0, 40));
    const token = String(emulator.events()[0]!.headers.authorization).slice('Bearer '.length);
    expect(logs).not.toContain(token);
  });
});
