/** A bridge started the way an operator starts it (`node bin/alarm-bridge.js …`), with its JSON log lines readable. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { until } from './api-harness.js';

export const BIN = new URL('../../bin/alarm-bridge.js', import.meta.url).pathname;

export interface BridgeProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** The first log line matching `pattern` (waits up to 10 s). */
  logged(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnBridge(args: string[], cwd?: string): BridgeProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...(cwd ? { cwd } : {}) });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    async logged(pattern) {
      await until(() => lines.some((l) => pattern.test(l)), 10_000);
      return lines.find((l) => pattern.test(l))!;
    },
    stop(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}
