/**
 * Real `nats-server` processes (Debian's package) for the cluster tests: one node, or three clustered with
 * JetStream. Every port is on 127.0.0.1 and the cluster advertises no other address (`no_advertise`), so test
 * traffic stays on loopback. A missing binary fails the test with the command that installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../server/harness.js';
import { debianBinary } from './debian-binary.js';

export const natsServerBinary = (): string => debianBinary('nats-server');

export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly url: string;
  process: ChildProcess | null;
  /** Output of the current process (for a failing test's message). */
  output: string;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Client URLs of every node, for `cluster.nats.servers`. */
  readonly urls: string[];
  /** SIGKILLs a node (its JetStream files stay, as after a crash). */
  kill(index: number): Promise<void>;
  /** Starts a killed node again with its files. */
  restart(index: number): Promise<void>;
  /** Stops every node and removes the files. */
  stop(): Promise<void>;
}

export interface NatsOptions {
  /** Clients must authenticate: with this user and password (who may not publish to `denyPublish`), or this token. */
  authorization?: { user: string; password: string; denyPublish?: string[] } | { token: string };
  /** Where ports come from (default `freePort`; a test hands out a taken one first). */
  freePort?: () => Promise<number>;
}

const denied = (subjects: string[] | undefined) =>
  subjects ? `, permissions: { publish: { deny: [${subjects.map((x) => `"${x}"`).join(', ')}] } }` : '';

function configFor(node: NatsNode, all: readonly NatsNode[], storeDir: string, options: NatsOptions): string {
  const lines = [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.clientPort}`,
    `jetstream { store_dir: "${storeDir}", max_memory_store: 64MB, max_file_store: 2GB }`,
  ];
  const auth = options.authorization;
  if (auth)
    lines.push(
      'token' in auth
        ? `authorization { token: "${auth.token}" }`
        : `authorization { users: [ { user: "${auth.user}", password: "${auth.password}"${denied(auth.denyPublish)} } ] }`,
    );
  if (all.length > 1) {
    const routes = all.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.clusterPort}`);
    lines.push(`cluster { name: alarm-test, listen: 127.0.0.1:${node.clusterPort}, no_advertise: true, routes: [${routes.join(', ')}] }`);
  }
  return lines.join('\n') + '\n';
}

async function waitForPort(node: NatsNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!node.output.includes('Server is ready')) {
    if (node.process === null || node.process.exitCode !== null) throw new Error(`nats-server ${node.name} exited:\n${node.output}`);
    if (Date.now() > deadline) throw new Error(`nats-server ${node.name} not ready in ${timeoutMs} ms:\n${node.output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Times a cluster is started on fresh ports when one of them was taken meanwhile. */
const PORT_ATTEMPTS = 3;

/** Starts `size` nodes (1 or 3) and waits until every one is ready for clients. */
export async function startNatsCluster(size: 1 | 3 = 3, options: NatsOptions = {}): Promise<NatsCluster> {
  const binary = natsServerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'alarm-bridge-nats-'));
  const nodes: NatsNode[] = [];
  const port = options.freePort ?? freePort;
  const pickPorts = async () => {
    nodes.length = 0;
    for (let i = 0; i < size; i++) {
      const clientPort = await port();
      const clusterPort = await port();
      nodes.push({ name: `n${i + 1}`, clientPort, clusterPort, url: `nats://127.0.0.1:${clientPort}`, process: null, output: '' });
    }
  };
  const start = async (node: NatsNode) => {
    const store = join(dir, node.name);
    await mkdir(store, { recursive: true });
    const config = join(dir, `${node.name}.conf`);
    await writeFile(config, configFor(node, nodes, store, options));
    node.output = '';
    const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    node.process = child;
    const collect = (chunk: Buffer) => {
      node.output = (node.output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    await waitForPort(node, 15_000);
  };
  const stopNode = async (node: NatsNode, signal: NodeJS.Signals) => {
    const child = node.process;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  // A free port can be taken by another test file's server between `freePort` and nats-server's bind: then the
  // cluster starts again on new ports (a few times), rather than failing the file.
  for (let attempt = 1; ; attempt++) {
    await pickPorts();
    try {
      // Every start settles (ready or failed) before a failure is handled, so no server is left running unseen.
      const started = await Promise.allSettled(nodes.map(start));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      break;
    } catch (err) {
      await Promise.all(nodes.map((n) => stopNode(n, 'SIGKILL')));
      const portTaken = nodes.some((n) => n.output.includes('address already in use'));
      if (portTaken && attempt < PORT_ATTEMPTS) {
        for (const n of nodes) await rm(join(dir, n.name), { recursive: true, force: true });
        continue;
      }
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    kill: (index) => stopNode(nodes[index] as NatsNode, 'SIGKILL'),
    restart: (index) => start(nodes[index] as NatsNode),
    async stop() {
      await Promise.all(nodes.map((n) => stopNode(n, 'SIGTERM')));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
