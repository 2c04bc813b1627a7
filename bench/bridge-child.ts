/**
 * A bridge in its own process (`node dist/bench/bridge-child.js <config file> <log file>`), so its
 * memory can be measured alone: sends `ready` with the port, answers `memory` with process.memoryUsage() and
 * the open connections, `gauge-start`/`gauge-stop` with its CPU and event-loop figures (serveGauge), and stops on
 * `stop`.
 */
import { loadConfigFile } from '../src/config/load.js';
import { startBridge } from '../src/server/app/bridge.js';
import { onParent, serveGauge, tellParent } from './child.js';
import { benchLogger } from './setup.js';

const [configFile = 'bench.json', logFile = 'bridge.log'] = process.argv.slice(2);
const config = await loadConfigFile(configFile);
const bridge = await startBridge(config, { logger: benchLogger(logFile, config.log.level) });

serveGauge();
onParent('memory', () => {
  void bridge.metrics.openConnections.get().then((metric) => {
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const connections = metric.values.reduce((n, v) => n + v.value, 0);
    tellParent({ type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers, connections });
  });
});
onParent('stop', () => {
  void bridge.stop().finally(() => {
    tellParent({ type: 'stopped' });
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200).unref();
  });
});
tellParent({ type: 'ready', port: bridge.port('tcp') });
