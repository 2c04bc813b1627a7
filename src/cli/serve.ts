/** `alarm-bridge serve [--config FILE] [--listen HOST:PORT]…`: the receiver, with an embedded default that works out of the box. */
import type { CommandModule } from 'yargs';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { createLogger, describeError, errorMessage, errorStack, type Logger } from '../log.js';
import { startBridge, type RunningBridge } from '../server/app/bridge.js';
import { onSighup } from '../server/app/reload.js';
import { startStatus, type StatusHandle } from '../server/app/status.js';
import { ActivityRecorder } from '../server/ops/activity.js';
import { StartupError } from '../startup-error.js';
import { UsageError } from './frame-input.js';
import { listenersFromOption } from './listen-option.js';

interface ServeArgs {
  config?: string;
  listen?: string[];
  exitCode?: number;
}

/** MP4 uploads are announced to the API only when configured; nothing here produces the clips yet: say so. */
function warnAboutMp4(config: BridgeConfig, logger: Logger): void {
  for (const [account, cfg] of Object.entries(config.accounts)) {
    const zones = Object.entries(cfg.zones)
      .filter(([, z]) => z.uploads?.shortMp4 || z.uploads?.eventMp4)
      .map(([zone]) => zone);
    if (cfg.uploads.shortMp4 || cfg.uploads.eventMp4 || zones.length > 0) {
      logger.warn(
        { account, zones },
        `accounts["${account}"] asks for MP4 uploads: events will announce them, but alarm-bridge has no MP4 source yet and uploads snapshots only`,
      );
    }
  }
}

/**
 * Every start-up failure of `serve` alike: one plain-text line `alarm-bridge: <what>: <fix>` on stderr (config
 * errors name file and key; StartupError the key and what to change) and exit status 2.
 */
function startupFailed(err: unknown): number {
  const known = err instanceof ConfigError || err instanceof UsageError || err instanceof StartupError;
  console.error(`alarm-bridge: ${known ? err.message : `could not start: ${describeError(err)}`}`);
  return 2;
}

export async function runServe(args: ServeArgs): Promise<number> {
  let config: BridgeConfig;
  let overrides: Partial<Pick<BridgeConfig, 'listeners'>> = {};
  try {
    if (args.listen && args.listen.length > 0) overrides = { listeners: listenersFromOption(args.listen) };
    config = { ...(args.config ? await loadConfigFile(args.config) : defaultConfig()), ...overrides };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) return startupFailed(err);
    throw err;
  }
  const logger = createLogger({ level: config.log.level });
  if (!args.config) {
    const where = overrides.listeners ? 'DC-09 on the --listen addresses' : 'DC-09 on TCP and UDP port 12128';
    logger.info({ sink: config.sink }, `no --config: embedded default (${where}, every account accepted, events written to the file sink)`);
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
  // The console's recorder, only when there is a status server to show it.
  const activity = config.http ? new ActivityRecorder() : undefined;
  let bridge: RunningBridge;
  try {
    bridge = await startBridge(config, { logger, activity });
  } catch (err) {
    logger.fatal({ err: errorMessage(err) }, 'could not start');
    logger.flush();
    return startupFailed(err);
  }
  let status: StatusHandle | null;
  try {
    status = await startStatus(config, bridge, logger, activity);
  } catch (err) {
    logger.fatal({ err: describeError(err), http: config.http }, 'could not start the status server');
    logger.flush();
    await bridge.stop();
    return startupFailed(err);
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
      void stopAll()
        .then(() => logger.flush())
        .then(
          () => resolve(0),
          (err: unknown) => {
            logger.error({ err: String(err) }, 'error while stopping');
            resolve(1);
          },
        );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', onSighup(args.config, bridge, logger, overrides));
  });
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'run the receiver: listen for panels, ACK them, map and deliver their events',
  builder: (y) =>
    y.option('config', { type: 'string', describe: 'configuration file (JSON); default: the embedded one' }).option('listen', {
      type: 'string',
      array: true,
      describe: 'DC-09 listener [tcp://|udp://]HOST:PORT in place of the configured ones (repeatable; without a scheme: TCP and UDP)',
    }) as never,
  handler: async (argv) => {
    argv.exitCode = await runServe(argv);
  },
};
