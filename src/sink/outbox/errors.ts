/**
 * The outbox's errors. Its refusals are `RefusalError`s (issue #4: a failed `append` is a NAK, never an ACK) whose
 * `refusal` the receiver reads; the classes stay for callers that tell them apart.
 */
import { RefusalError } from '../refusal.js';

/**
 * `maxBytes` reached or the disk is full: the frame is NAKed (the panel keeps the event and retries) and nothing
 * already accepted is dropped (issue #6).
 */
export class OutboxFullError extends RefusalError {
  override readonly name = 'OutboxFullError';
  constructor(
    readonly kind: 'max-bytes' | 'disk-full',
    message: string,
  ) {
    super('log-full', message);
  }
}

/** `ackAfter: "delivered"`: the API did not accept the events within `deliveredTimeoutSeconds`. They stay queued. */
export class DeliveryTimeoutError extends RefusalError {
  override readonly name = 'DeliveryTimeoutError';
  constructor(
    readonly eventIds: readonly string[],
    timeoutMs: number,
  ) {
    super('delivery-timeout', `${eventIds.length} event(s) not accepted by the sink within ${timeoutMs} ms; they stay queued`, true);
  }
}

/** `ackAfter: "delivered"`: an event went to the dead letters instead of being accepted by the API. */
export class DeliveryFailedError extends RefusalError {
  override readonly name = 'DeliveryFailedError';
  constructor(
    readonly eventId: string,
    readonly reason: string,
  ) {
    super('delivery-failed', `event ${eventId} was not delivered: ${reason}`);
  }
}

export class OutboxClosedError extends RefusalError {
  override readonly name = 'OutboxClosedError';
  constructor(message = 'the outbox is closed') {
    super('closed', message);
  }
}

/** Another live process has the outbox directory open for writing (two writers would corrupt the journal). */
export class OutboxLockedError extends Error {
  override readonly name = 'OutboxLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`outbox ${dir} is in use by process ${pid}`);
  }
}

/** A write to the outbox failed for another reason than a full disk (I/O error, permissions, …). */
export class OutboxWriteError extends RefusalError {
  override readonly name = 'OutboxWriteError';
  constructor(message: string) {
    super('write-failed', message);
  }
}

/** True for the errno codes that mean "no space left" (ENOSPC, and EDQUOT for a user quota). */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
