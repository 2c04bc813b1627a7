/**
 * The durable-log contract (issue #4: a frame is ACKed only once `append` resolved; a refusal is a NAK and the panel
 * retries). What the pipeline and the bridge see of where events go, whatever keeps them: the local journal
 * (`outbox/`), the in-memory queue without an outbox (`memory-queue.ts`), the file sink written directly
 * (`direct-log.ts`). Each delivers per account in order through the shared scheduler (`scheduler.ts`) and backoff
 * (`retry.ts`), or has nothing to deliver to.
 */
import type { NotForwarded } from '../mapper/index.js';
import type { DeadLetterFilter, RetryDeadOptions, RetryDeadResult } from './outbox/dead-letter-actions.js';
import type { StoredDeadLetter } from './outbox/dead-letters.js';
import type { OutgoingEvent } from './types.js';

export type { NotForwarded };
export { RefusalError, type Refusal } from './refusal.js';

export type LogState = 'running' | 'full' | 'read-only' | 'closed';

export interface LogStatus {
  /** Events taken and not yet finally delivered, discarded or dead-lettered. */
  depth: number;
  /** Age of the oldest of them (0 when there are none). */
  oldestAgeSeconds: number;
  /** `full`: `append` refuses for want of room (the receiver NAKs). */
  state: LogState;
  /** Deliveries in flight now. */
  inFlight: number;
}

export interface DurableLog {
  /** Resolves once the events are safe (the backend's durability point); rejects, with a `RefusalError`, when not. */
  append(events: readonly OutgoingEvent[]): Promise<void>;
  /** Keeps events that are not forwarded for the operator; absent where there is nowhere to keep them (only logged). */
  keepNotForwarded?(events: readonly NotForwarded[]): Promise<void>;
  status(): LogStatus;
  /** The operator's actions on the dead letters, where the backend keeps them (`outbox retry|discard`). */
  retryDead?(options?: RetryDeadOptions): Promise<RetryDeadResult>;
  discardDead?(filter: DeadLetterFilter): Promise<StoredDeadLetter[]>;
  /** Stops taking events and lets deliveries in flight finish for a while. The sink is its opener's to close. */
  close(): Promise<void>;
}
