/**
 * Issue 16: a bridge behind a real HAProxy that prepends PROXY protocol headers (docs/proxy-protocol.md §6) logs
 * each panel's own address, not the balancer's. The panel connects from 127.0.0.2; HAProxy reaches the bridge
 * from 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { buildRequest, Dc09Framer } from '../../src/protocols/dc09/index.js';
import { startTestBridge, text, type TestBridge } from '../server/harness.js';
import { haproxyBinary, startHaproxy, type Haproxy } from './haproxy.js';

const ACCOUNTS = { '1234': { locationId: 'LOC', cameraId: 'cam' } };
const PANEL_ADDRESS = '127.0.0.2';

/** Sends one frame from `localAddress` and resolves the reply and the client's own port. */
function sendFrom(port: number, localAddress: string, frame: Buffer): Promise<{ reply: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const framer = new Dc09Framer();
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(frame));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no reply through haproxy within 5 s'));
    }, 5000);
    socket.on('data', (chunk) => {
      const [reply] = framer.push(chunk).frames;
      if (!reply) return;
      clearTimeout(timer);
      const localPort = socket.localPort!;
      socket.destroy();
      resolve({ reply: text(reply), localPort });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe.each(['send-proxy-v2', 'send-proxy'] as const)('a bridge behind HAProxy with %s', (sendProxy) => {
  let bridge: TestBridge;
  let haproxy: Haproxy;

  beforeAll(async () => {
    bridge = await startTestBridge({
      accounts: ACCOUNTS,
      listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 0, proxyProtocol: true }],
    });
    haproxy = await startHaproxy({ backends: [bridge.bridge.port('tcp')], sendProxy });
  });

  afterAll(async () => {
    await haproxy?.stop();
    await bridge?.stop();
  });

  it("ACKs the panel's frame and logs the panel's address, not HAProxy's", async () => {
    const frame = buildRequest({ token: 'NULL', sequence: '0001', line: '0', account: '1234', data: '', timestamp: new Date() });
    const { reply, localPort } = await sendFrom(haproxy.port, PANEL_ADDRESS, frame);
    expect(reply, haproxy.output()).toContain('"ACK"');
    const logs = bridge.logs();
    expect(logs).toContain(`"peer":"${PANEL_ADDRESS}:${localPort}","transport":"tcp"`);
    expect(logs).not.toMatch(/"peer":"127\.0\.0\.1:\d+","transport":"tcp"/);
    // The readiness probe may leave a connection HAProxy closes before its header ('closed'): anything else is a bad header.
    const rejected = (await bridge.bridge.metrics.proxyHeaderRejected.get()).values.filter((v) => v.labels.reason !== 'closed');
    expect(rejected).toEqual([]);
  });
});

describe('the HAProxy setup in docs/proxy-protocol.md §6', () => {
  const guide = readFileSync(new URL('../../docs/proxy-protocol.md', import.meta.url), 'utf8');
  const section = guide.slice(guide.indexOf('## 6. '), guide.indexOf('## 7. '));
  const block = (language: string) => new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\`\`\``).exec(section)?.[1] ?? '';

  it('is a configuration haproxy -c accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alarm-bridge-haproxy-doc-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), block(''));
      const check = spawnSync(haproxyBinary(), ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      expect(check.stdout + check.stderr).toContain('Configuration file is valid');
      expect(block('')).toContain('send-proxy-v2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("and a bridge listener the bridge's config loader accepts", () => {
    const listener = JSON.parse(block('json')) as Record<string, unknown>;
    expect(parseConfig({ listeners: [listener] }, 'bridge.json').listeners[0]).toMatchObject({ proxyProtocol: true, transport: 'tcp' });
  });
});
