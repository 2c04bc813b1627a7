/** The durable outbox (issue #6): journal, delivery scheduler, dead letters. */
export {
  openOutbox,
  Outbox,
  type OutboxDeps,
  type OutboxState,
  type OutboxStatus,
  type PendingEvent,
  type RetryDeadOptions,
  type RetryDeadResult,
  type UnmappedEvent,
} from './outbox.js';
export {
  DeliveryFailedError,
  DeliveryTimeoutError,
  OutboxClosedError,
  OutboxCorruptError,
  OutboxFullError,
  OutboxLockedError,
  OutboxWriteError,
  isNoSpace,
} from './errors.js';
export { DEAD_LETTER_FILE, type DeadLetter, type StoredDeadLetter } from './dead-letters.js';
export {
  DEFAULT_SEGMENT_BYTES,
  Journal,
  defaultFileOps,
  segmentFileName,
  type JournalFileOps,
  type JournalStats,
  type OutcomeKind,
} from './journal.js';
export { LOCK_FILE } from './lock.js';
