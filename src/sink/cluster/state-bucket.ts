/**
 * Small helpers for the shared state bucket (`<stream>_STATE`, docs/cluster.md §4 and docs/cluster.md §7): key names, a bounded wait
 * for an answer, and reading a JSON value.
 */
import type { KvEntry } from '@nats-io/kv';

import { subjectToken } from './streams.js';

/** How long a state lookup on a frame's path may wait before the bridge decides without it. */
export const STATE_ANSWER_MS = 1000;

/** `<prefix>.<account token>`: KV keys follow subject rules, so an account is written as a subject token. */
export const stateKey = (prefix: 'last' | 'seen' | 'fail', account: string): string => `${prefix}.${subjectToken(account)}`;

/** `promise`, or a rejection once `ms` passed without an answer (the promise itself is left to finish). */
export function answerWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the state bucket did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The entry's JSON object, or null when the key is deleted or holds something else. */
export function entryObject(entry: KvEntry | null): Record<string, unknown> | null {
  if (entry === null || entry.operation !== 'PUT') return null;
  try {
    const value: unknown = entry.json();
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
