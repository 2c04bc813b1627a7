/**
 * The durable log the configuration asks for: the JetStream stream when `cluster` is set (docs/cluster.md); the
 * outbox when `outbox` is set; else the in-memory queue in front of
 * the Partner Event API, or the file sink written directly.
 */
import type { BridgeConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { directLog } from './direct-log.js';
import { openClusterLog, type ClusterLog } from './cluster/cluster-log.js';
import type { DurableLog } from './durable-log.js';
import { openMemoryQueue } from './memory-queue.js';
import { openOutbox, type Outbox } from './outbox/index.js';
import type { Sink } from './types.js';

/** Outbox deliveries in flight at once when the sink is the file sink (one write per turn covers them all). */
export const FILE_SINK_DELIVERIES_IN_FLIGHT = 256;
/**
 * Outbox deliveries started per turn of the event loop beyond the events accepted in it: a backlog drains in
 * slices of this size, with the panels' frames answered between them (docs/performance.md §5).
 */
export const OUTBOX_STARTS_PER_TURN = 16;

/** Deliveries in flight and started per turn for the outbox delivering to this sink. */
export function outboxDelivery(config: BridgeConfig): { concurrency: number; startsPerTurn: number } {
  // The file sink writes each turn's lines in one write, so its deliveries in flight only bound that batch: with a
  // handful, delivery falls behind a busy receiver and the backlog (and its memory) grows for nothing.
  const concurrency = config.sink.type === 'partner-api' ? config.sink.connections : FILE_SINK_DELIVERIES_IN_FLIGHT;
  return { concurrency, startsPerTurn: OUTBOX_STARTS_PER_TURN };
}

export interface OpenedLog {
  log: DurableLog;
  /** The same log when it is the outbox (operator actions, gauges), else null. */
  outbox: Outbox | null;
  /** The same log in cluster mode (its connection and stores), else null. */
  cluster: ClusterLog | null;
}

/** Opens the log that delivers to `sink`; close the sink after the log. */
export async function openLog(config: BridgeConfig, sink: Sink, logger: Logger): Promise<OpenedLog> {
  const { concurrency, startsPerTurn } = outboxDelivery(config);
  if (config.cluster) {
    const cluster = await openClusterLog(config.cluster, {
      logger,
      duplicateWindowSeconds: config.receiver.duplicateWindowSeconds,
      accounts: () => config.accounts,
      sink,
      concurrency,
    });
    return { log: cluster, outbox: null, cluster };
  }
  if (config.outbox) {
    const outbox = await openOutbox(config.outbox, { sink, logger, concurrency, startsPerTurn });
    return { log: outbox, outbox, cluster: null };
  }
  if (config.sink.type === 'file') return { log: directLog(sink), outbox: null, cluster: null };
  logger.warn('no outbox configured: accepted events wait in memory for the Partner Event API and are lost on a crash');
  const log = openMemoryQueue(sink, {
    logger,
    maxAgeMs: config.sink.maxRetryAgeSeconds * 1000,
    concurrency: config.sink.connections,
    maxQueued: config.sink.maxQueuedEvents,
  });
  return { log, outbox: null, cluster: null };
}
