/**
 * The cluster deployment examples (docs/cluster.md §10) pass the servers' own checks (`nats-server -t`, `haproxy -c`)
 * and agree with config.cluster.example.json and with each other on ports, user and store directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haproxyBinary } from '../cluster/haproxy.js';
import { natsServerBinary } from '../cluster/nats-servers.js';

const ROOT = new URL('../../', import.meta.url);
const path = (file: string) => new URL(file, ROOT).pathname;
const read = (file: string) => readFile(path(file), 'utf8');

const check = (binary: string, args: string[]) => {
  const run = spawnSync(binary, args, { encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
};

/** Runs a server's own configuration check on `file` and on a copy broken by `breakIt`: the first passes, the second not. */
async function expectCheckedAndRefused(
  file: string,
  command: (file: string) => [string, string[]],
  valid: string,
  breakIt: (text: string) => string,
) {
  const ok = check(...command(path(file)));
  expect(ok.output).toContain(valid);
  expect(ok.code).toBe(0);
  const dir = await mkdtemp(join(tmpdir(), 'deploy-check-'));
  try {
    const broken = join(dir, 'broken');
    await writeFile(broken, breakIt(await read(file)));
    expect(check(...command(broken)).code).not.toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('deploy/nats-server.conf', () => {
  it('passes nats-server -t, which refuses a broken copy', () =>
    expectCheckedAndRefused(
      'deploy/nats-server.conf',
      (f) => [natsServerBinary(), ['-t', '-c', f]],
      'is valid',
      (text) => text.replace('store_dir:', 'store_directory:'),
    ));

  it('keeps JetStream in the directory the systemd drop-in creates, and has the user the example bridge uses', async () => {
    const conf = await read('deploy/nats-server.conf');
    const dropIn = await read('deploy/nats-server.service.d/alarm-bridge.conf');
    const stateDirectory = /^StateDirectory=(\S+)$/m.exec(dropIn)?.[1];
    expect(/store_dir: (\S+)/.exec(conf)?.[1]).toBe(`/var/lib/${stateDirectory}`);
    const example = JSON.parse(await read('config.cluster.example.json'));
    expect(conf).toContain(`{ user: ${example.cluster.nats.user}, password:`);
    const clientPort = /^listen: [\d.]+:(\d+)$/m.exec(conf)?.[1];
    for (const server of example.cluster.nats.servers as string[]) expect(new URL(server).port).toBe(clientPort);
    // Three servers, each listed as a route, matching the example bridge's servers.
    const routeHosts = [...conf.matchAll(/nats-route:\/\/[^@\s]+@([\d.]+):\d+/g)].map((m) => m[1]);
    expect(routeHosts).toEqual((example.cluster.nats.servers as string[]).map((s) => new URL(s).hostname));
  });
});

describe('deploy/nats-server.service.d/alarm-bridge.conf', () => {
  /** systemd's own check of Debian's nats-server.service with the drop-in beside it: what it says about the drop-in. */
  async function verifyDropIn(dropIn: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'nats-unit-'));
    try {
      await writeFile(join(dir, 'nats-server.service'), await readFile('/lib/systemd/system/nats-server.service'));
      await mkdir(join(dir, 'nats-server.service.d'));
      await writeFile(join(dir, 'nats-server.service.d', 'alarm-bridge.conf'), dropIn);
      const run = spawnSync('systemd-analyze', ['verify', 'nats-server.service'], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      });
      expect(run.error).toBeUndefined();
      return `${run.stdout}${run.stderr}`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("extends Debian's nats-server.service with settings systemd knows (systemd-analyze verify)", async () => {
    const dropIn = await read('deploy/nats-server.service.d/alarm-bridge.conf');
    expect(await verifyDropIn(dropIn)).not.toContain('alarm-bridge.conf');
    expect(await verifyDropIn(`${dropIn}StateDirectoryMod=0750\n`)).toMatch(/alarm-bridge\.conf:\d+: Unknown key/);
  });
});

describe('deploy/haproxy.cfg', () => {
  it('passes haproxy -c, which refuses a broken copy', () =>
    expectCheckedAndRefused(
      'deploy/haproxy.cfg',
      (f) => [haproxyBinary(), ['-c', '-f', f]],
      'Configuration file is valid',
      (text) => text.replace('default-server send-proxy-v2', 'default-server send-proxy-v9'),
    ));

  it("sends PROXY v2 to each bridge's DC-09 port and checks /readyz on its status server port", async () => {
    const cfg = await read('deploy/haproxy.cfg');
    const example = JSON.parse(await read('config.cluster.example.json'));
    const tcp = (example.listeners as Array<{ transport: string; port: number; proxyProtocol?: boolean }>).find(
      (l) => l.transport === 'tcp',
    )!;
    expect(tcp.proxyProtocol).toBe(true);
    expect(/^\s*option httpchk GET \/readyz$/m.test(cfg)).toBe(true);
    const defaults = /^\s*default-server (.*)$/m.exec(cfg)?.[1] ?? '';
    expect(defaults.split(/\s+/)).toEqual(expect.arrayContaining(['send-proxy-v2', 'check', 'port', String(example.http.port)]));
    const servers = [...cfg.matchAll(/^\s*server \S+ [\d.]+:(\d+)/gm)].map((m) => Number(m[1]));
    expect(servers).toHaveLength(3);
    for (const port of servers) expect(port).toBe(tcp.port);
  });
});
