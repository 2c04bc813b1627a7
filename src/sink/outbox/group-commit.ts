/**
 * Group commit (issue #6): callers hand in items; while one flush (write + fsync) is running, everything that
 * arrives waits and then goes out together in the next flush. An idle queue flushes at once, so a lone frame pays
 * one fsync and no added delay, and under load one fsync covers many frames: durability does not cap throughput.
 */
export class GroupCommit<T, R> {
  private queue: Array<{ items: readonly T[]; resolve: (result: R) => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];

  /**
   * @param part what one caller gets of a flush's result, given where its items start in the flush and how many
   *             there are (default: the whole result).
   */
  constructor(
    private readonly flush: (items: T[]) => Promise<R>,
    private readonly part: (result: R, from: number, count: number) => R = (result) => result,
  ) {}

  /** Resolves with (its part of) the flush's result once the items are durable; rejects with the flush's error. */
  submit(items: readonly T[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  /** True while a flush runs or items wait. */
  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /** Resolves when nothing is queued or being flushed. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
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
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
