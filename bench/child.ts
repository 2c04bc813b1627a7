/**
 * Child processes of the benchmark (load generator, bridge, API emulator): forked with an IPC channel so the
 * parent and the child run on separate cores and talk in `{ type, ... }` messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcessGauge, type ProcessFigures, type ProcessGauge } from './process-gauge.js';

export interface BenchMessage {
  type: string;
  [field: string]: unknown;
}

export interface BenchChild {
  readonly process: ChildProcess;
  send(message: BenchMessage): void;
  /** The next message of this type (also one that arrived before the call), or an error when the child exits first. */
  next<T extends { type: string } = BenchMessage>(type: string, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code once the child has exited. */
  exited(): Promise<number | null>;
}

/** Forks `dist/bench/<script>` (next to this file once built) with `args`; the child's stderr is passed through. */
export function startChild(script: string, args: string[] = []): BenchChild {
  const child = fork(new URL(script, import.meta.url), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const inbox: BenchMessage[] = [];
  const waiters: { type: string; resolve: (m: BenchMessage) => void; reject: (e: Error) => void }[] = [];
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : null);
      for (const w of waiters.splice(0)) w.reject(new Error(`${script} exited (${signal ?? code}) before sending "${w.type}"`));
      resolve(exitCode);
    });
  });
  child.on('message', (raw) => {
    const message = raw as BenchMessage;
    const at = waiters.findIndex((w) => w.type === message.type);
    if (at >= 0) waiters.splice(at, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  return {
    process: child,
    send(message) {
      if (child.connected) child.send(message);
    },
    next<T extends { type: string }>(type: string, timeoutMs = 120_000): Promise<T> {
      const at = inbox.findIndex((m) => m.type === type);
      if (at >= 0) return Promise.resolve(inbox.splice(at, 1)[0] as T);
      if (exitCode !== undefined) return Promise.reject(new Error(`${script} has exited`));
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no "${type}" message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    exited: () => exit,
  };
}

/** In a child: sends a message to the parent (no-op without an IPC channel). */
export function tellParent(message: BenchMessage): void {
  process.send?.(message);
}

/** In a child: calls `handler` for each message of `type` from the parent. */
export function onParent(type: string, handler: (message: BenchMessage) => void): void {
  process.on('message', (raw) => {
    const message = raw as BenchMessage;
    if (message?.type === type) handler(message);
  });
}

/** In a child: measures this process between the parent's `gauge-start` and `gauge-stop` (process-gauge.ts). */
export function serveGauge(): void {
  let gauge: ProcessGauge | null = null;
  onParent('gauge-start', () => {
    gauge = startProcessGauge();
    tellParent({ type: 'gauge-started' });
  });
  onParent('gauge-stop', () => {
    tellParent({ type: 'gauge', figures: gauge?.stop() ?? null });
    gauge = null;
  });
}

/** In the parent: starts a child's gauge (`serveGauge`); `stop` returns what the child measured. */
export async function gaugeChild(child: BenchChild): Promise<{ stop(): Promise<ProcessFigures> }> {
  child.send({ type: 'gauge-start' });
  await child.next('gauge-started');
  return {
    stop: async () => {
      child.send({ type: 'gauge-stop' });
      return (await child.next<{ type: 'gauge'; figures: ProcessFigures }>('gauge')).figures;
    },
  };
}

/** In the parent: asks a child to `stop`, gives it 5 s to exit, then kills it. */
export async function stopChild(child: BenchChild): Promise<void> {
  child.send({ type: 'stop' });
  await Promise.race([child.exited(), sleep(5_000)]);
  child.process.kill();
}
