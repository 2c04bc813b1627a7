/** `alarm-bridge serve [--config FILE]`: the receiver, with an embedded default that works out of the box. */
import type { CommandModule } from 'yargs';
import { ConfigError, defaultConfig, loadConfigFile } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { createLogger, type Logger } from '../log.js';
import { startBridge, type RunningBridge } from '../server/bridge.js';

interface ServeArgs {
  config?: string;
  exitCode?: number;
}

/** Re-reads the file on SIGHUP: accounts, keys and mapping change in place; an invalid file keeps the old config. */
async function reload(path: string, bridge: RunningBridge, logger: Logger): Promise<void> {
  let next: BridgeConfig;
  try {
    next = await loadConfigFile(path);
  } catch (err) {
    logger.error({ file: path, err: err instanceof Error ? err.message : String(err) }, 'configuration reload rejected; the running configuration stays');
    return;
  }
  const current = bridge.pipeline.currentConfig;
  if (JSON.stringify(next.listeners) !== JSON.stringify(current.listeners) || JSON.stringify(next.sink) !== JSON.stringify(current.sink)) {
    logger.warn({ file: path }, 'listener and sink changes need a restart; accounts, keys and mapping were reloaded');
  }
  bridge.pipeline.reconfigure({ ...next, listeners: current.listeners, sink: current.sink, outbox: current.outbox });
  logger.info({ file: path, accounts: Object.keys(next.accounts).length }, 'configuration reloaded');
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
  let bridge: RunningBridge;
  try {
    bridge = await startBridge(config, { logger });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping: finishing frames in flight');
      void bridge.stop().then(() => resolve(0), (err: unknown) => {
        logger.error({ err: String(err) }, 'error while stopping');
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (args.config) {
      const path = args.config;
      process.on('SIGHUP', () => void reload(path, bridge, logger));
    }
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
