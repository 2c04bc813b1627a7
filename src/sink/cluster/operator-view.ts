/**
 * What `outbox status|list` show in cluster mode (docs/cluster.md §6), read from JetStream by any machine with the
 * configuration: the events stream (the pending events), the delivery consumer, the dead stream and the lease.
 */
import type { OutgoingEvent } from '../types.js';
import type { ClusterLog } from './cluster-log.js';
import { decodeStoredEvent } from './delivery.js';
import { readLease } from './lease.js';
import { readStream } from './stream-reader.js';

export interface ClusterStatusReport {
  stream: string;
  instance: string;
  /** Events stored and not finally delivered (the events stream holds exactly those). */
  depth: number;
  oldestAgeSeconds: number;
  /** Of them, not yet handed to the delivering instance (null while no instance delivers). */
  pending: number | null;
  /** Handed to it and waiting for their outcome. */
  inFlight: number | null;
  deadLetters: number;
  /** Who delivers: the lease's holder, or null when nobody holds it. */
  lease: { holder: string; renewedAt: string } | null;
}

export async function clusterStatus(log: ClusterLog, now = Date.now()): Promise<ClusterStatusReport> {
  const { connection, stores, config } = log.runtime;
  const { names } = stores;
  const [events, consumer, deadLetters, lease] = await Promise.all([
    connection.jsm.streams.info(names.events),
    connection.jsm.consumers.info(names.events, names.consumer).catch(() => null),
    log.dead.count(),
    readLease(stores.state),
  ]);
  const oldest = events.state.messages > 0 ? Date.parse(events.state.first_ts) : now;
  return {
    stream: names.events,
    instance: config.instance,
    depth: events.state.messages,
    oldestAgeSeconds: Math.max(0, (now - oldest) / 1000),
    pending: lease && consumer ? consumer.num_pending : null,
    inFlight: lease && consumer ? consumer.num_ack_pending : null,
    deadLetters,
    lease: lease && { holder: lease.instance, renewedAt: lease.renewedAt },
  };
}

export interface ClusterPendingEvent {
  /** The message's stream sequence. */
  seq: number;
  id: string;
  account: string;
  /** When the stream stored it. */
  acceptedAt: string;
  event: OutgoingEvent | null;
  unreadable?: string;
}

/** The pending events in stream order, at most `limit`. */
export async function clusterPending(log: ClusterLog, limit: number): Promise<ClusterPendingEvent[]> {
  const rows: ClusterPendingEvent[] = [];
  for await (const msg of readStream(log.runtime.connection.jsm, log.runtime.stores.names.events, limit)) {
    const event = decodeStoredEvent(msg.data);
    const acceptedAt = msg.time.toISOString();
    rows.push(
      typeof event === 'string'
        ? { seq: msg.seq, id: '', account: '', acceptedAt, event: null, unreadable: event }
        : { seq: msg.seq, id: event.body.event_id, account: event.account, acceptedAt, event },
    );
  }
  return rows;
}
