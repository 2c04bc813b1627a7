/**
 * The durable log of cluster mode (docs/cluster.md §3): `append` publishes each event to the replicated events stream
 * with its event_id as the message id, and resolves once JetStream acknowledged every one of them (stored on a
 * quorum of `cluster.replicas`); a timeout, a lost quorum or an unreachable NATS is a `store-unavailable` refusal, so
 * the frame is NAKed. While the connection is down a frame is refused at once; the client reconnects by itself and
 * the next frame is published again.
 */
import { performance } from 'node:perf_hooks';

import type { ClusterConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { RefusalError, type DurableLog, type LogStatus, type Refusal } from '../durable-log.js';
import { StartupError } from '../../startup-error.js';
import type { DeadLetterFilter, RetryDeadOptions, RetryDeadResult } from '../outbox/dead-letter-actions.js';
import type { StoredDeadLetter } from '../outbox/dead-letters.js';
import type { OutgoingEvent, Sink } from '../types.js';
import { StoreAvailability } from './availability.js';
import { connectCluster, type ClusterConnection } from './connection.js';
import { ClusterDeadLetters } from './dead-letters.js';
import { startClusterDelivery, type ClusterDeliveryOptions } from './delivery.js';
import { encodeEventMessage, type Accounts } from './event-message.js';
import { ClusterRole } from './role.js';
import { OwnEvents } from './own-events.js';
import type { PublishItem } from './publisher.js';
import type { ClusterRuntime } from './runtime.js';
import { watchStream, type StreamHealth } from './stream-health.js';
import { ensureClusterStores, type ClusterStores } from './streams.js';

export type { ClusterRuntime };

/** What readiness and the metrics show of the cluster (docs/cluster.md §9). */
export interface ClusterHealth {
  /** The client holds a connection to a NATS server. */
  connected: boolean;
  /** The server it is connected to (host:port), or null. */
  server: string | null;
  /** The events stream as last looked at (at most a second ago). */
  stream: StreamHealth;
  /** What the last refused publish met, or null while publishes are stored. */
  publishProblem: string | null;
}

export interface ClusterLog extends DurableLog {
  readonly runtime: ClusterRuntime;
  /** The dead-letter stream (docs/cluster.md §6). */
  readonly dead: ClusterDeadLetters;
  retryDead(options?: RetryDeadOptions): Promise<RetryDeadResult>;
  discardDead(filter: DeadLetterFilter): Promise<StoredDeadLetter[]>;
  health(): ClusterHealth;
  /** Calls `listener` with the seconds each accepted append waited for JetStream's acknowledgements. */
  onPublished(listener: (seconds: number) => void): void;
  /**
   * The accounts in force: what a stored snapshot reference is resolved against at delivery
   * (`decodeEventMessage(data, log.accounts())`, docs/cluster.md §3).
   */
  accounts(): Accounts;
  /** Reads the accounts from `source` from now on (the bridge passes its pipeline's, so a reload applies). */
  followAccounts(source: () => Accounts): void;
}

export interface OpenClusterLogOptions {
  logger: Logger;
  /** `receiver.duplicateWindowSeconds`: the stream's duplicate window is at least this (docs/cluster.md §4). */
  duplicateWindowSeconds: number;
  /** The accounts of the configuration (until the bridge passes its own source with `followAccounts`). */
  accounts?: () => Accounts;
  /** Default STORES_WAIT_MS. */
  storesWaitMs?: number;
  /** Where the delivering instance delivers; without one this instance only stores (docs/cluster.md §5). */
  sink?: Sink;
  /** Deliveries in flight at once while delivering. */
  concurrency?: number;
  /** Delivery's timings (tests). */
  delivery?: Partial<Pick<ClusterDeliveryOptions, 'lease' | 'baseDelayMs' | 'maxDelayMs' | 'closeGraceMs'>>;
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

interface PublishFailure {
  refusal: Refusal;
  /** What happened, for the log line and the NAK's error (no secret in it). */
  what: string;
}

const LOST = (err: Error) => `the NATS connection is lost (${describeError(err)})`;

/** Errors (by name: the cause's when there is one, else the error's own) that mean the store did not answer, and how to say so. */
const UNAVAILABLE: Readonly<Record<string, (err: Error, timeoutSeconds: number) => string>> = {
  TimeoutError: (_err, timeoutSeconds) => `no acknowledgement within ${timeoutSeconds} s (no quorum, or the servers are overloaded)`,
  NoResponders: () => 'no responders: no server stores the events stream',
  JetStreamNotEnabled: () => 'no responders: no server stores the events stream',
  ClosedConnectionError: LOST,
  ConnectionError: LOST,
  DrainingConnectionError: LOST,
  // What remains of a request that failed without an answer: "connection disconnected", "connection closed".
  RequestError: LOST,
};

/**
 * Why a publish failed: the store did not answer (timeout, no responders, JetStream's 503, the connection lost) is
 * `store-unavailable`; anything else, about the message itself, is `write-failed`.
 */
export function publishFailure(err: unknown, timeoutSeconds: number): PublishFailure {
  if (!(err instanceof Error)) return { refusal: 'write-failed', what: describeError(err) };
  const cause = err.cause instanceof Error ? err.cause : null;
  const describe = UNAVAILABLE[(cause ?? err).name];
  if (describe) return { refusal: 'store-unavailable', what: describe(cause ?? err, timeoutSeconds) };
  if ((err as { status?: unknown }).status === 503) {
    return { refusal: 'store-unavailable', what: `the stream is unavailable (503 ${describeError(err)})` };
  }
  return { refusal: 'write-failed', what: describeError(err) };
}

const NOT_CONNECTED: PublishFailure = { refusal: 'store-unavailable', what: 'NATS disconnected (the client is reconnecting)' };

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
  let accounts = options.accounts ?? (() => ({}));
  const runtime: ClusterRuntime = { config, connection, stores, role: new ClusterRole() };
  const stream = watchStream(connection, stores.names.events);
  await stream.refresh();
  const availability = new StoreAvailability(logger, config.nats.servers);
  const timeoutSeconds = config.publishTimeoutSeconds;
  const publishListeners: Array<(seconds: number) => void> = [];
  let closed = false;
  const message = (event: OutgoingEvent, msgID: string, acceptedAt: string, inForce: Accounts): PublishItem => ({
    subject: stores.names.eventSubject(event.account),
    data: encodeEventMessage(event, acceptedAt, inForce),
    msgID,
  });
  const dead = new ClusterDeadLetters(connection, stores.names, logger, () => accounts());
  // While this instance delivers, what it stores is handed to its own delivery as mapped (docs/cluster.md §5).
  const own = options.sink ? new OwnEvents() : null;
  runtime.role.onChange(() => own?.clear());
  const delivery = options.sink
    ? startClusterDelivery(runtime, {
        ...options.delivery,
        ownEvents: own,
        sink: options.sink,
        logger,
        concurrency: options.concurrency ?? 8,
        dead,
        accounts: () => accounts(),
      })
    : null;
  const refuse = (failure: PublishFailure): never => {
    if (failure.refusal === 'store-unavailable') availability.refused(failure.what);
    throw new RefusalError(failure.refusal, `the events stream did not store the events: ${failure.what}`);
  };
  return {
    runtime,
    dead,
    async keepNotForwarded(events) {
      if (closed) throw new RefusalError('closed', 'the cluster log is closing');
      try {
        await dead.keepNotForwarded(events, new Date().toISOString());
      } catch (err) {
        throw new RefusalError('write-failed', `the dead-letter stream did not store the events: ${describeError(err)}`);
      }
    },
    retryDead(retry: RetryDeadOptions = {}) {
      return dead.retry(retry, async (events) => {
        const acceptedAt = new Date().toISOString();
        const inForce = accounts();
        await connection.publisher.publish(events.map(({ event, msgID }) => message(event, msgID, acceptedAt, inForce)));
      });
    },
    discardDead(filter: DeadLetterFilter) {
      return dead.discard(filter);
    },
    async append(events: readonly OutgoingEvent[]) {
      if (closed) throw new RefusalError('closed', 'the cluster log is closing');
      if (events.length === 0) return;
      if (!connection.connected) refuse(NOT_CONNECTED);
      const acceptedAt = new Date().toISOString();
      const inForce = accounts();
      const started = performance.now();
      try {
        const keep = own && runtime.role.delivering ? (index: number, seq: number) => own.keep(seq, events[index]!) : null;
        await connection.publisher.publish(
          events.map((event) => message(event, event.body.event_id, acceptedAt, inForce)),
          keep,
        );
      } catch (err) {
        refuse(publishFailure(err, timeoutSeconds));
      }
      const seconds = (performance.now() - started) / 1000;
      for (const listener of publishListeners) listener(seconds);
      availability.stored();
    },
    status(): LogStatus {
      const { pending, oldestMs } = stream.last;
      return {
        depth: pending,
        oldestAgeSeconds: oldestMs === null ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000),
        state: closed ? 'closed' : 'running',
        inFlight: 0,
      };
    },
    health() {
      const connected = connection.connected;
      return {
        connected,
        server: connected ? connection.nc.getServer() : null,
        stream: stream.last,
        publishProblem: availability.unavailable,
      };
    },
    onPublished(listener) {
      publishListeners.push(listener);
    },
    accounts: () => accounts(),
    followAccounts(source) {
      accounts = source;
    },
    async close() {
      closed = true;
      stream.stop();
      await delivery?.close();
      await connection.close();
    },
  };
}
