/**
 * Dead letters in cluster mode (docs/cluster.md §6): each letter is one message on `<stream>.dead.<account>` in the
 * `<stream>_DEAD` stream, the JSON of the outbox's letters (same fields, same format version), so `outbox list
 * --dead|retry|discard` work alike. A letter's handle (`line`) is its stream sequence. Re-queued letters are
 * published to the events stream with their original event_id, under a message id of their own (the event_id
 * alone would be dropped by the duplicate window as a copy of the first publish).
 */
import type { Logger } from '../../log.js';
import type { NotForwarded } from '../../mapper/index.js';
import {
  letterOf,
  matchLetters,
  requeuePlan,
  type DeadLetterFilter,
  type RetryDeadOptions,
  type RetryDeadResult,
} from '../outbox/dead-letter-actions.js';
import { DEAD_LETTER_VERSION, parseLetterLine, type DeadLetter, type StoredDeadLetter } from '../outbox/dead-letters.js';
import type { OutgoingEvent } from '../types.js';
import type { ClusterConnection } from './connection.js';
import { withoutCameraSecrets, type Accounts } from './event-message.js';
import type { ClusterNames } from './streams.js';
import { readStream } from './stream-reader.js';

/** The message id of a re-queued letter: unique per letter, the same if two operators re-queue it at once. */
/** JetStream's "no message found". */
const NO_MESSAGE_FOUND = 10037;

export const retryMessageId = (eventId: string, deadSeq: number) => `${eventId}:retry:${deadSeq}`;

/** Publishes re-queued events to the events stream (each with its message id); resolves once stored. */
export type Requeue = (events: ReadonlyArray<{ event: OutgoingEvent; msgID: string }>) => Promise<void>;

export class ClusterDeadLetters {
  /** Operator actions of this process, one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: ClusterConnection,
    private readonly names: ClusterNames,
    private readonly logger: Logger,
    /** The accounts in force: a configured camera source is kept as a marker, never with its secrets. */
    private readonly accounts: () => Accounts = () => ({}),
  ) {}

  /** Stores letters; resolves once the dead stream acknowledged every one. */
  async append(letters: readonly DeadLetter[]): Promise<void> {
    await Promise.all(
      letters.map((letter) =>
        this.connection.js.publish(
          this.names.deadSubject(letter.account),
          JSON.stringify({
            v: DEAD_LETTER_VERSION,
            ...letter,
            ...(letter.event ? { event: withoutCameraSecrets(letter.event, this.accounts()) } : {}),
          }),
        ),
      ),
    );
  }

  /** Events the mapper did not forward, kept with the mapper's reason and their source (to map them again). */
  keepNotForwarded(events: readonly NotForwarded[], deadAt: string): Promise<void> {
    return this.append(events.map((event) => letterOf(event, deadAt)));
  }

  /** Letters in stream order (a message that is not a letter is listed as `unreadable-line`), at most `limit`. */
  async readAll(limit?: number): Promise<StoredDeadLetter[]> {
    const letters: StoredDeadLetter[] = [];
    for await (const msg of readStream(this.connection.jsm, this.names.dead, limit)) {
      const text = msg.string();
      const letter = parseLetterLine(text);
      letters.push(
        typeof letter === 'string'
          ? { id: '', account: '', reason: 'unreadable-line', detail: `${letter}: ${text.slice(0, 200)}`, deadAt: '', line: msg.seq }
          : { ...letter, line: msg.seq },
      );
    }
    return letters;
  }

  /** Letters in the dead stream now. */
  async count(): Promise<number> {
    return (await this.connection.jsm.streams.info(this.names.dead)).state.messages;
  }

  /** Re-queues matching letters through `requeue` (mapped again by `remap`), then removes them. */
  retry(options: RetryDeadOptions, requeue: Requeue): Promise<RetryDeadResult> {
    return this.oneAtATime(async () => {
      const { chosen, skipped } = requeuePlan(matchLetters(await this.readAll(), options, false), options.remap);
      if (chosen.size > 0) {
        await requeue([...chosen.values()].map((c) => ({ event: c.event, msgID: retryMessageId(c.event.body.event_id, c.lines[0]!) })));
        // Only now: a failure before this line leaves the letters in place (at most re-queued twice, never lost).
        await this.remove([...chosen.values()].flatMap((c) => c.lines));
        this.logger.info({ requeued: chosen.size, skipped: skipped.length }, 'cluster: dead letters re-queued');
      }
      return { requeued: [...chosen.keys()], skipped };
    });
  }

  /** Removes matching letters for good and returns them (unreadable ones too unless the filter excludes them). */
  discard(filter: DeadLetterFilter): Promise<StoredDeadLetter[]> {
    return this.oneAtATime(async () => {
      const letters = matchLetters(await this.readAll(), filter, true);
      if (letters.length > 0) {
        await this.remove(letters.map((l) => l.line));
        this.logger.warn(
          { discarded: letters.length, event_ids: letters.map((l) => l.id) },
          'cluster: dead letters discarded by the operator',
        );
      }
      return letters;
    });
  }

  private async remove(seqs: readonly number[]): Promise<void> {
    for (const seq of seqs) {
      // Removed meanwhile (another operator's action): the same end.
      await this.connection.jsm.streams.deleteMessage(this.names.dead, seq, false).catch((err: { code?: unknown }) => {
        if (err.code !== NO_MESSAGE_FOUND) throw err;
      });
    }
  }

  private oneAtATime<T>(action: () => Promise<T>): Promise<T> {
    const run = this.queue.then(action);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
