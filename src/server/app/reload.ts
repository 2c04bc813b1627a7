/** SIGHUP: re-reads the configuration file; accounts, keys, receiver settings and mapping change in place. */
import { loadConfigFile } from '../../config/load.js';
import type { BridgeConfig } from '../../config/types.js';
import { errorMessage, type Logger } from '../../log.js';
import type { RunningBridge } from './bridge.js';

/** Sections a running bridge keeps until it is restarted (sockets, sink, journal, status server, logger). */
export const RESTART_SECTIONS = ['listeners', 'sink', 'outbox', 'cluster', 'http', 'log'] as const;

/**
 * Reloads `path` into the running bridge; an invalid file keeps the running configuration (logged, with the file).
 * Resolves true once reloaded; never rejects.
 */
export async function reloadConfig(
  path: string,
  bridge: RunningBridge,
  logger: Logger,
  overrides: Partial<BridgeConfig> = {},
): Promise<boolean> {
  let next: BridgeConfig;
  try {
    // Sections given on the command line (`serve --listen`) stay as given.
    next = { ...(await loadConfigFile(path)), ...overrides };
  } catch (err) {
    logger.error({ file: path, err: errorMessage(err) }, 'configuration reload rejected; the running configuration stays');
    return false;
  }
  const current = bridge.pipeline.currentConfig;
  const needRestart = RESTART_SECTIONS.filter((section) => JSON.stringify(next[section]) !== JSON.stringify(current[section]));
  if (needRestart.length > 0) {
    logger.warn(
      { file: path, sections: needRestart },
      `${needRestart.join(', ')} changes need a restart; accounts, keys, receiver settings and mapping were reloaded`,
    );
  }
  const kept: Partial<BridgeConfig> = {};
  for (const section of RESTART_SECTIONS) (kept as Record<string, unknown>)[section] = current[section];
  bridge.pipeline.reconfigure({ ...next, ...kept });
  bridge.supervisor.reconfigure();
  logger.info({ file: path, accounts: Object.keys(next.accounts).length }, 'configuration reloaded');
  return true;
}

/** The SIGHUP handler of `serve`: reloads `path`, or says there is no file when the bridge runs on the embedded default. */
export function onSighup(
  path: string | undefined,
  bridge: RunningBridge,
  logger: Logger,
  overrides: Partial<BridgeConfig> = {},
): () => void {
  return () => {
    if (path) void reloadConfig(path, bridge, logger, overrides);
    else logger.warn('SIGHUP: running on the embedded default, there is no configuration file to reload');
  };
}
