/**
 * Group commit (issue #6): callers hand in items; while one flush (write + fsync) is running, everything that
 * arrives waits and then goes out together in the next flush. An idle queue flushes at once, so a lone frame pays
 * one fsync and no added delay, and under load one fsync covers many frames: durability does not cap throughput.
 *
 * Items nobody waits on (delivery outcomes, docs/performance.md §9) can be held back: they start no flush
 * of their own but go out with the next one that someone else starts, or after `holdMs` when none does. A frame
 * that arrives then finds no outcome-only fsync in its way.
 *
 * With `gatherTurn`, an idle queue starts its flush at the end of the current turn of the event loop (`setImmediate`)
 * instead of at once, so every frame read in the same turn goes out in that flush (docs/performance.md §4).
 */
export interface SubmitOptions {
  /** Wait up to this long for another caller's flush to join before flushing alone (0, the default: flush now). */
  holdMs?: number;
}

export interface GroupCommitOptions<R> {
  /** What one caller gets of a flush's result, given where its items start in the flush and how many there are. */
  part?: (result: R, from: number, count: number) => R;
  /** Start an idle queue's flush at the end of the turn (setImmediate) rather than at once. */
  gatherTurn?: boolean;
}

export class GroupCommit<T, R> {
  private queue: Array<{ items: readonly T[]; resolve: (result: R) => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  /** Submissions in the queue that want a flush now. */
  private urgent = 0;
  /** Held submissions are due (their timer fired, or someone waits for idle). */
  private due = false;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly part: (result: R, from: number, count: number) => R;
  private readonly gatherTurn: boolean;
  /** A flush is due to start at the end of this turn (`gatherTurn`). */
  private startScheduled = false;

  /** `options.part` defaults to the whole result for every caller. */
  constructor(
    private readonly flush: (items: T[]) => Promise<R>,
    options: GroupCommitOptions<R> = {},
  ) {
    this.part = options.part ?? ((result) => result);
    this.gatherTurn = options.gatherTurn ?? false;
  }

  /** Resolves with (its part of) the flush's result once the items are durable; rejects with the flush's error. */
  submit(items: readonly T[], options: SubmitOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      const holdMs = options.holdMs ?? 0;
      if (holdMs > 0) this.holdTimer ??= setTimeout(this.heldDue, holdMs);
      else this.urgent++;
      this.kick();
    });
  }

  /** True while a flush runs or items wait. */
  get busy(): boolean {
    return this.running || this.startScheduled || this.queue.length > 0;
  }

  /** Resolves when nothing is queued or being flushed; held items are flushed now. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.due = true;
      this.kick();
    });
  }

  /** Held items go out now (in the running flush's successor, or in a flush started here). */
  flushHeld(): void {
    if (this.queue.length === 0) return;
    this.due = true;
    this.kick();
  }

  private readonly heldDue = (): void => {
    this.holdTimer = null;
    this.due = true;
    this.kick();
  };

  private get flushWanted(): boolean {
    return this.urgent > 0 || (this.due && this.queue.length > 0);
  }

  private kick(): void {
    if (this.running || !this.flushWanted) return;
    if (!this.gatherTurn) {
      void this.run();
    } else if (!this.startScheduled) {
      this.startScheduled = true;
      setImmediate(this.startGathered);
    }
  }

  private readonly startGathered = (): void => {
    this.startScheduled = false;
    if (!this.running && this.flushWanted) void this.run();
  };

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.flushWanted) {
        const batch = this.queue;
        this.queue = [];
        this.urgent = 0;
        this.due = false;
        // Every held item queued so far goes out in this flush.
        if (this.holdTimer !== null) {
          clearTimeout(this.holdTimer);
          this.holdTimer = null;
        }
        const items: T[] = [];
        for (const b of batch) for (const item of b.items) items.push(item);
        try {
          const result = await this.flush(items);
          let from = 0;
          for (const b of batch) {
            b.resolve(this.part(result, from, b.items.length));
            from += b.items.length;
          }
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      } else if (this.idleWaiters.length > 0) {
        // Held items arrived during the last flush while someone waits for idle: they go now.
        this.due = true;
        this.kick();
      }
      // Otherwise only held items wait, and the timer armed when they came is running.
    }
  }
}
