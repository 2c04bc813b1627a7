/**
 * The per-account delivery scheduler shared by the outbox and the in-memory queue (no outbox):
 *
 * - per account in order: an account's next item waits for the previous one's final outcome;
 * - accounts in parallel, at most `concurrency` attempts in flight;
 * - an account waiting out a backoff does not hold a slot (accounts whose deliveries keep failing never stall the
 *   others);
 * - fair turns: an account that finished an item, or whose backoff ended, goes to the back of the ready list.
 *
 * Pure bookkeeping: what an attempt does and how long a backoff lasts is the caller's (`attempt` resolves to the
 * next step); the clock and the timers are injected, so tests run without real time. It tells DeliveryAlerts
 * of failed attempts and finished items, so the outbox and the in-memory queue log an outage alike.
 */
import type { Logger } from '../log.js';
import { DeliveryAlerts } from './delivery-alerts.js';

/**
 * What an attempt came to: the head item is done (the account moves on; `delivered` when the sink took it), or
 * tried again after `afterMs` (`failure`: why, and how many attempts it had, for the operator's log).
 */
export type Step =
  { kind: 'done'; delivered?: boolean } | { kind: 'retry'; afterMs: number; failure?: { reason: string; attempts: number } };

export interface Timers {
  now(): number;
  set(fire: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: Date.now,
  set: (fire, ms) => setTimeout(fire, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SchedulerOptions<T> {
  /** Attempts in flight at once, over all accounts. */
  concurrency: number;
  account(item: T): string;
  /** One attempt at an account's head item; should not reject (see `crashed`). */
  attempt(item: T): Promise<Step>;
  /** `attempt` rejected (a bug): the step to take instead; default a retry after a second. */
  crashed?(item: T, err: unknown): Step;
  timers?: Timers;
  /** Where failed attempts (warn, rate-limited) and the end of an outage (info) are logged (DeliveryAlerts). */
  logger?: Logger;
  /**
   * Attempts started per turn of the event loop beyond the items added in that turn (unset: no limit). A backlog
   * is then attempted in slices, and what else the thread has to do (the panels' frames) runs between them, while
   * new items are never held back (docs/performance.md §5).
   */
  startsPerTurn?: number;
}

interface Lane<T> {
  account: string;
  /** Items not yet done, from `head` on (an array with a moving head: no shifting on the hot path). */
  items: (T | undefined)[];
  head: number;
  /** idle: nothing to do (or stopped); ready: in the ready list; running: an attempt in flight; waiting: a backoff. */
  state: 'idle' | 'ready' | 'running' | 'waiting';
  timer: unknown;
  retryAt: number | null;
}

const CRASH_RETRY: Step = { kind: 'retry', afterMs: 1000 };

export class AccountScheduler<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes whose head may be attempted now, in turn order. */
  private ready: (Lane<T> | undefined)[] = [];
  private readyHead = 0;
  private inFlight = 0;
  private count = 0;
  private started = false;
  private stopped = false;
  private readonly timers: Timers;
  private readonly concurrency: number;
  private waiters: Array<{ until: 'idle' | 'empty'; resolve: () => void }> = [];
  private readonly alerts: DeliveryAlerts | null;
  private readonly startsPerTurn: number | null;
  /** The current turn's starts and additions (`startsPerTurn`); the turn ends with a `setImmediate`. */
  private turnOpen = false;
  private turnStarts = 0;
  private turnAdds = 0;

  constructor(private readonly options: SchedulerOptions<T>) {
    this.timers = options.timers ?? systemTimers;
    this.concurrency = Math.max(1, options.concurrency);
    this.startsPerTurn = options.startsPerTurn === undefined ? null : Math.max(1, options.startsPerTurn);
    this.alerts = options.logger ? new DeliveryAlerts(options.logger, () => this.timers.now()) : null;
  }

  /** Queues an item behind what its account already has. */
  add(item: T): void {
    const account = this.options.account(item);
    let lane = this.lanes.get(account);
    if (!lane) {
      lane = { account, items: [], head: 0, state: 'idle', timer: null, retryAt: null };
      this.lanes.set(account, lane);
    }
    lane.items.push(item);
    this.count++;
    // Items added before `start` are a backlog (recovered at start-up), not new ones: they raise no turn's budget.
    if (this.startsPerTurn !== null && this.started) {
      this.openTurn();
      this.turnAdds++;
    }
    if (lane.state === 'idle' && !this.stopped) {
      this.makeReady(lane);
      this.pump();
    }
  }

  /** Starts (or resumes) attempting; items added before wait for it. */
  start(): void {
    if (this.stopped) return;
    this.started = true;
    this.pump();
  }

  /** No new attempts, no backoff timers; attempts in flight finish (`whenIdle`). Items stay where they are. */
  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      if (lane.timer !== null) this.timers.clear(lane.timer);
      lane.timer = null;
      lane.retryAt = null;
      if (lane.state !== 'running') lane.state = 'idle';
    }
    this.ready = [];
    this.readyHead = 0;
    this.settleWaiters();
  }

  /** Attempts in flight now. */
  get running(): number {
    return this.inFlight;
  }

  /** Items not done yet, over all accounts. */
  get size(): number {
    return this.count;
  }

  /** True while the account waits out a backoff. */
  isWaiting(account: string): boolean {
    return this.lanes.get(account)?.state === 'waiting';
  }

  /** Every item not done yet, account by account. */
  *items(): Iterable<T> {
    for (const lane of this.lanes.values()) yield* this.pending(lane.account);
  }

  /** The account's items not done yet, head first. */
  *pending(account: string): Iterable<T> {
    const lane = this.lanes.get(account);
    if (!lane) return;
    for (let i = lane.head; i < lane.items.length; i++) yield lane.items[i]!;
  }

  /** When the item is next attempted, if it heads an account waiting out a backoff; else null. */
  retryAt(item: T): number | null {
    const lane = this.lanes.get(this.options.account(item));
    return lane && lane.state === 'waiting' && lane.items[lane.head] === item ? lane.retryAt : null;
  }

  /** Resolves once no attempt is in flight. */
  whenIdle(): Promise<void> {
    return this.when('idle');
  }

  /** Resolves once every item is done (or, after `stop`, once no attempt is in flight). */
  whenEmpty(): Promise<void> {
    return this.when('empty');
  }

  private when(until: 'idle' | 'empty'): Promise<void> {
    if (this.reached(until)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ until, resolve }));
  }

  private reached(until: 'idle' | 'empty'): boolean {
    return this.inFlight === 0 && (until === 'idle' || this.stopped || this.count === 0);
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still = this.waiters.filter((w) => !this.reached(w.until));
    if (still.length === this.waiters.length) return;
    const due = this.waiters.filter((w) => this.reached(w.until));
    this.waiters = still;
    for (const w of due) w.resolve();
  }

  private makeReady(lane: Lane<T>): void {
    lane.state = 'ready';
    this.ready.push(lane);
  }

  private pump(): void {
    if (!this.started || this.stopped) return;
    while (this.inFlight < this.concurrency && this.readyHead < this.ready.length && this.turnAllows()) {
      const lane = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined;
      if (this.readyHead === this.ready.length) {
        this.ready = [];
        this.readyHead = 0;
      }
      lane.state = 'running';
      this.inFlight++;
      const item = lane.items[lane.head]!;
      let attempt: Promise<Step>;
      try {
        attempt = this.options.attempt(item);
      } catch (err) {
        attempt = Promise.reject(err);
      }
      void attempt.catch((err: unknown) => this.options.crashed?.(item, err) ?? CRASH_RETRY).then((step) => this.finished(lane, step));
    }
  }

  /** Whether this turn may start one more attempt (`startsPerTurn`); counts it. */
  private turnAllows(): boolean {
    if (this.startsPerTurn === null) return true;
    this.openTurn();
    if (this.turnStarts >= this.startsPerTurn + this.turnAdds) return false;
    this.turnStarts++;
    return true;
  }

  private openTurn(): void {
    if (this.turnOpen) return;
    this.turnOpen = true;
    this.turnStarts = 0;
    this.turnAdds = 0;
    setImmediate(this.closeTurn);
  }

  private readonly closeTurn = (): void => {
    this.turnOpen = false;
    this.pump();
  };

  private finished(lane: Lane<T>, step: Step): void {
    this.inFlight--;
    if (step.kind === 'done') {
      this.advance(lane);
      this.alerts?.done(lane.account, step.delivered === true, this.count);
    } else if (this.stopped) {
      lane.state = 'idle';
    } else {
      this.wait(lane, step.afterMs);
      if (step.failure) this.alerts?.failed(lane.account, step.failure.reason, step.failure.attempts, lane.retryAt ?? this.timers.now());
    }
    this.pump();
    this.settleWaiters();
  }

  private advance(lane: Lane<T>): void {
    lane.items[lane.head++] = undefined;
    this.count--;
    if (lane.head === lane.items.length) {
      lane.state = 'idle';
      this.lanes.delete(lane.account);
      return;
    }
    if (lane.head >= 1024 && lane.head * 2 >= lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.head = 0;
    }
    // To the back of the turn order: one busy account does not starve the others.
    if (this.stopped) lane.state = 'idle';
    else this.makeReady(lane);
  }

  private wait(lane: Lane<T>, ms: number): void {
    lane.state = 'waiting';
    lane.retryAt = this.timers.now() + ms;
    lane.timer = this.timers.set(() => {
      lane.timer = null;
      lane.retryAt = null;
      this.makeReady(lane);
      this.pump();
    }, ms);
  }
}
