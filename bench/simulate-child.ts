/**
 * The load generator in its own process (`node dist/bench/simulate-child.js '<options JSON>'`): runs `runSimulate`
 * and reports to the parent over IPC — `connected` after the ramp-up, `idle` once panels with `framesPerPanel` are
 * done, and `report` at the end. A `stop` message ends the run early.
 */
import { runSimulate, type SimulateOptions } from '../src/cli/simulate.js';
import { onParent, tellParent } from './child.js';

/** SimulateOptions as JSON: the key as hex (it makes the frames encrypted), no callbacks. */
export type SimulateChildOptions = Omit<SimulateOptions, 'to' | 'key' | 'encrypted' | 'onConnected' | 'onIdle' | 'signal'> & {
  /** `HOST:PORT`, or several: the panels are spread over them. */
  to: string | string[];
  keyHex?: string;
};

const { keyHex, ...options } = JSON.parse(process.argv[2] ?? '{}') as SimulateChildOptions;
const stop = new AbortController();
onParent('stop', () => stop.abort());

try {
  const report = await runSimulate({
    ...options,
    ...(keyHex ? { key: Buffer.from(keyHex, 'hex') } : {}),
    onConnected: (connected) => tellParent({ type: 'connected', connected }),
    onIdle: () => tellParent({ type: 'idle' }),
    signal: stop.signal,
  });
  tellParent({ type: 'report', report });
} catch (err) {
  tellParent({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
}
process.disconnect?.();
