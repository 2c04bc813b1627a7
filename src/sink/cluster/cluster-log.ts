/**
 * The durable log of cluster mode (docs/cluster.md §3): `append` publishes each event to the replicated events stream
 * with its event_id as the message id, and resolves once JetStream acknowledged every one of them (stored on a
 * quorum of `cluster.replicas`); a timeout, a lost quorum or an unreachable NATS is a refusal, so the frame is NAKed.
 */
import type { ClusterConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { RefusalError, type DurableLog, type LogStatus } from '../durable-log.js';
import type { DeadLetterFilter, RetryDeadOptions, RetryDeadResult } from '../outbox/dead-letter-actions.js';
import type { StoredDeadLetter } from '../outbox/dead-letters.js';
import type { OutgoingEvent, Sink } from '../types.js';
import { connectCluster } from './connection.js';
import { ClusterDeadLetters } from './dead-letters.js';
import { startClusterDelivery, type ClusterDeliveryOptions } from './delivery.js';
import { ClusterRole } from './role.js';
import type { ClusterRuntime } from './runtime.js';
import { ensureClusterStores, type ClusterStores } from './streams.js';

export type { ClusterRuntime };

export interface ClusterLog extends DurableLog {
  readonly runtime: ClusterRuntime;
  /** The dead-letter stream (docs/cluster.md §6). */
  readonly dead: ClusterDeadLetters;
  retryDead(options?: RetryDeadOptions): Promise<RetryDeadResult>;
  discardDead(filter: DeadLetterFilter): Promise<StoredDeadLetter[]>;
}

/** The message stored for one event: what delivery needs, as JSON (docs/cluster.md §3). */
export function encodeEvent(event: OutgoingEvent): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export interface OpenClusterLogOptions {
  logger: Logger;
  /** `receiver.duplicateWindowSeconds`: the stream's duplicate window is at least this (docs/cluster.md §4). */
  duplicateWindowSeconds: number;
  /** Where the delivering instance delivers; without one this instance only stores (docs/cluster.md §5). */
  sink?: Sink;
  /** Deliveries in flight at once while delivering. */
  concurrency?: number;
  /** Delivery's timings (tests). */
  delivery?: Partial<Pick<ClusterDeliveryOptions, 'lease' | 'baseDelayMs' | 'maxDelayMs' | 'closeGraceMs'>>;
}

export async function openClusterLog(config: ClusterConfig, options: OpenClusterLogOptions): Promise<ClusterLog> {
  const { logger } = options;
  const connection = await connectCluster(config, logger);
  let stores: ClusterStores;
  try {
    stores = await ensureClusterStores(connection, config, options.duplicateWindowSeconds);
  } catch (err) {
    await connection.close();
    throw err;
  }
  const runtime: ClusterRuntime = { config, connection, stores, role: new ClusterRole() };
  const timeout = config.publishTimeoutSeconds * 1000;
  let closed = false;
  const publish = (event: OutgoingEvent, msgID = event.body.event_id) =>
    connection.js.publish(stores.names.eventSubject(event.account), encodeEvent(event), { msgID, timeout });
  const dead = new ClusterDeadLetters(connection, stores.names, logger);
  const delivery = options.sink
    ? startClusterDelivery(runtime, { ...options.delivery, sink: options.sink, logger, concurrency: options.concurrency ?? 8, dead })
    : null;
  const refuseWhenClosed = () => {
    if (closed) throw new RefusalError('closed', 'the cluster log is closing');
  };
  return {
    runtime,
    dead,
    async keepNotForwarded(events) {
      refuseWhenClosed();
      try {
        await dead.keepNotForwarded(events, new Date().toISOString());
      } catch (err) {
        throw new RefusalError('write-failed', `the dead-letter stream did not store the events: ${describeError(err)}`);
      }
    },
    retryDead(retry: RetryDeadOptions = {}) {
      return dead.retry(retry, async (events) => {
        await Promise.all(events.map(({ event, msgID }) => publish(event, msgID)));
      });
    },
    discardDead(filter: DeadLetterFilter) {
      return dead.discard(filter);
    },
    async append(events: readonly OutgoingEvent[]) {
      refuseWhenClosed();
      try {
        await Promise.all(events.map((event) => publish(event)));
      } catch (err) {
        throw new RefusalError('write-failed', `the events stream did not store the events: ${describeError(err)}`);
      }
    },
    status(): LogStatus {
      return { depth: 0, oldestAgeSeconds: 0, state: closed ? 'closed' : 'running', inFlight: 0 };
    },
    async close() {
      closed = true;
      await delivery?.close();
      await connection.close();
    },
  };
}
