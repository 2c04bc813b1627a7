/**
 * The durable log of cluster mode (docs/cluster.md §3): `append` publishes each event to the replicated events stream
 * with its event_id as the message id, and resolves once JetStream acknowledged every one of them (stored on a
 * quorum of `cluster.replicas`); a timeout, a lost quorum or an unreachable NATS is a refusal, so the frame is NAKed.
 */
import type { ClusterConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { RefusalError, type DurableLog, type LogStatus } from '../durable-log.js';
import { StartupError } from '../../startup-error.js';
import type { OutgoingEvent } from '../types.js';
import { connectCluster, type ClusterConnection } from './connection.js';
import { ClusterRole } from './role.js';
import { ensureClusterStores, type ClusterStores } from './streams.js';

/** What the rest of the bridge sees of the cluster: the connection, the stores, this instance's settings. */
export interface ClusterRuntime {
  readonly config: ClusterConfig;
  readonly connection: ClusterConnection;
  readonly stores: ClusterStores;
  /** Delivering (holds the lease) or standby. */
  readonly role: ClusterRole;
}

export interface ClusterLog extends DurableLog {
  readonly runtime: ClusterRuntime;
}

/** The message stored for one event: what delivery needs, as JSON (docs/cluster.md §3). */
export function encodeEvent(event: OutgoingEvent): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export interface OpenClusterLogOptions {
  logger: Logger;
  /** `receiver.duplicateWindowSeconds`: the stream's duplicate window is at least this (docs/cluster.md §4). */
  duplicateWindowSeconds: number;
  /** Default STORES_WAIT_MS. */
  storesWaitMs?: number;
}

/** How long start-up waits for JetStream to answer (a fresh cluster elects its meta leader first). */
export const STORES_WAIT_MS = 30_000;

/** The stores, retried while JetStream does not answer yet, with a progress line every few seconds. */
async function waitForStores(connection: ClusterConnection, config: ClusterConfig, options: OpenClusterLogOptions): Promise<ClusterStores> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    try {
      return await ensureClusterStores(connection, config, options.duplicateWindowSeconds);
    } catch (err) {
      const waited = Date.now() - started;
      if (waited >= (options.storesWaitMs ?? STORES_WAIT_MS)) {
        throw new StartupError(
          `cluster.stream: JetStream did not set up stream ${config.stream} with ${config.replicas} replicas in ${Math.round(waited / 1000)} s (${describeError(err)})`,
          'check that the NATS servers run with JetStream enabled, that at least a quorum of cluster.replicas of them are up, and that cluster.replicas is not larger than the number of servers',
        );
      }
      if (Date.now() - lastReport >= 5000) {
        lastReport = Date.now();
        options.logger.info(
          { stream: config.stream, waitedSeconds: Math.round(waited / 1000), err: describeError(err) },
          'waiting for JetStream',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function openClusterLog(config: ClusterConfig, options: OpenClusterLogOptions): Promise<ClusterLog> {
  const { logger } = options;
  const connection = await connectCluster(config, logger);
  let stores: ClusterStores;
  try {
    stores = await waitForStores(connection, config, options);
  } catch (err) {
    await connection.close();
    throw err;
  }
  const runtime: ClusterRuntime = { config, connection, stores, role: new ClusterRole() };
  const timeout = config.publishTimeoutSeconds * 1000;
  let closed = false;
  const publish = (event: OutgoingEvent) =>
    connection.js.publish(stores.names.eventSubject(event.account), encodeEvent(event), { msgID: event.body.event_id, timeout });
  return {
    runtime,
    async append(events: readonly OutgoingEvent[]) {
      if (closed) throw new RefusalError('closed', 'the cluster log is closing');
      try {
        await Promise.all(events.map(publish));
      } catch (err) {
        throw new RefusalError('write-failed', `the events stream did not store the events: ${describeError(err)}`);
      }
    },
    status(): LogStatus {
      return { depth: 0, oldestAgeSeconds: 0, state: closed ? 'closed' : 'running', inFlight: 0 };
    },
    async close() {
      closed = true;
      await connection.close();
    },
  };
}
