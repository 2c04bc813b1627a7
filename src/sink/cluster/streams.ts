/**
 * What cluster mode keeps in JetStream (docs/cluster.md §3): the events stream, the dead-letter stream and one KV
 * bucket of shared state, all named after `cluster.stream` and replicated `cluster.replicas` times.
 */
import type { StreamConfig } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

import type { ClusterConfig } from '../../config/types.js';
import type { ClusterConnection } from './connection.js';

export interface ClusterNames {
  /** Accepted events, one message per event, subject `<events>.<account>`; work-queue retention (docs/cluster.md §3). */
  events: string;
  eventSubject(account: string): string;
  /** Events given up on (refused, too old, unknown codes), subject `<dead>.<account>`. */
  dead: string;
  deadSubject(account: string): string;
  /** The durable consumer the delivering instance reads the events stream with. */
  consumer: string;
  /** Shared state: the delivery lease, each account's last frame, supervision (docs/cluster.md §5; docs/cluster.md §4; docs/cluster.md §7). */
  stateBucket: string;
}

/** Subject tokens cannot hold `.`, `*`, `>` or spaces: an account (1-16 printable characters) is hex-escaped there. */
export function subjectToken(account: string): string {
  return /^[A-Za-z0-9_-]+$/.test(account) ? account : `x${Buffer.from(account, 'utf8').toString('hex')}`;
}

export function clusterNames(stream: string): ClusterNames {
  return {
    events: stream,
    eventSubject: (account) => `${stream}.events.${subjectToken(account)}`,
    dead: `${stream}_DEAD`,
    deadSubject: (account) => `${stream}.dead.${subjectToken(account)}`,
    consumer: 'delivery',
    stateBucket: `${stream}_STATE`,
  };
}

const NANOS_PER_SECOND = 1_000_000_000;

/** The stream's duplicate window: at least the receiver's, and never under two minutes (docs/cluster.md §4). */
export function duplicateWindowSeconds(receiverWindowSeconds: number): number {
  return Math.max(120, Math.ceil(receiverWindowSeconds));
}

export interface ClusterStores {
  names: ClusterNames;
  state: KV;
}

/**
 * Creates the streams and the bucket when missing, and updates the settings this bridge relies on when they differ
 * (replicas, duplicate window); other settings an operator changed by hand are kept.
 */
export async function ensureClusterStores(
  connection: ClusterConnection,
  cluster: ClusterConfig,
  receiverWindowSeconds: number,
): Promise<ClusterStores> {
  const { RetentionPolicy, StorageType } = await import('@nats-io/jetstream');
  const names = clusterNames(cluster.stream);
  const windowNanos = duplicateWindowSeconds(receiverWindowSeconds) * NANOS_PER_SECOND;
  const wanted: Array<Partial<StreamConfig> & { name: string }> = [
    {
      name: names.events,
      subjects: [`${cluster.stream}.events.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: cluster.replicas,
      duplicate_window: windowNanos,
    },
    {
      name: names.dead,
      subjects: [`${cluster.stream}.dead.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: cluster.replicas,
      duplicate_window: windowNanos,
    },
  ];
  for (const config of wanted) {
    const existing = await connection.jsm.streams.info(config.name).catch(() => null);
    if (existing === null) {
      await connection.jsm.streams.add(config);
    } else if (existing.config.num_replicas !== config.num_replicas || existing.config.duplicate_window < windowNanos) {
      await connection.jsm.streams.update(config.name, {
        ...existing.config,
        num_replicas: config.num_replicas ?? existing.config.num_replicas,
        duplicate_window: Math.max(existing.config.duplicate_window, windowNanos),
      });
    }
  }
  const state = await connection.kvm.create(names.stateBucket, { replicas: cluster.replicas, history: 1 });
  return { names, state };
}
