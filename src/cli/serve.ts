/** `alarm-bridge serve [--config FILE]`: the receiver, with an embedded default that works out of the box. */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { createLogger, describeError, errorMessage, errorStack, type Logger } from '../log.js';
import { deliveryCheck, startBridge, type RunningBridge } from '../server/app/bridge.js';
import { startStatusServer, type OutboxAction, type ReadinessCheck, type StatusServerOptions } from '../server/ops/http-status.js';
import { clearControlToken, newControlToken, publishControlToken, type PublishedToken } from '../server/ops/control-token.js';
import { OutboxClosedError, QUARANTINE_DIR, type JournalDamageReport } from '../sink/outbox/index.js';
import { UsageError } from './frame-input.js';
import { discardLetters, parseChoice, retryLetters, type DeadLetterChoice } from './outbox.js';

interface ServeArgs {
  config?: string;
  exitCode?: number;
}

/** Sections a running bridge keeps until it is restarted (sockets, sink, journal, status server, logger). */
const RESTART_SECTIONS = ['listeners', 'sink', 'outbox', 'http', 'log'] as const;

/** Re-reads the file on SIGHUP: accounts, keys and mapping change in place; an invalid file keeps the old config. */
async function reload(path: string, bridge: RunningBridge, logger: Logger): Promise<void> {
  let next: BridgeConfig;
  try {
    next = await loadConfigFile(path);
  } catch (err) {
    logger.error({ file: path, err: errorMessage(err) }, 'configuration reload rejected; the running configuration stays');
    return;
  }
  const current = bridge.pipeline.currentConfig;
  const needRestart = RESTART_SECTIONS.filter((section) => JSON.stringify(next[section]) !== JSON.stringify(current[section]));
  if (needRestart.length > 0) {
    logger.warn({ file: path, sections: needRestart }, `${needRestart.join(', ')} changes need a restart; accounts, keys, receiver settings and mapping were reloaded`);
  }
  bridge.pipeline.reconfigure({ ...next, listeners: current.listeners, sink: current.sink, outbox: current.outbox, http: current.http, log: current.log });
  bridge.supervisor.reconfigure();
  logger.info({ file: path, accounts: Object.keys(next.accounts).length }, 'configuration reloaded');
}

/** MP4 uploads are announced to the API only when configured; nothing here produces the clips yet: say so. */
function warnAboutMp4(config: BridgeConfig, logger: Logger): void {
  for (const [account, cfg] of Object.entries(config.accounts)) {
    const zones = Object.entries(cfg.zones).filter(([, z]) => z.uploads?.shortMp4 || z.uploads?.eventMp4).map(([zone]) => zone);
    if (cfg.uploads.shortMp4 || cfg.uploads.eventMp4 || zones.length > 0) {
      logger.warn({ account, zones }, `accounts["${account}"] asks for MP4 uploads: events will announce them, but alarm-bridge has no MP4 source yet and uploads snapshots only`);
    }
  }
}

/** Damaged journal bytes skipped at start: degraded, not down (every readable event is delivered). */
export function journalDamageCheck(damage: JournalDamageReport, dir: string): ReadinessCheck | null {
  if (damage.ranges === 0) return null;
  const unknown = damage.uncountedRanges > 0 ? ` (and an unknown number in ${damage.uncountedRanges} range(s) no commit marker follows)` : '';
  return { ok: true, degraded: true, detail: `${damage.lostEvents} event(s)${unknown} lost in ${damage.bytes} damaged journal bytes found at start; copies in ${join(dir, QUARANTINE_DIR)}` };
}

/** `/readyz`: listeners bound, outbox writable and accepting, last delivery and token exchange not failing. */
async function readiness(config: BridgeConfig, bridge: RunningBridge): Promise<{ ready: boolean; checks: Record<string, ReadinessCheck> }> {
  const checks: Record<string, ReadinessCheck> = { listeners: { ok: bridge.listeners.length > 0, detail: `${bridge.listeners.length} bound` } };
  if (config.outbox && bridge.outbox) {
    const state = bridge.outbox.status().state;
    const writable = await access(config.outbox.dir, constants.W_OK).then(() => null, (e: unknown) => String(e));
    checks.outbox = { ok: writable === null && state === 'running', detail: writable ?? `state ${state}` };
    const journal = journalDamageCheck(bridge.outbox.status().damage, config.outbox.dir);
    if (journal) checks.journal = journal;
  }
  const { lastDelivery, lastToken } = bridge.health;
  if (lastDelivery) checks.delivery = deliveryCheck(lastDelivery);
  if (lastToken) checks.token = { ok: lastToken.ok, detail: `${lastToken.ok ? 'obtained' : 'failed'} at ${lastToken.at}` };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/**
 * `POST /outbox/retry|discard` on the status server: `alarm-bridge outbox retry|discard` while this bridge holds the
 * outbox. Retried letters are mapped with the configuration in force (after a SIGHUP, the fixed one).
 */
export function outboxActions(bridge: RunningBridge, token: string, logger: Logger): StatusServerOptions['outboxActions'] {
  const outbox = bridge.outbox;
  if (!outbox) return undefined;
  const answer = (work: (choice: DeadLetterChoice) => Promise<unknown>): OutboxAction => async (request) => {
    try {
      return { status: 200, body: await work(parseChoice(request)) };
    } catch (err) {
      if (err instanceof UsageError) return { status: 400, body: { error: err.message } };
      if (err instanceof OutboxClosedError) return { status: 503, body: { error: `the bridge is stopping: ${err.message}` } };
      logger.error({ err: describeError(err) }, 'outbox action failed');
      return { status: 500, body: { error: describeError(err) } };
    }
  };
  return {
    token,
    retry: answer((choice) => retryLetters(outbox, bridge.pipeline.currentConfig, choice)),
    discard: answer((choice) => discardLetters(outbox, choice)),
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
export async function startStatus(config: BridgeConfig, bridge: RunningBridge, logger: Logger): Promise<StatusHandle | null> {
  const outboxDir = config.outbox && bridge.outbox ? config.outbox.dir : null;
  if (outboxDir) await clearControlToken(outboxDir);
  if (!config.http) return null;
  const token = outboxDir ? newControlToken() : null;
  const server = await startStatusServer({
    host: config.http.host, port: config.http.port, registry: bridge.metrics.registry, logger,
    readiness: () => readiness(config, bridge), outboxActions: token ? outboxActions(bridge, token, logger) : undefined,
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

export async function runServe(args: ServeArgs): Promise<number> {
  let config: BridgeConfig;
  try {
    config = args.config ? await loadConfigFile(args.config) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  if (!args.config) {
    logger.info({ sink: config.sink }, 'no --config: embedded default (DC-09 on TCP and UDP port 12128, every account accepted, events written to the file sink)');
  }
  // Last lines of defence: a rejected promise nobody awaited is logged, not fatal; an uncaught exception leaves the
  // process in an unknown state, so it is logged and the process exits (the outbox makes a restart lose nothing).
  process.on('unhandledRejection', (reason) => logger.error({ err: errorStack(reason) }, 'unhandled promise rejection'));
  process.once('uncaughtException', (err) => {
    logger.fatal({ err: err.stack ?? err.message }, 'uncaught exception: exiting');
    logger.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  });
  warnAboutMp4(config, logger);
  let bridge: RunningBridge;
  try {
    bridge = await startBridge(config, { logger });
  } catch (err) {
    logger.fatal({ err: errorMessage(err) }, 'could not start');
    return 1;
  }
  let status: StatusHandle | null;
  try {
    status = await startStatus(config, bridge, logger);
  } catch (err) {
    logger.fatal({ err: describeError(err), http: config.http }, 'could not start the status server');
    await bridge.stop();
    return 1;
  }
  const stopAll = async () => {
    // The token goes before the lock: a bridge started right after this one must not lose its own token to us.
    await status?.withdrawToken();
    try {
      await bridge.stop();
    } finally {
      await status?.close();
    }
  };
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping: finishing frames in flight');
      void stopAll().then(() => logger.flush()).then(() => resolve(0), (err: unknown) => {
        logger.error({ err: String(err) }, 'error while stopping');
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    const path = args.config;
    process.on('SIGHUP', () => {
      if (path) void reload(path, bridge, logger);
      else logger.warn('SIGHUP: running on the embedded default, there is no configuration file to reload');
    });
  });
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'run the receiver: listen for panels, ACK them, map and deliver their events',
  builder: (y) => y.option('config', { type: 'string', describe: 'configuration file (JSON); default: the embedded one' }) as never,
  handler: async (argv) => {
    argv.exitCode = await runServe(argv);
  },
};
