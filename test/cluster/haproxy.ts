/**
 * A real HAProxy (Debian's `haproxy` package) in TCP mode for the tests: one frontend on a free 127.0.0.1 port
 * relaying to backend servers on loopback, optionally with a PROXY protocol header (`send-proxy` for v1,
 * `send-proxy-v2` for v2). Runs in the foreground (`-db`) as a child process; nothing goes to syslog. A missing
 * binary fails the test with the command that installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../server/harness.js';
import { debianBinary } from './debian-binary.js';

export const haproxyBinary = (): string => debianBinary('haproxy');

export interface HaproxyOptions {
  /** Loopback ports of the backend servers (round robin). */
  backends: number[];
  /** The header HAProxy writes first on each backend connection; `none` relays the bytes alone. */
  sendProxy?: 'send-proxy' | 'send-proxy-v2' | 'none';
}

export interface Haproxy {
  /** The frontend's port on 127.0.0.1. */
  readonly port: number;
  /** What the process wrote (for a failing test's message). */
  readonly output: () => string;
  /** Stops the process and removes its configuration. */
  stop(): Promise<void>;
}

function configFor(port: number, { backends, sendProxy = 'send-proxy-v2' }: HaproxyOptions): string {
  const option = sendProxy === 'none' ? '' : ` ${sendProxy}`;
  return [
    'global',
    '  maxconn 1024',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend panels',
    `  bind 127.0.0.1:${port}`,
    '  default_backend bridges',
    'backend bridges',
    '  balance roundrobin',
    ...backends.map((backend, i) => `  server b${i + 1} 127.0.0.1:${backend}${option}`),
    '',
  ].join('\n');
}

/** Resolves once a TCP connection to `port` succeeds (the probe is closed at once). */
async function untilAccepting(port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`haproxy exited:\n${output()}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: '127.0.0.1', port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`haproxy not accepting on 127.0.0.1:${port} within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const binary = haproxyBinary();
  const dir = await mkdtemp(join(tmpdir(), 'alarm-bridge-haproxy-'));
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  await writeFile(config, configFor(port, options));
  let output = '';
  const child = spawn(binary, ['-f', config, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilAccepting(port, child, () => output, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, output: () => output, stop };
}
