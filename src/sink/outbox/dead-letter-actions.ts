/**
 * What is done with the outbox's dead letters besides appending them: keeping events the mapper did not forward,
 * and the operator's actions (`outbox retry|discard`): matching letters, re-queueing them with their original
 * event ids, discarding them. Actions run one after another (they read and rewrite the same file).
 */
import type { Logger } from '../../log.js';
import type { NotForwarded } from '../../mapper/index.js';
import type { OutgoingEvent } from '../types.js';
import type { DeadLetter, DeadLetterStore, StoredDeadLetter } from './dead-letters.js';

/** Which dead letters an operator action applies to (all given fields must match; none given: every letter). */
export interface DeadLetterFilter {
  /** Only these event ids. */
  ids?: readonly string[];
  account?: string;
  reason?: string;
}

export interface RetryDeadOptions extends DeadLetterFilter {
  /** Builds the event for a letter that has none (unmapped events), or null to leave it dead. */
  remap?: (letter: StoredDeadLetter) => OutgoingEvent | null;
}

export interface RetryDeadResult {
  /** Event ids appended to the journal again (each once, with its original id). */
  requeued: string[];
  /** Matching letters that could not be re-queued (no event and no `remap` result). */
  skipped: StoredDeadLetter[];
}

/** The dead letter of an event that was not forwarded; its source is kept with its index, to map it again. */
export function letterOf(event: NotForwarded, deadAt: string): DeadLetter {
  return {
    id: event.eventId,
    account: event.account,
    reason: event.reason,
    ...(event.message !== undefined ? { detail: event.message } : {}),
    ...(event.configKey !== undefined ? { configKey: event.configKey } : {}),
    deadAt,
    acceptedAt: event.receivedAt ? event.receivedAt.toISOString() : deadAt,
    ...(event.partial !== undefined ? { partial: event.partial } : {}),
    ...(event.source !== undefined ? { source: { frame: event.source, index: event.index } } : {}),
  };
}

/** Letters the filter selects; lines that could not be read back only when `withUnreadable` (they hold no event). */
export function matchLetters(letters: readonly StoredDeadLetter[], filter: DeadLetterFilter, withUnreadable: boolean): StoredDeadLetter[] {
  const ids = filter.ids ? new Set(filter.ids) : null;
  const account = filter.account?.toUpperCase();
  return letters.filter((l) => {
    if (l.reason === 'unreadable-line' && !withUnreadable) return false;
    if (filter.reason !== undefined && l.reason !== filter.reason) return false;
    if (ids && !ids.has(l.id)) return false;
    return account === undefined || l.account.toUpperCase() === account;
  });
}

/** What re-queueing letters comes to: each event id once, with its original id, and the lines it frees. */
export function requeuePlan(
  letters: readonly StoredDeadLetter[],
  remap: RetryDeadOptions['remap'],
): { chosen: Map<string, { event: OutgoingEvent; lines: number[] }>; skipped: StoredDeadLetter[] } {
  const chosen = new Map<string, { event: OutgoingEvent; lines: number[] }>();
  const skipped: StoredDeadLetter[] = [];
  for (const letter of letters) {
    const known = chosen.get(letter.id);
    if (known) {
      known.lines.push(letter.line);
      continue;
    }
    // A letter that can be mapped again (unmapped events keep their source) takes the fixed configuration.
    const event = remap?.(letter) ?? letter.event ?? null;
    if (!event) {
      skipped.push(letter);
      continue;
    }
    chosen.set(letter.id, { event: { ...event, body: { ...event.body, event_id: letter.id } }, lines: [letter.line] });
  }
  return { chosen, skipped };
}

export class DeadLetterActions {
  /** Operator actions, run one after another; `idle` waits for them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: DeadLetterStore,
    private readonly logger: Logger,
    /** Throws when the outbox cannot be changed (read-only, closing). */
    private readonly assertWritable: () => void,
    /** Appends re-queued events to the journal; resolves once they are durable. */
    private readonly requeue: (events: OutgoingEvent[]) => Promise<void>,
  ) {}

  /**
   * Re-queues matching dead letters (after the operator fixed the config): each event id once, with its original
   * event id, behind what its account already has pending; the letters are then removed from the file.
   */
  retry(options: RetryDeadOptions = {}): Promise<RetryDeadResult> {
    return this.oneAtATime(async () => {
      this.assertWritable();
      const { chosen, skipped } = requeuePlan(matchLetters(await this.store.readAll(), options, false), options.remap);
      if (chosen.size > 0) {
        await this.requeue([...chosen.values()].map((c) => c.event));
        // Only now: a crash before this line leaves the letters in place, so nothing is lost (at most re-queued twice).
        await this.store.remove(new Set([...chosen.values()].flatMap((c) => c.lines)));
        this.logger.info({ requeued: chosen.size, skipped: skipped.length }, 'outbox: dead letters re-queued');
      }
      return { requeued: [...chosen.keys()], skipped };
    });
  }

  /** Removes matching dead letters for good and returns them. Unreadable lines go too unless the filter excludes them. */
  discard(filter: DeadLetterFilter): Promise<StoredDeadLetter[]> {
    return this.oneAtATime(async () => {
      this.assertWritable();
      const letters = matchLetters(await this.store.readAll(), filter, true);
      if (letters.length > 0) {
        await this.store.remove(new Set(letters.map((l) => l.line)));
        this.logger.warn(
          { discarded: letters.length, event_ids: letters.map((l) => l.id) },
          'outbox: dead letters discarded by the operator',
        );
      }
      return letters;
    });
  }

  /** Resolves once the actions started so far are done. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private oneAtATime<T>(action: () => Promise<T>): Promise<T> {
    const run = this.queue.then(action);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
