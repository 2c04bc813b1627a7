/** Wiring: configuration → sink/acceptor → pipeline → listeners. What `serve` runs and the tests start. */
import type { BridgeConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createFileSink } from '../sink/file-sink.js';
import { createPartnerApiSink } from '../sink/partner-api/sink.js';
import { directAcceptor, queueAcceptor, type EventAcceptor } from './acceptor.js';
import { BridgeMetrics } from './metrics.js';
import { Pipeline, type Peer } from './pipeline.js';
import { startSurgardListener } from './surgard-tcp.js';
import { defaultSupervisionStatePath, Supervisor } from './supervision.js';
import { startTcpListener, type RunningListener } from './tcp.js';
import { startUdpListener } from './udp.js';

export interface BridgeOptions {
  logger: Logger;
  metrics?: BridgeMetrics;
  /** Replaces the acceptor built from `config.sink` (tests inject failing ones). */
  acceptor?: EventAcceptor;
  now?: () => Date;
  onPanelActivity?: (account: string, peer: Peer, at: Date) => void;
  /** Where supervision keeps last-seen times across restarts (default: beside the outbox / config file). */
  supervisionStatePath?: string;
}

export interface RunningBridge {
  readonly pipeline: Pipeline;
  readonly supervisor: Supervisor;
  readonly metrics: BridgeMetrics;
  readonly listeners: readonly RunningListener[];
  /** Port actually bound by the first listener of a transport (useful with port 0). */
  port(transport: 'tcp' | 'udp', protocol?: 'dc09' | 'surgard'): number;
  /** SIGINT/SIGTERM path: stop accepting, finish frames in flight, flush the sink. */
  stop(): Promise<void>;
}

export function acceptorFor(config: BridgeConfig, logger: Logger, metrics: BridgeMetrics): EventAcceptor {
  const sink = config.sink;
  if (sink.type === 'file') return directAcceptor(createFileSink(sink.path));
  const apiSink = createPartnerApiSink(sink, {
    logger,
    observe: {
      apiRequest: (seconds) => metrics.apiLatency.observe(seconds),
      tokenRequest: (ok) => metrics.tokenRefreshes.inc({ result: ok ? 'ok' : 'error' }),
    },
  });
  logger.warn('no outbox configured: accepted events wait in memory for the Partner Event API and are lost on a crash');
  return queueAcceptor(apiSink, { logger, maxAgeMs: sink.maxRetryAgeSeconds * 1000, concurrency: sink.connections, onOutcome: (kind) => metrics.deliveries.inc({ outcome: kind }) });
}

export async function startBridge(config: BridgeConfig, options: BridgeOptions): Promise<RunningBridge> {
  const { logger } = options;
  const metrics = options.metrics ?? new BridgeMetrics();
  const acceptor = options.acceptor ?? acceptorFor(config, logger, metrics);
  const onPanelActivity = (account: string, peer: Peer, at: Date) => {
    supervisor.activity(account, `${peer.address}:${peer.port}`, peer.transport, at);
    options.onPanelActivity?.(account, peer, at);
  };
  const pipeline = new Pipeline({ config, acceptor, logger, metrics, onPanelActivity, ...(options.now ? { now: options.now } : {}) });
  const supervisor = new Supervisor({
    config: () => pipeline.currentConfig,
    statePath: options.supervisionStatePath ?? defaultSupervisionStatePath(config),
    emit: (source) => pipeline.acceptSource(source, source.token),
    logger,
    metrics,
    ...(options.now ? { now: options.now } : {}),
  });
  await supervisor.start();
  const listeners: { listener: RunningListener; transport: 'tcp' | 'udp'; protocol: 'dc09' | 'surgard' }[] = [];
  const receiver = config.receiver;
  try {
    for (const listener of config.listeners) {
      const running = listener.protocol === 'surgard'
        ? await startSurgardListener({ listener, pipeline, logger, metrics, maxConnections: receiver.maxConnections, idleTimeoutSeconds: receiver.idleTimeoutSeconds, onPanelActivity })
        : listener.transport === 'tcp'
        ? await startTcpListener({ listener, pipeline, logger, metrics, maxConnections: receiver.maxConnections, idleTimeoutSeconds: receiver.idleTimeoutSeconds, maxFrameBytes: receiver.maxFrameBytes })
        : await startUdpListener({ listener, pipeline, logger, metrics, maxFrameBytes: receiver.maxFrameBytes });
      listeners.push({ listener: running, transport: listener.transport, protocol: listener.protocol });
    }
  } catch (err) {
    await Promise.allSettled(listeners.map((l) => l.listener.close()));
    await supervisor.stop();
    await acceptor.close();
    throw err;
  }

  let stopping: Promise<void> | null = null;
  return {
    pipeline,
    supervisor,
    metrics,
    listeners: listeners.map((l) => l.listener),
    port(transport, protocol = 'dc09') {
      const found = listeners.find((l) => l.transport === transport && l.protocol === protocol);
      if (!found) throw new Error(`no ${protocol}/${transport} listener`);
      return found.listener.port;
    },
    stop() {
      stopping ??= (async () => {
        await Promise.allSettled(listeners.map((l) => l.listener.close()));
        await supervisor.stop();
        await acceptor.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
