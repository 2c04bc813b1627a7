import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenersFromOption, parseListen } from '../../src/cli/listen-option.js';
import { UsageError } from '../../src/cli/frame-input.js';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { BIN, spawnBridge, type BridgeProcess } from '../e2e/bridge-process.js';
import { freePort, TcpPanel, text, udpExchange } from '../server/harness.js';

const dc09 = (transport: 'tcp' | 'udp', host: string, port: number) => ({
  protocol: 'dc09',
  transport,
  host,
  port,
  closeAfterReplyMs: null,
  proxyProtocol: false,
});

describe('serve --listen', () => {
  it.each([
    ['127.0.0.1:12128', [dc09('tcp', '127.0.0.1', 12128), dc09('udp', '127.0.0.1', 12128)]],
    ['tcp://0.0.0.0:9000', [dc09('tcp', '0.0.0.0', 9000)]],
    ['udp://[::1]:0', [dc09('udp', '::1', 0)]],
    ['receiver.example.net:12128', [dc09('tcp', 'receiver.example.net', 12128), dc09('udp', 'receiver.example.net', 12128)]],
  ])('%s', (value, expected) => {
    expect(parseListen(value)).toEqual(expected);
  });

  it.each(['12128', '127.0.0.1', '127.0.0.1:70000', 'http://127.0.0.1:80', '::1:12128', '[127.0.0.1]:1', ':12128'])(
    'refuses %s naming the option and the form',
    (value) => {
      expect(() => parseListen(value)).toThrow(UsageError);
      expect(() => parseListen(value)).toThrow(/--listen .*expected HOST:PORT/);
    },
  );

  it('refuses the same socket twice', () => {
    expect(() => listenersFromOption(['127.0.0.1:5000', 'tcp://127.0.0.1:5000'])).toThrow(/tcp:\/\/127\.0\.0\.1:5000 is given twice/);
  });
});

let bridge: BridgeProcess | null = null;
afterEach(() => {
  bridge?.child.kill('SIGKILL');
  bridge = null;
});

const frame = (seq: string) =>
  buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account: '1234', data: '#1234|NBA1', timestamp: new Date() });

describe('the README run command', () => {
  it('starts the bridge itself (not npm or npx), so signals reach it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const run = /^npm ci && (.+?)\s+#/m.exec(readme)?.[1];
    expect(run).toBe('node bin/alarm-bridge.js serve');
  });

  it('with --listen and no config: answers on TCP and UDP there, SIGHUP is logged, SIGTERM stops it with status 0', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'serve-listen-'));
    const port = await freePort();
    bridge = spawnBridge(['serve', '--listen', `127.0.0.1:${port}`], cwd);
    await bridge.logged(/"listener":"dc09\/udp\/.*"msg":"listening"/);
    const panel = await TcpPanel.open(port);
    panel.write(frame('0001'));
    expect(text((await panel.waitForReplies(1))[0])).toContain('"ACK"0001');
    panel.end();
    expect(text(await udpExchange(port, frame('0002')))).toContain('"ACK"0002');
    bridge.child.kill('SIGHUP');
    await bridge.logged(/no configuration file to reload/);
    expect(await bridge.stop('SIGTERM')).toBe(0);
  });

  it("--listen replaces the file's listeners and a SIGHUP reload does not ask for a restart because of it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serve-listen-config-'));
    const config = join(dir, 'bridge.json');
    await writeFile(
      config,
      JSON.stringify({
        listeners: [{ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port: 1 }],
        receiver: { unknownAccounts: 'accept' },
        sink: { type: 'file', path: join(dir, 'events.ndjson') },
      }),
    );
    const port = await freePort();
    bridge = spawnBridge(['serve', '--config', config, '--listen', `tcp://127.0.0.1:${port}`]);
    await bridge.logged(/"msg":"listening"/);
    bridge.child.kill('SIGHUP');
    await bridge.logged(/configuration reloaded/);
    expect(bridge.lines.some((l) => /changes need a restart/.test(l))).toBe(false);
    expect(await bridge.stop('SIGTERM')).toBe(0);
  });

  it('a bad --listen is a usage error (status 2) that names the option', async () => {
    bridge = spawnBridge(['serve', '--listen', 'localhost']);
    expect(await new Promise((resolve) => bridge!.child.once('exit', resolve))).toBe(2);
  });
});

/** `serve` as an operator starts it, with stdout and stderr kept: for failures before it runs. */
async function failedStart(config: Record<string, unknown>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'serve-fails-'));
  const path = join(dir, 'bridge.json');
  await writeFile(path, JSON.stringify(config));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', path], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stderr, stdout };
}

const tcpListener = (port: number) => ({ protocol: 'dc09', transport: 'tcp', host: '127.0.0.1', port });
const partnerSink = (privateKeyFile: string) => ({
  type: 'partner-api',
  baseUrl: 'http://127.0.0.1:1',
  auth: {
    tokenUrl: 'http://127.0.0.1:1/oauth/token',
    audience: 'aud',
    assertionAudience: 'http://127.0.0.1:1/',
    clientId: 'client',
    privateKeyFile,
  },
});
const KEY_FORMAT =
  /: expected a PKCS#8 PEM RSA private key \("-----BEGIN PRIVATE KEY-----"\); make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out partner\.key\n$/;

describe('start-up failures: one plain-text line on stderr that says what to change, status 2', () => {
  it('a listener port in use names listeners[i] and the address (and the JSON log line stays)', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as AddressInfo).port;
    try {
      const { code, stderr, stdout } = await failedStart({
        listeners: [tcpListener(0), tcpListener(busy)],
        sink: { type: 'file', path: 'events.ndjson' },
      });
      expect(stderr).toBe(
        `alarm-bridge: listeners[1] (dc09/tcp) cannot listen on 127.0.0.1:${busy} (EADDRINUSE: the address is in use): stop the other process listening there, or change listeners[1].port\n`,
      );
      expect(code).toBe(2);
      expect(stdout).toMatch(/"level":60.*"msg":"could not start"/);
    } finally {
      holder.close();
    }
  });

  it("the status server's port in use names http", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as AddressInfo).port;
    try {
      const { code, stderr } = await failedStart({
        listeners: [tcpListener(0)],
        sink: { type: 'file', path: 'events.ndjson' },
        http: { host: '127.0.0.1', port: busy },
      });
      expect(stderr).toBe(
        `alarm-bridge: http (status server) cannot listen on 127.0.0.1:${busy} (EADDRINUSE: the address is in use): stop the other process listening there, or change http.port\n`,
      );
      expect(code).toBe(2);
    } finally {
      holder.close();
    }
  });

  it('a missing private key file names sink.auth.privateKeyFile, the path and the expected format', async () => {
    const { code, stderr } = await failedStart({ listeners: [tcpListener(0)], sink: partnerSink('/nonexistent/partner.key') });
    expect(stderr).toMatch(/^alarm-bridge: sink\.auth\.privateKeyFile: cannot read \/nonexistent\/partner\.key \(ENOENT\)/);
    expect(stderr).toMatch(KEY_FORMAT);
    expect(code).toBe(2);
  });

  it('a file that is no PEM private key says so without quoting it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serve-badkey-'));
    const keyFile = join(dir, 'partner.key');
    await writeFile(keyFile, 'SECRET-NOT-A-KEY\n');
    const { code, stderr } = await failedStart({ listeners: [tcpListener(0)], sink: partnerSink(keyFile) });
    expect(stderr).toMatch(
      new RegExp(
        `^alarm-bridge: sink\\.auth\\.privateKeyFile: ${keyFile.replace(/[.]/g, '\\.')}: is not a readable PEM private key \\(ERR_[A-Z_]+\\)`,
      ),
    );
    expect(stderr).toMatch(KEY_FORMAT);
    expect(stderr).not.toContain('SECRET-NOT-A-KEY');
    expect(code).toBe(2);
  });

  it('a config error has the same form and status', async () => {
    const { code, stderr } = await failedStart({ listeners: [{ ...tcpListener(0), port: 'x' }] });
    expect(stderr).toMatch(/^alarm-bridge: .*bridge\.json: listeners\[0\]\.port: found "x" \(string\), expected an integer 0-65535\n$/);
    expect(code).toBe(2);
  });
});
