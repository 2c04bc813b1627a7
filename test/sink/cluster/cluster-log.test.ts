/** The cluster log against real nats-server processes on loopback (docs/cluster.md §3). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { openClusterLog } from '../../../src/sink/cluster/cluster-log.js';
import { StartupError } from '../../../src/startup-error.js';
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
  it('start-up: more replicas than NATS servers is an error naming cluster.stream and what to check', async () => {
    const config = parseConfig({ cluster: { nats: { servers: nats.urls }, replicas: 3, stream: 'TOO_MANY' } }, '/tmp/bridge.json');
    const error = await openClusterLog(config.cluster!, {
      logger: createLogger({ level: 'silent' }),
      duplicateWindowSeconds: 120,
      storesWaitMs: 1000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).what).toMatch(/^cluster\.stream: JetStream did not set up stream TOO_MANY with 3 replicas/);
    expect((error as StartupError).fix).toMatch(/cluster\.replicas/);
  }, 30_000);

  it('ACKs a frame once its events are in the stream, each with its event_id as message id', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      cluster: { nats: { servers: nats.urls }, replicas: 1, instance: 'bridge-a' },
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
