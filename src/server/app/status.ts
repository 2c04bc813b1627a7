/** The status server of a running bridge: metrics, `/readyz`, and the outbox actions behind a control token. */
import type { BridgeConfig } from '../../config/types.js';
import { describeError, type Logger } from '../../log.js';
import { OutboxClosedError } from '../../sink/outbox/index.js';
import { UsageError } from '../../usage-error.js';
import { discardLetters, listRows, parseChoice, parseViewRequest, retryLetters, statusReport } from './outbox-operations.js';
import { clearControlToken, newControlToken, publishControlToken, type PublishedToken } from '../ops/control-token.js';
import { startStatusServer, type OutboxAction, type StatusServerOptions } from '../ops/http-status.js';
import { ActivityRecorder } from '../ops/activity.js';
import { createConsole } from '../ops/console.js';
import { loadConsoleAuth } from '../ops/console-auth.js';
import type { RunningBridge } from './bridge.js';
import { readiness } from './readiness.js';
import { listenFailure } from '../../startup-error.js';

/** An action answering with `work`'s result, or the status and error text an operator can act on. */
const answerWith =
  (logger: Logger) =>
  <R>(parse: (request: unknown) => R, work: (parsed: R) => Promise<unknown>): OutboxAction =>
  async (request) => {
    try {
      return { status: 200, body: await work(parse(request)) };
    } catch (err) {
      if (err instanceof UsageError) return { status: 400, body: { error: err.message } };
      if (err instanceof OutboxClosedError) return { status: 503, body: { error: `the bridge is stopping: ${err.message}` } };
      logger.error({ err: describeError(err) }, 'outbox action failed');
      return { status: 500, body: { error: describeError(err) } };
    }
  };

/**
 * `POST /outbox/retry|discard|status|list` on the status server: `alarm-bridge outbox …` while this bridge holds the
 * outbox (`status` and `list` then show the live state: attempts, last reason, next attempt). Retried letters are
 * mapped with the configuration in force (after a SIGHUP, the fixed one).
 */
export function outboxActions(
  bridge: RunningBridge,
  token: string,
  logger: Logger,
  outboxDir: string,
): StatusServerOptions['outboxActions'] {
  const outbox = bridge.outbox;
  if (!outbox) return undefined;
  const answer = answerWith(logger);
  return {
    token,
    retry: answer(parseChoice, (choice) => retryLetters(outbox, bridge.pipeline.currentConfig, choice)),
    discard: answer(parseChoice, (choice) => discardLetters(outbox, choice)),
    status: answer(parseViewRequest, async () => statusReport(outbox, outboxDir)),
    list: answer(parseViewRequest, (view) => listRows(outbox, view)),
  };
}

/**
 * The console's dead-letter actions in cluster mode (docs/cluster.md §6): on the dead-letter stream, as
 * `alarm-bridge outbox retry|discard` do from any machine; retried letters are mapped with the configuration in force.
 */
function clusterDeadLetterActions(bridge: RunningBridge, logger: Logger): { retry: OutboxAction; discard: OutboxAction } | undefined {
  const cluster = bridge.cluster;
  if (!cluster) return undefined;
  const answer = answerWith(logger);
  return {
    retry: answer(parseChoice, (choice) => retryLetters(cluster, bridge.pipeline.currentConfig, choice)),
    discard: answer(parseChoice, (choice) => discardLetters(cluster, choice)),
  };
}

export interface StatusHandle {
  readonly port: number;
  /** Withdraws the control token (first thing when stopping: the lock is released soon after). */
  withdrawToken(): Promise<void>;
  /** Withdraws the token and closes the server. */
  close(): Promise<void>;
}

/**
 * The status server (when the config has `http`), with the outbox actions when there is an outbox: their control
 * token is published only once the server listens, so a command that finds the token finds the server too. A token
 * an earlier bridge left behind (SIGKILL) is removed first, whether or not this one publishes its own.
 */
export async function startStatus(
  config: BridgeConfig,
  bridge: RunningBridge,
  logger: Logger,
  activity = new ActivityRecorder(),
): Promise<StatusHandle | null> {
  const outboxDir = config.outbox && bridge.outbox ? config.outbox.dir : null;
  if (outboxDir) await clearControlToken(outboxDir);
  const http = config.http;
  if (!http) return null;
  const token = outboxDir ? newControlToken() : null;
  const actions = token && outboxDir ? outboxActions(bridge, token, logger, outboxDir) : undefined;
  const auth = http.auth ? await loadConsoleAuth(http.auth) : null;
  const server = await startStatusServer({
    host: http.host,
    port: http.port,
    registry: bridge.metrics.registry,
    logger,
    auth,
    outboxActions: actions,
    readiness: () => readiness(config, bridge),
    console: createConsole({
      activity,
      bridge,
      readiness: () => readiness(config, bridge),
      actions: actions ?? clusterDeadLetterActions(bridge, logger),
      auth,
      logger,
    }),
  }).catch((err: unknown) => {
    throw listenFailure(err, 'http', 'status server', http.host, http.port);
  });
  let published: PublishedToken | null = null;
  try {
    if (outboxDir && token) published = await publishControlToken(outboxDir, token);
  } catch (err) {
    await server.close();
    throw err;
  }
  const withdrawToken = async () => {
    await published?.revoke();
  };
  return {
    port: server.port,
    withdrawToken,
    close: () => withdrawToken().finally(() => server.close()),
  };
}
