/** The per-account scheduler on a manual clock: order per account, slots, backoffs that free their slot, fair turns. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountScheduler, type Step, type Timers } from '../../src/sink/scheduler.js';

/** Timers that fire only when the test moves the clock. */
class ManualTimers implements Timers {
  private at = 0;
  private due: Array<{ at: number; fire: () => void; id: number }> = [];
  private ids = 0;
  now = () => this.at;
  set = (fire: () => void, ms: number) => {
    const id = ++this.ids;
    this.due.push({ at: this.at + ms, fire, id });
    return id;
  };
  clear = (handle: unknown) => {
    this.due = this.due.filter((t) => t.id !== handle);
  };
  get pending(): number {
    return this.due.length;
  }
  advance(ms: number): void {
    this.at += ms;
    for (;;) {
      this.due.sort((a, b) => a.at - b.at);
      const next = this.due[0];
      if (!next || next.at > this.at) return;
      this.due.shift();
      next.fire();
    }
  }
}

interface Item {
  account: string;
  n: number;
}

/** A scheduler whose attempts stay open until the test settles them. */
function harness(concurrency: number) {
  const timers = new ManualTimers();
  const open: Array<{ item: Item; settle: (step: Step) => void }> = [];
  const started: string[] = [];
  const scheduler = new AccountScheduler<Item>({
    concurrency,
    account: (item) => item.account,
    attempt: (item) => {
      started.push(`${item.account}${item.n}`);
      return new Promise((settle) => open.push({ item, settle }));
    },
    timers,
  });
  const settle = async (account: string, step: Step = { kind: 'done' }) => {
    const at = open.findIndex((o) => o.item.account === account);
    expect(at, `an attempt of ${account} in flight`).toBeGreaterThanOrEqual(0);
    open.splice(at, 1)[0]!.settle(step);
    await new Promise((r) => setImmediate(r));
  };
  return { scheduler, timers, open, started, settle };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('AccountScheduler', () => {
  it('attempts each account in order, accounts in parallel up to the concurrency, turns fair', async () => {
    const { scheduler, started, settle, open } = harness(2);
    for (const n of [1, 2]) for (const account of ['A', 'B', 'C']) scheduler.add({ account, n });
    scheduler.start();
    expect(started).toEqual(['A1', 'B1']);
    expect(scheduler.running).toBe(2);
    await settle('A');
    // A goes to the back of the turn order: C gets the free slot first.
    expect(started).toEqual(['A1', 'B1', 'C1']);
    await settle('B');
    expect(started.at(-1)).toBe('A2');
    await settle('C');
    await settle('A');
    await settle('B');
    await settle('C');
    expect(started).toEqual(['A1', 'B1', 'C1', 'A2', 'B2', 'C2']);
    expect(open).toHaveLength(0);
    expect(scheduler.size).toBe(0);
    await scheduler.whenEmpty();
  });

  it('an account waiting out a backoff frees its slot; it is attempted again when the timer fires', async () => {
    const { scheduler, timers, started, settle } = harness(1);
    const a1 = { account: 'A', n: 1 };
    scheduler.add(a1);
    scheduler.add({ account: 'B', n: 1 });
    scheduler.start();
    expect(started).toEqual(['A1']);
    await settle('A', { kind: 'retry', afterMs: 5_000 });
    expect(started).toEqual(['A1', 'B1']);
    expect(scheduler.isWaiting('A')).toBe(true);
    expect(scheduler.retryAt(a1)).toBe(5_000);
    timers.advance(4_999);
    expect(started).toEqual(['A1', 'B1']);
    await settle('B');
    timers.advance(1);
    expect(started).toEqual(['A1', 'B1', 'A1']);
    expect(scheduler.retryAt(a1)).toBeNull();
    await settle('A');
    expect(scheduler.size).toBe(0);
  });

  it('pending lists an account head first; items added while it waits stay behind the head', async () => {
    const { scheduler, started, settle } = harness(4);
    scheduler.add({ account: 'A', n: 1 });
    scheduler.start();
    await settle('A', { kind: 'retry', afterMs: 100 });
    scheduler.add({ account: 'A', n: 2 });
    expect(started).toEqual(['A1']);
    expect([...scheduler.pending('A')].map((i) => i.n)).toEqual([1, 2]);
    expect([...scheduler.pending('Z')]).toEqual([]);
  });

  it('stop: no new attempts, backoff timers cleared, whenIdle once the attempts in flight finished', async () => {
    const { scheduler, timers, started, settle } = harness(1);
    scheduler.add({ account: 'A', n: 1 });
    scheduler.add({ account: 'B', n: 1 });
    scheduler.add({ account: 'C', n: 1 });
    scheduler.start();
    await settle('A', { kind: 'retry', afterMs: 10 });
    expect(started).toEqual(['A1', 'B1']);
    scheduler.stop();
    expect(timers.pending).toBe(0);
    let idle = false;
    void scheduler.whenIdle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    await settle('B');
    expect(idle).toBe(true);
    timers.advance(1_000);
    expect(started).toEqual(['A1', 'B1']);
    expect(scheduler.size).toBe(2);
  });

  it('an attempt that rejects takes the crashed step and the account keeps moving', async () => {
    const timers = new ManualTimers();
    const seen: number[] = [];
    const scheduler = new AccountScheduler<Item>({
      concurrency: 1,
      account: (i) => i.account,
      attempt: async (i) => {
        seen.push(i.n);
        if (i.n === 1) throw new Error('bug');
        return { kind: 'done' };
      },
      crashed: () => ({ kind: 'done' }),
      timers,
    });
    scheduler.add({ account: 'A', n: 1 });
    scheduler.add({ account: 'A', n: 2 });
    scheduler.start();
    await scheduler.whenEmpty();
    expect(seen).toEqual([1, 2]);
  });

  it('property: every item is attempted until done, each account in order, never over the concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ account: fc.constantFrom('A', 'B', 'C', 'D'), retries: fc.nat({ max: 2 }) }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (plan, concurrency) => {
          const timers = new ManualTimers();
          const left = plan.map((p) => p.retries);
          const done: Array<{ account: string; n: number }> = [];
          let inFlight = 0;
          let most = 0;
          const scheduler = new AccountScheduler<Item>({
            concurrency,
            account: (i) => i.account,
            attempt: async (i) => {
              most = Math.max(most, ++inFlight);
              await flush();
              inFlight--;
              if (left[i.n]! > 0) {
                left[i.n]!--;
                return { kind: 'retry', afterMs: 1 + (i.n % 7) };
              }
              done.push(i);
              return { kind: 'done' };
            },
            timers,
          });
          plan.forEach((p, n) => scheduler.add({ account: p.account, n }));
          scheduler.start();
          while (scheduler.size > 0) {
            await flush();
            timers.advance(1);
          }
          expect(done).toHaveLength(plan.length);
          expect(most).toBeLessThanOrEqual(concurrency);
          for (const account of ['A', 'B', 'C', 'D']) {
            const order = done.filter((d) => d.account === account).map((d) => d.n);
            expect(order).toEqual([...order].sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  describe('startsPerTurn', () => {
    const turn = () => new Promise((r) => setImmediate(r));

    function sliced(startsPerTurn: number) {
      const started: string[] = [];
      const scheduler = new AccountScheduler<Item>({
        concurrency: 100,
        startsPerTurn,
        account: (item) => item.account,
        attempt: (item) => {
          started.push(`${item.account}${item.n}`);
          return Promise.resolve({ kind: 'done' });
        },
        timers: new ManualTimers(),
      });
      return { scheduler, started };
    }

    it('starts a backlog in slices, one per turn of the event loop, until it is done', async () => {
      const { scheduler, started } = sliced(3);
      // Added before start and started in the same turn, as an outbox opened on a backlog: still one slice.
      for (let i = 0; i < 8; i++) scheduler.add({ account: `B${i}`, n: 1 });
      scheduler.start();
      expect(started).toHaveLength(3);
      await turn();
      expect(started).toHaveLength(6);
      await turn();
      expect(started).toHaveLength(8);
      await scheduler.whenEmpty();
    });

    it('never holds back what is added in the turn: the slice grows by each addition', async () => {
      const { scheduler, started } = sliced(2);
      for (let i = 0; i < 6; i++) scheduler.add({ account: `B${i}`, n: 1 });
      await turn();
      scheduler.start();
      expect(started).toEqual(['B01', 'B11']);
      await turn();
      expect(started.slice(2)).toEqual(['B21', 'B31']);
      // Three items added in this turn allow three more starts in it (in turn order, the backlog's first).
      for (let i = 0; i < 3; i++) scheduler.add({ account: `N${i}`, n: 1 });
      expect(started.slice(4)).toEqual(['B41', 'B51', 'N01']);
      await turn();
      expect(started.slice(7)).toEqual(['N11', 'N21']);
      await scheduler.whenEmpty();
      expect(started).toHaveLength(9);
    });
  });
});
