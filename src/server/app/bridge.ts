/** Wiring: configuration → sink/durable log → pipeline → listeners. What `serve` runs and the tests start. */
import type { BridgeConfig, ListenerConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import { listenFailure } from '../../startup-error.js';
import type { ClusterLog } from '../../sink/cluster/cluster-log.js';
import { KvLastFrames } from '../../sink/cluster/last-frames.js';
import { KvSupervisionStore } from '../../sink/cluster/supervision-store.js';
import type { DurableLog } from '../../sink/durable-log.js';
import { createFileSink } from '../../sink/file-sink.js';
import { openLog, type OpenedLog } from '../../sink/open-log.js';
import type { Outbox } from '../../sink/outbox/index.js';
import { createPartnerApiSink } from '../../sink/partner-api/sink.js';
import type { DeliveryOutcome, Sink } from '../../sink/types.js';
import type { ActivityObserver } from '../ops/activity.js';
import { watchClusterMetrics } from '../ops/cluster-metrics.js';
import { BridgeMetrics } from '../ops/metrics.js';
import { Pipeline, type Peer } from '../pipeline/pipeline.js';
import { startGalaxyListener } from '../sources/galaxy-tcp.js';
import { startLupusecListener } from '../sources/lupusec-tcp.js';
import { startSurgardListener } from '../sources/surgard-tcp.js';
import { defaultSupervisionStatePath, Supervisor } from '../ops/supervision.js';
import { tcpSlots, type RunningListener } from '../sources/tcp-server.js';
import { startTcpListener } from '../sources/tcp.js';
import { startUdpListener } from '../sources/udp.js';

export interface BridgeOptions {
  logger: Logger;
  metrics?: BridgeMetrics;
  /** Replaces the durable log built from `config.sink` and `config.outbox` (tests inject failing ones). */
  log?: DurableLog;
  now?: () => Date;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
  /** Where supervision keeps last-seen times across restarts (default: beside the outbox / config file). */
  supervisionStatePath?: string;
  /** The operator console's recorder (`serve` passes one when the config has `http`). */
  activity?: ActivityObserver;
}

export interface RunningBridge {
  readonly pipeline: Pipeline;
  /** The durable outbox when configured. */
  readonly outbox: Outbox | null;
  /** The JetStream log in cluster mode (docs/cluster.md). */
  readonly cluster: ClusterLog | null;
  readonly health: DeliveryHealth;
  readonly supervisor: Supervisor;
  readonly metrics: BridgeMetrics;
  readonly listeners: readonly RunningListener[];
  /** Port actually bound by the first listener of a transport (useful with port 0). */
  port(transport: 'tcp' | 'udp', protocol?: ListenerConfig['protocol']): number;
  /** SIGINT/SIGTERM path: stop accepting, finish frames in flight, flush the sink. */
  stop(): Promise<void>;
}

/** What `/readyz` reports about the way out: the last delivery and the last token exchange. */
export interface DeliveryHealth {
  /** Kept as it came (one per event on the hot path); `deliveryCheck` (readiness.ts) describes it when `/readyz` asks. */
  lastDelivery: { outcome: DeliveryOutcome; atMs: number } | null;
  lastToken: { ok: boolean; at: string } | null;
}

export function sinkFor(config: BridgeConfig, logger: Logger, metrics: BridgeMetrics, health: DeliveryHealth): Sink {
  const sink = config.sink;
  if (sink.type === 'file') return createFileSink(sink.path);
  return createPartnerApiSink(sink, {
    logger,
    observe: {
      apiRequest: (seconds) => metrics.apiLatency.observe(seconds),
      tokenRequest: (ok) => {
        metrics.tokenRefreshes.inc({ result: ok ? 'ok' : 'error' });
        health.lastToken = { ok, at: new Date().toISOString() };
      },
    },
  });
}

/** Counts every delivery outcome for the metrics and remembers the last one for readiness. */
function countingSink(sink: Sink, metrics: BridgeMetrics, health: DeliveryHealth): Sink {
  const count = (outcome: DeliveryOutcome): DeliveryOutcome => {
    metrics.deliveryCounts.inc(outcome.kind);
    health.lastDelivery = { outcome, atMs: Date.now() };
    return outcome;
  };
  return {
    name: sink.name,
    deliver: (event) => sink.deliver(event).then(count),
    close: () => sink.close(),
  };
}

/** The durable log `config` asks for, delivering to the configured sink (returned too: closed after the log). */
export async function logFor(
  config: BridgeConfig,
  logger: Logger,
  metrics: BridgeMetrics,
  health: DeliveryHealth,
): Promise<OpenedLog & { sink: Sink }> {
  const sink = countingSink(sinkFor(config, logger, metrics, health), metrics, health);
  return { ...(await openLog(config, sink, logger)), sink };
}

export async function startBridge(config: BridgeConfig, options: BridgeOptions): Promise<RunningBridge> {
  const { logger } = options;
  const metrics = options.metrics ?? new BridgeMetrics();
  const health: DeliveryHealth = { lastDelivery: null, lastToken: null };
  const { log, outbox, cluster, sink } = options.log
    ? { log: options.log, outbox: null, cluster: null, sink: null }
    : await logFor(config, logger, metrics, health);
  const setOutboxGauges = (box: Outbox) => {
    const status = box.status();
    metrics.outboxDepth.set(status.depth);
    metrics.outboxBytes.set(status.bytes);
    metrics.outboxOldestAge.set(status.oldestAgeSeconds);
    metrics.outboxLostEvents.set(status.damage.lostEvents);
    metrics.outboxDamagedBytes.set(status.damage.bytes);
    metrics.outboxDuplicateEvents.set(status.damage.duplicateEvents);
    metrics.outboxUnreadableEvents.set(status.damage.unreadableEvents);
  };
  if (outbox) setOutboxGauges(outbox);
  outbox?.onJournalRound((seconds) => metrics.outboxSync.observe(seconds));
  const outboxGauges = outbox ? setInterval(() => setOutboxGauges(outbox), 1000).unref() : null;
  const onPanelActivity = (account: string, peer: Peer, at: Date) => {
    supervisor.activity(account, `${peer.address}:${peer.port}`, peer.transport, at);
    options.onPanelActivity?.(account, peer, at);
  };
  // Cluster mode: the duplicate rule and supervision share their state through the state bucket (docs/cluster.md §4, docs/cluster.md §7).
  const shared = cluster?.runtime;
  const pipeline = new Pipeline({
    config,
    log,
    logger,
    metrics,
    onPanelActivity,
    ...(options.now ? { now: options.now } : {}),
    ...(options.activity ? { activity: options.activity } : {}),
    ...(shared ? { lastFrames: new KvLastFrames(shared.stores, logger) } : {}),
  });
  const supervisor = new Supervisor({
    config: () => pipeline.currentConfig,
    ...(shared
      ? { store: new KvSupervisionStore(shared.stores, { logger, instance: shared.config.instance }), role: shared.role }
      : { statePath: options.supervisionStatePath ?? defaultSupervisionStatePath(config) }),
    emit: (source) => pipeline.acceptSource(source, source.token),
    logger,
    metrics,
    ...(options.now ? { now: options.now } : {}),
  });
  await supervisor.start();
  // Cluster mode: stored snapshot references resolve against the accounts in force (a reload applies); gauges.
  cluster?.followAccounts(() => pipeline.currentConfig.accounts);
  const stopClusterMetrics = cluster ? watchClusterMetrics(cluster, metrics) : null;
  /** Listeners first (nothing new comes in, frames in flight are answered), then supervision, the log, the sink. */
  const shutdown = async () => {
    await Promise.allSettled(listeners.map((l) => l.listener.close()));
    await supervisor.stop();
    if (outboxGauges) clearInterval(outboxGauges);
    stopClusterMetrics?.();
    await log.close();
    await sink?.close();
  };
  const listeners: { listener: RunningListener; transport: 'tcp' | 'udp'; protocol: ListenerConfig['protocol'] }[] = [];
  const receiver = config.receiver;
  // One cap for all TCP listeners together, shared fairly between source addresses.
  const slots = tcpSlots(receiver.maxConnections, receiver.maxConnectionsPerSource);
  const udpRateLimit =
    receiver.udpDatagramsPerSecondPerSource === null
      ? null
      : { perSecond: receiver.udpDatagramsPerSecondPerSource, burst: receiver.udpBurstPerSource };
  try {
    for (const [i, listener] of config.listeners.entries()) {
      const tcp = { listener, pipeline, logger, metrics, slots, idleTimeoutSeconds: receiver.idleTimeoutSeconds };
      const clock = options.now ? { now: options.now } : {};
      const running = await (
        listener.protocol === 'surgard'
          ? startSurgardListener(tcp)
          : listener.protocol === 'galaxy'
            ? startGalaxyListener({ ...tcp, onPanelActivity, ...clock })
            : listener.protocol === 'lupusec-cid'
              ? startLupusecListener({ ...tcp, onPanelActivity, ...clock })
              : listener.transport === 'tcp'
                ? startTcpListener({ ...tcp, maxFrameBytes: receiver.maxFrameBytes })
                : startUdpListener({ listener, pipeline, logger, metrics, maxFrameBytes: receiver.maxFrameBytes, rateLimit: udpRateLimit })
      ).catch((err: unknown) => {
        throw listenFailure(err, `listeners[${i}]`, `${listener.protocol}/${listener.transport}`, listener.host, listener.port);
      });
      listeners.push({ listener: running, transport: listener.transport, protocol: listener.protocol });
    }
  } catch (err) {
    await shutdown();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    pipeline,
    outbox,
    cluster,
    health,
    supervisor,
    metrics,
    listeners: listeners.map((l) => l.listener),
    port(transport, protocol = 'dc09') {
      const found = listeners.find((l) => l.transport === transport && l.protocol === protocol);
      if (!found) throw new Error(`no ${protocol}/${transport} listener`);
      return found.listener.port;
    },
    stop() {
      stopping ??= shutdown().then(() => logger.info('stopped'));
      return stopping;
    },
  };
}
