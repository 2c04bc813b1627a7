/**
 * Sur-Gard end to end (issue #8): automation records over TCP → bridge → emulator, and the receiver link's
 * heartbeats supervising a pseudo-account (silence → trouble/active, heartbeat again → trouble/inactive).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { buildSurgardCid, buildSurgardHeartbeat, buildSurgardSia, withTerminator } from '../../src/protocols/surgard/index.js';
import { startTestBridge, type TestBridge } from '../server/harness.js';
import { emulatorSink, until } from './api-harness.js';

let emulator: Emulator | null = null;
let bridge: TestBridge | null = null;
afterEach(async () => {
  await bridge?.stop();
  await emulator?.close();
});

describe('Sur-Gard receiver output into the Partner API', () => {
  it('maps records like DC-09 and supervises the receiver link through its heartbeats', async () => {
    emulator = await startEmulator({ quiet: true });
    const accounts = {
      '7037': { locationId: 'LOC-7037', cameraId: 'cam-7037', zones: { '4': { cameraId: 'cam-z4', name: 'Stock room' } } },
      SG1: {
        locationId: 'LOC-CS',
        cameraId: 'cam-cs',
        supervision: { intervalSeconds: 1, graceSeconds: 0.5 },
        signalToMonitoringCenter: { alarm: true, trouble: true, arming: false },
      },
    };
    const { sink } = await emulatorSink(emulator);
    bridge = await startTestBridge({
      accounts,
      listeners: [{ protocol: 'surgard', transport: 'tcp', host: '127.0.0.1', port: 0, heartbeatAccount: 'SG1' }],
      sink,
      log: { level: 'warn' },
    });
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: bridge!.bridge.port('tcp', 'surgard') }, () => resolve(s));
    });
    const acks: number[] = [];
    socket.on('data', (d) => acks.push(...d));

    socket.write(withTerminator(buildSurgardHeartbeat()));
    socket.write(
      withTerminator(
        buildSurgardCid({ receiver: '01', line: '1', account: '7037', qualifier: 'E', code: '130', group: '01', zone: '004' }),
      ),
    );
    socket.write(withTerminator(buildSurgardSia({ receiver: '01', line: '1', data: '#7037|Nri1/CL3' })));
    await until(() => acks.length === 3);
    expect(acks).toEqual([0x06, 0x06, 0x06]);
    await until(() => emulator!.events().length === 2);
    const [alarm, arming] = emulator.events().map((e) => e.body as any);
    expect(alarm).toMatchObject({ location_id: 'LOC-7037', camera_id: 'cam-z4', event_type: 'alarm', event_status: 'active' });
    expect(alarm.payload).toMatchObject({ receiver: '01', line: '1', zoneName: 'Stock room', qualifier: '1' });
    expect(arming).toMatchObject({ event_type: 'arming', event_status: 'active' });

    // Silence: the pseudo-account's window (interval + grace) passes → one communication failure.
    await until(() => emulator!.events().length === 3, 8000);
    const failure = emulator.events()[2]!.body as any;
    expect(failure).toMatchObject({
      location_id: 'LOC-CS',
      event_type: 'trouble',
      event_status: 'active',
      should_signal_to_monitoring_center: true,
    });
    await new Promise((r) => setTimeout(r, 1800));
    expect(emulator.events()).toHaveLength(3); // no repeats while it stays down

    socket.write(withTerminator(buildSurgardHeartbeat()));
    await until(() => emulator!.events().length === 4);
    expect(emulator.events()[3]!.body).toMatchObject({ location_id: 'LOC-CS', event_type: 'trouble', event_status: 'inactive' });
    socket.destroy();
  }, 30_000);
});
