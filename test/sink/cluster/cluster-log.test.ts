/** The cluster log against real nats-server processes on loopback (docs/cluster.md §3). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../../server/harness.js';

let nats: NatsCluster;
let running: TestBridge[] = [];
beforeAll(async () => {
  nats = await startNatsCluster(1);
}, 30_000);
afterAll(() => nats?.stop());
afterEach(async () => {
  await Promise.allSettled(running.map((b) => b.stop()));
  running = [];
});

const frame = (account: string, data: string, seq: string) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data, timestamp: new Date() });

describe('cluster log', () => {
  it('ACKs a frame once its events are in the stream, each with its event_id as message id', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      cluster: { nats: { servers: nats.urls }, replicas: 1, instance: 'bridge-a' },
      // Nothing answers there: the delivering instance keeps retrying, so the event stays in the stream to be looked at.
      sink: { type: 'partner-api', baseUrl: 'http://127.0.0.1:1', auth: { apiKey: 'test-api-key' } },
    });
    running.push(b);
    const panel = await TcpPanel.open(b.bridge.port('tcp'));
    panel.write(frame('1234', '#1234|NBA1', '0001'));
    const [reply] = await panel.waitForReplies(1);
    expect(text(reply)).toContain('"ACK"');
    panel.end();
    const { jsm, js } = b.bridge.cluster!.runtime.connection;
    const info = await jsm.streams.info('ALARM_EVENTS');
    expect(info.state.messages).toBe(1);
    const stored = await (await js.streams.get('ALARM_EVENTS')).getMessage({ seq: info.state.first_seq });
    const event = stored!.json<{ account: string; body: { event_id: string } }>();
    expect(event.account).toBe('1234');
    expect(stored!.header?.get('Nats-Msg-Id')).toBe(event.body.event_id);
  }, 30_000);
});
