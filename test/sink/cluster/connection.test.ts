/**
 * The connection to NATS (docs/cluster.md §2; docs/cluster.md §11): a bridge whose NATS servers do not answer does
 * not start (status 2, the error names `cluster.nats.servers`); the NATS password and token never reach a log line
 * or an error.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { StartupError } from '../../../src/startup-error.js';
import { startNatsCluster, type NatsCluster } from '../../cluster/nats-servers.js';
import { until } from '../../e2e/api-harness.js';
import { BIN } from '../../e2e/bridge-process.js';
import { freePort, startTestBridge, TcpPanel, text, type TestBridge } from '../../server/harness.js';

const PASSWORD = 'nats-pass-5c1e';
const TOKEN = 'nats-token-90ad';
const URL_PASSWORD = 'url-pass-77e0';

let withPassword: NatsCluster;
let withToken: NatsCluster;
/** Its user may not publish account 4321's events (a NATS permission set wrong). */
let denying: NatsCluster;
beforeAll(async () => {
  [withPassword, withToken, denying] = await Promise.all([
    startNatsCluster(1, { authorization: { user: 'bridge', password: PASSWORD } }),
    startNatsCluster(1, { authorization: { token: TOKEN } }),
    startNatsCluster(1, { authorization: { user: 'bridge', password: PASSWORD, denyPublish: ['ALARM_EVENTS.events.4321'] } }),
  ]);
}, 30_000);
afterAll(() => Promise.all([withPassword?.stop(), withToken?.stop(), denying?.stop()]));

/** Each sequence number its own event (the same data and time twice would be a retransmission). */
const frame = (seq: string) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account: '1234', data: `#1234|NBA${Number(seq)}`, timestamp: new Date() });

async function ack(b: TestBridge, seq: string): Promise<string> {
  const panel = await TcpPanel.open(b.bridge.port('tcp'));
  panel.write(frame(seq));
  const [reply] = await panel.waitForReplies(1, 10_000);
  panel.end();
  return text(reply);
}

const clusterSection = (servers: string[], nats: Record<string, unknown>) => ({
  nats: { servers, ...nats },
  replicas: 1,
  instance: 'bridge-a',
});

describe('NATS connection', () => {
  it('serve exits with status 2 and an error naming cluster.nats.servers when no NATS server answers (no password in it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cluster-start-'));
    const closed = await freePort();
    const configPath = join(dir, 'bridge.json');
    await writeFile(
      configPath,
      JSON.stringify({
        listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0 }],
        sink: { type: 'file', path: 'events.ndjson' },
        accounts: {},
        cluster: clusterSection([`nats://bridge:${URL_PASSWORD}@127.0.0.1:${closed}`], { user: 'bridge', password: PASSWORD }),
      }),
    );
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('cluster.nats.servers');
    expect(stderr).toContain(`127.0.0.1:${closed}`);
    for (const secret of [PASSWORD, URL_PASSWORD]) expect(stdout + stderr).not.toContain(secret);
  }, 30_000);

  it('never logs the NATS password, through connecting, publishing, a lost server and its return', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      cluster: clusterSection(withPassword.urls, { user: 'bridge', password: PASSWORD }),
    });
    try {
      expect(await ack(b, '0001')).toContain('"ACK"');
      const { connection } = b.bridge.cluster!.runtime;
      await withPassword.kill(0);
      await until(() => !connection.connected, 5000);
      expect(await ack(b, '0002')).toContain('"NAK"');
      await withPassword.restart(0);
      await until(async () => (await ack(b, '0003')).includes('"ACK"'), 20_000);
      expect(b.logs()).toContain('does not store events');
      expect(b.logs()).toContain('stores events again');
      expect(b.logs()).not.toContain(PASSWORD);
    } finally {
      await b.stop();
    }
  }, 60_000);

  it('a publish the NATS permissions refuse is NAKed as not accepted, naming the violation, not after the publish timeout as if the store were down', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' }, '4321': { locationId: 'LOC2', cameraId: 'cam' } },
      // The NAK must come from the violation: a timeout would take longer than the panel waits below.
      cluster: { ...clusterSection(denying.urls, { user: 'bridge', password: PASSWORD }), publishTimeoutSeconds: 60 },
    });
    try {
      expect(await ack(b, '0001')).toContain('"ACK"');
      const panel = await TcpPanel.open(b.bridge.port('tcp'));
      panel.write(
        buildRequest({ token: 'SIA-DCS', sequence: '0002', line: '0', account: '4321', data: '#4321|NBA2', timestamp: new Date() }),
      );
      const [reply] = await panel.waitForReplies(1, 10_000);
      panel.end();
      expect(text(reply)).toContain('"NAK"');
      expect(b.logs()).toContain('Permissions Violation for Publish to');
      expect(b.logs()).toContain('ALARM_EVENTS.events.4321');
      expect(b.logs()).toContain('events not accepted');
      expect(b.logs()).not.toContain('does not store events');
    } finally {
      await b.stop();
    }
  }, 60_000);

  it('never logs the NATS token', async () => {
    const b = await startTestBridge({
      accounts: { '1234': { locationId: 'LOC', cameraId: 'cam' } },
      cluster: clusterSection(withToken.urls, { token: TOKEN }),
    });
    try {
      expect(await ack(b, '0001')).toContain('"ACK"');
      expect(b.logs()).toContain('NATS: connected');
      expect(b.logs()).not.toContain(TOKEN);
    } finally {
      await b.stop();
    }
  }, 30_000);

  it('a refused password is a start-up error naming the servers, without the password', async () => {
    const wrong = `${PASSWORD}-wrong`;
    const failure = await startTestBridge({
      accounts: {},
      cluster: clusterSection(withPassword.urls, { user: 'bridge', password: wrong }),
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StartupError);
    const message = `${(failure as StartupError).message} ${(failure as StartupError).fix}`;
    expect(message).toContain('cluster.nats.servers');
    expect(message).not.toContain(wrong);
  }, 30_000);
});
