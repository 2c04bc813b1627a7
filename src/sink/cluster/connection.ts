/**
 * The connection to the NATS JetStream cluster (docs/cluster.md §2). The NATS packages are imported here, lazily, so
 * a bridge without a `cluster` section never loads them.
 */
import { readFile } from 'node:fs/promises';

import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';

import type { ClusterConfig } from '../../config/types.js';
import { describeError, redactUrl, type Logger } from '../../log.js';
import { StartupError } from '../../startup-error.js';
import { BatchPublisher, PublishError } from './publisher.js';

export interface ClusterConnection {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kvm: Kvm;
  /** Publishes events, a turn's worth in one write (docs/cluster.md §3). */
  readonly publisher: BatchPublisher;
  /** True while the client holds a connection to one of the servers (false while it reconnects). */
  readonly connected: boolean;
  /** Drains and closes the connection. */
  close(): Promise<void>;
}

/** A permission violation for a publish (nats.js reports it as a status, with the subject it refused). */
function isPublishRefusal(err: unknown): err is Error & { subject: string } {
  const e = err as { name?: unknown; operation?: unknown; subject?: unknown } | null;
  return e?.name === 'PermissionViolationError' && e.operation === 'publish' && typeof e.subject === 'string';
}

/** How long the first connection may take before start-up gives up (the client retries within it). */
export const CONNECT_TIMEOUT_MS = 5000;

/** The client's options from `cluster.nats`: servers, credentials, TLS; reconnects for ever once connected. */
export async function natsOptions(cluster: ClusterConfig): Promise<ConnectionOptions> {
  const { nats } = cluster;
  const options: ConnectionOptions = {
    servers: nats.servers,
    name: `alarm-bridge ${cluster.instance}`,
    timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    // The client otherwise builds Errors (with stacks) for every request in case it fails: about a third of the client's
    // CPU in a bridge publishing each event (docs/performance.md §7). Failures are told apart by name, not by stack.
    noAsyncTraces: true,
    reconnectTimeWait: 500,
    // Publishes made while reconnecting wait in the client's buffer; the publish timeout NAKs the frame meanwhile.
    waitOnFirstConnect: false,
  };
  if (nats.user !== undefined) options.user = nats.user;
  if (nats.password !== undefined) options.pass = nats.password;
  if (nats.token !== undefined) options.token = nats.token;
  if (nats.credsFile !== undefined) {
    const { credsAuthenticator } = await import('@nats-io/transport-node');
    options.authenticator = credsAuthenticator(await readFile(nats.credsFile));
  }
  if (nats.tls !== undefined) options.tls = { ...nats.tls };
  return options;
}

/**
 * Connects to `cluster.nats.servers`. A start-up failure names the key and what to check: the bridge does not start
 * without its durable log (docs/cluster.md §11).
 */
export async function connectCluster(cluster: ClusterConfig, logger: Logger): Promise<ClusterConnection> {
  const [{ connect, headers, createInbox }, { jetstream, jetstreamManager }, { Kvm }] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@nats-io/kv'),
  ]);
  // A server URL may carry a user and password: logs and errors name only its scheme, host and port.
  const servers = cluster.nats.servers.map(redactUrl);
  let nc: NatsConnection;
  try {
    nc = await connect(await natsOptions(cluster));
  } catch (err) {
    throw new StartupError(
      `cluster.nats.servers: no NATS server answered at ${servers.join(', ')} (${describeError(err)})`,
      'start the NATS servers, or correct cluster.nats.servers (and the credentials in cluster.nats) in the configuration',
    );
  }
  let connected = true;
  const isConnected = () => connected && !nc.isClosed();
  const publisher = new BatchPublisher({ nc, headers, createInbox, connected: isConnected }, cluster.publishTimeoutSeconds * 1000);
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        // What was published and not acknowledged may never be: its frames are NAKed now, not after the timeout.
        publisher.failAll(new PublishError('ConnectionError', 'the NATS connection was lost before the acknowledgement'));
        logger.warn({ server: status.server }, 'NATS: disconnected; reconnecting (frames are NAKed until the stream answers again)');
      } else if (status.type === 'error' && isPublishRefusal(status.error)) {
        publisher.refusedSubject(status.error.subject, status.error);
      } else if (status.type === 'reconnect') {
        connected = true;
        logger.info({ server: status.server }, 'NATS: reconnected');
      }
    }
  })().catch(() => undefined);
  const js = jetstream(nc, { timeout: cluster.publishTimeoutSeconds * 1000 });
  // The JetStream API is checked by the stores' set-up, which waits for it (a fresh cluster elects its leader first).
  const jsm = await jetstreamManager(nc, { timeout: cluster.publishTimeoutSeconds * 1000, checkAPI: false });
  logger.info({ servers, instance: cluster.instance }, 'NATS: connected');
  return {
    nc,
    js,
    jsm,
    kvm: new Kvm(js),
    publisher,
    get connected() {
      return isConnected();
    },
    async close() {
      publisher.close();
      if (nc.isClosed()) return;
      await nc.drain().catch(() => nc.close());
    },
  };
}
