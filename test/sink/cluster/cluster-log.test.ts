/** The cluster log against real nats-server processes on loopback (docs/cluster.md §3). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { errors } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { openClusterLog, publishFailure } from '../../../src/sink/cluster/cluster-log.js';
import { StartupError } from '../../../src/startup-error.js';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { decodeEventMessage, readEventMessage } from '../../../src/sink/cluster/event-message.js';
import { ensureClusterStores } from '../../../src/sink/cluster/streams.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { UNDELIVERABLE_SINK } from '../../cluster/undeliverable-sink.js';
import { until } from '../../e2e/api-harness.js';
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

const CAMERA_PASSWORD = 'cam-pass-4411';
const ACCOUNTS = {
  '1234': { locationId: 'LOC', cameraId: 'cam' },
  '5555': {
    locationId: 'LOC5',
    cameraId: 'cam5',
    zones: {
      '7': {
        snapshotUrl: 'http://127.0.0.1:9/zone7.jpg?sig=zone-signature',
        snapshotUsername: 'cam-user',
        snapshotPassword: CAMERA_PASSWORD,
      },
    },
  },
};

const frame = (account: string, data: string, seq: string, timestamp = new Date()) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data, timestamp });

async function clusterBridge(stream: string, cluster: Record<string, unknown> = {}): Promise<TestBridge> {
  const b = await startTestBridge({
    accounts: ACCOUNTS,
    sink: UNDELIVERABLE_SINK,
    cluster: { nats: { servers: nats.urls }, replicas: 1, instance: `bridge-${running.length + 1}`, stream, ...cluster },
  });
  running.push(b);
  return b;
}

/** Sends one frame on a new connection and returns the reply's text. */
async function exchange(b: TestBridge, bytes: Buffer | string, timeoutMs = 5000): Promise<string> {
  const panel = await TcpPanel.open(b.bridge.port('tcp'));
  try {
    panel.write(bytes);
    const [reply] = await panel.waitForReplies(1, timeoutMs);
    return text(reply);
  } finally {
    panel.end();
  }
}

async function storedMessages(b: TestBridge, stream: string) {
  const { jsm, js } = b.bridge.cluster!.runtime.connection;
  const info = await jsm.streams.info(stream);
  const handle = await js.streams.get(stream);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await handle.getMessage({ seq });
    if (message) out.push(message);
  }
  return out;
}

async function rejections(b: TestBridge): Promise<Record<string, number>> {
  const metric = await b.bridge.metrics.rejections.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('publish failures', () => {
  const disconnected = new errors.RequestError('connection disconnected');
  it.each([
    ['a timeout', new errors.TimeoutError(), 'store-unavailable', /no acknowledgement within 5 s/],
    ['a request timing out', new errors.RequestError('timeout', { cause: new errors.TimeoutError() }), 'store-unavailable', /within 5 s/],
    [
      'no responders',
      new errors.RequestError('', { cause: new errors.NoRespondersError('ALARM_EVENTS.events.1234') }),
      'store-unavailable',
      /no responders/,
    ],
    [
      'a 503',
      new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' }),
      'store-unavailable',
      /503/,
    ],
    ['a closed connection', new errors.ClosedConnectionError(), 'store-unavailable', /connection is lost/],
    ['a request cut by a disconnection', disconnected, 'store-unavailable', /connection is lost \(RequestError: connection disconnected\)/],
    [
      'a permission violation',
      new errors.PermissionViolationError('not allowed', 'publish', 'ALARM_EVENTS.events.1234'),
      'write-failed',
      /not allowed/,
    ],
    [
      'a message too large',
      new JetStreamApiError({ code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' }),
      'write-failed',
      /size/,
    ],
  ])('%s is %s', (_name, err, refusal, what) => {
    const failure = publishFailure(err, 5);
    expect(failure.refusal).toBe(refusal);
    expect(failure.what).toMatch(what);
  });
});

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
    const b = await clusterBridge('ACK_CONTRACT');
    expect(await exchange(b, frame('1234', '#1234|NBA1', '0001'))).toContain('"ACK"');
    const [stored, ...more] = await storedMessages(b, 'ACK_CONTRACT');
    expect(more).toHaveLength(0);
    const read = readEventMessage(stored!.data);
    expect(read).toMatchObject({ ok: true, message: { v: 1, account: '1234' } });
    expect(read.ok && stored!.header?.get('Nats-Msg-Id')).toBe(read.ok && read.message.body.event_id);
  }, 30_000);

  it('reports the pending events and the age of the oldest in status()', async () => {
    const b = await clusterBridge('STATUS');
    const log = b.bridge.cluster!;
    expect(log.status()).toEqual({ depth: 0, oldestAgeSeconds: 0, state: 'running', inFlight: 0 });
    expect(await exchange(b, frame('1234', '#1234|NBA1', '0001'))).toContain('"ACK"');
    expect(await exchange(b, frame('1234', '#1234|NBA2', '0002'))).toContain('"ACK"');
    // Refreshed by a timer (at most once a second), not by the frames.
    await until(() => log.status().depth === 2, 5000);
    expect(log.status().oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    await until(() => log.status().oldestAgeSeconds >= 1, 5000);
    await b.stop();
    expect(log.status().state).toBe('closed');
  }, 30_000);

  it('stores no camera password: the stored source is a reference resolved from the configuration at delivery', async () => {
    const b = await clusterBridge('MEDIA');
    expect(await exchange(b, frame('5555', '#5555|NBA007', '0001'))).toContain('"ACK"');
    const [stored] = await storedMessages(b, 'MEDIA');
    const raw = Buffer.from(stored!.data).toString('utf8');
    for (const secret of [CAMERA_PASSWORD, 'zone-signature', 'cam-user']) expect(raw).not.toContain(secret);
    const log = b.bridge.cluster!;
    expect(decodeEventMessage(stored!.data, log.accounts())).toMatchObject({
      ok: true,
      event: {
        account: '5555',
        media: { snapshotUrl: expect.stringContaining('zone-signature'), username: 'cam-user', password: CAMERA_PASSWORD },
      },
    });
    // A reload's accounts are the ones delivery resolves against from then on.
    const { pipeline } = b.bridge;
    const zones = { '7': { snapshotUrl: 'http://127.0.0.1:9/zone7.jpg', snapshotPassword: 'rotated' } };
    pipeline.reconfigure({ ...pipeline.currentConfig, accounts: { '5555': { ...pipeline.currentConfig.accounts['5555']!, zones } } });
    expect(decodeEventMessage(stored!.data, log.accounts())).toMatchObject({ ok: true, event: { media: { password: 'rotated' } } });
  }, 30_000);

  it('a retransmission of a timestamped frame to another instance is stored once, and both ACK', async () => {
    const a = await clusterBridge('RESEND');
    const other = await clusterBridge('RESEND');
    const sent = frame('1234', '#1234|NBA3', '0007', new Date());
    expect(await exchange(a, sent)).toContain('"ACK"');
    expect(await exchange(other, sent)).toContain('"ACK"');
    expect(await storedMessages(a, 'RESEND')).toHaveLength(1);
    const info = await a.bridge.cluster!.runtime.connection.jsm.streams.info('RESEND');
    expect(info.state.messages).toBe(1);
  }, 30_000);

  it('NAKs while the stream refuses (no stream answers), says so once, and ACKs again once it stores', async () => {
    const b = await clusterBridge('REFUSES');
    const { runtime } = b.bridge.cluster!;
    expect(await exchange(b, frame('1234', '#1234|NBA1', '0001'))).toContain('"ACK"');
    await runtime.connection.jsm.streams.delete('REFUSES');
    expect(await exchange(b, frame('1234', '#1234|NBA2', '0002'))).toContain('"NAK"');
    expect(await exchange(b, frame('1234', '#1234|NBA3', '0003'))).toContain('"NAK"');
    expect(await rejections(b)).toEqual({ 'store-unavailable': 2 });
    const warnings = b
      .logs()
      .split('\n')
      .filter((l) => l.includes('does not store events'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(nats.urls[0]!.replace('nats://', ''));

    // Nothing to store is no sign of recovery.
    await b.bridge.cluster!.append([]);
    expect(b.logs()).not.toContain('stores events again');
    expect(b.bridge.cluster!.health().publishProblem).toMatch(/no responders|503/);

    await ensureClusterStores(runtime.connection, runtime.config, 120);
    expect(await exchange(b, frame('1234', '#1234|NBA4', '0004'))).toContain('"ACK"');
    expect(
      b
        .logs()
        .split('\n')
        .filter((l) => l.includes('stores events again')),
    ).toHaveLength(1);
    expect(await storedMessages(b, 'REFUSES')).toHaveLength(1);
  }, 30_000);

  // Last: it stops the file's NATS server for a while.
  it('refuses at once while NATS is disconnected (not after the publish timeout), and ACKs again by itself', async () => {
    const b = await clusterBridge('DISCONNECT', { publishTimeoutSeconds: 120 });
    const { connection } = b.bridge.cluster!.runtime;
    expect(await exchange(b, frame('1234', '#1234|NBA1', '0001'))).toContain('"ACK"');
    await nats.kill(0);
    await until(() => !connection.connected, 5000);
    // A frame waiting for the 120 s publish timeout would miss this 5 s reply window.
    expect(await exchange(b, frame('1234', '#1234|NBA2', '0002'), 5000)).toContain('"NAK"');
    expect(await rejections(b)).toEqual({ 'store-unavailable': 1 });
    expect(b.bridge.cluster!.health()).toMatchObject({
      connected: false,
      server: null,
      publishProblem: expect.stringContaining('disconnected'),
    });

    await nats.restart(0);
    await until(() => connection.connected, 15_000);
    let reply = '';
    await until(async () => (reply = await exchange(b, frame('1234', '#1234|NBA3', '0003'), 10_000)).includes('"ACK"'), 20_000);
    expect(reply).toContain('"ACK"');
    expect(await storedMessages(b, 'DISCONNECT')).toHaveLength(2);
  }, 60_000);
});
