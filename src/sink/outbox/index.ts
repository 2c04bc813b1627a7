/** The durable outbox (issue #6): journal, delivery scheduler, dead letters. What the bridge and the CLI use. */
export { openOutbox, type DeadLetterFilter, type Outbox, type OutboxDamageReport, type OutboxDeps, type OutboxStatus } from './outbox.js';
export { DeliveryFailedError, DeliveryTimeoutError, OutboxClosedError, OutboxFullError, OutboxLockedError } from './errors.js';
export { DEAD_LETTER_FILE, type StoredDeadLetter } from './dead-letters.js';
export { LOCK_FILE } from './lock.js';
export { QUARANTINE_DIR, type JournalDamageReport } from './journal.js';
