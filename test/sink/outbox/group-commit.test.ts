/**
 * GroupCommit on its own (src/sink/outbox/group-commit.ts): the flush is a recording stand-in that each test
 * releases by hand, so what goes out together is decided by the order of calls, not by timing.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/sink/outbox/group-commit.js';

/** A flush that records its items and finishes only when `release` is called. */
function heldFlush(options: { gatherTurn?: boolean } = {}) {
  const flushes: string[][] = [];
  const pending: Array<() => void> = [];
  const commit = new GroupCommit<string, number>((items) => {
    flushes.push(items);
    return new Promise<number>((resolve) => pending.push(() => resolve(flushes.length)));
  }, options);
  const release = async () => {
    while (pending.length === 0) await turn();
    pending.shift()!();
    await turn();
  };
  return { commit, flushes, release };
}

/** Long enough never to fire within a test: whatever goes out, goes out for another reason. */
const LONG_HOLD = { holdMs: 60_000 };

describe('GroupCommit', () => {
  it('flushes an item at once when idle, and everything that arrives during a flush together next', async () => {
    const { commit, flushes, release } = heldFlush();
    const a = commit.submit(['a']);
    const b = commit.submit(['b']);
    const c = commit.submit(['c1', 'c2']);
    await release();
    await release();
    expect(await Promise.all([a, b, c])).toEqual([1, 2, 2]);
    expect(flushes).toEqual([['a'], ['b', 'c1', 'c2']]);
  });

  it('a held item starts no flush of its own: it goes out with the next flush another submit starts', async () => {
    const { commit, flushes, release } = heldFlush();
    const held = commit.submit(['outcome'], LONG_HOLD);
    await turn();
    expect(flushes).toEqual([]);
    expect(commit.busy).toBe(true);
    const frame = commit.submit(['event']);
    await release();
    expect(await Promise.all([held, frame])).toEqual([1, 1]);
    expect(flushes).toEqual([['outcome', 'event']]);
    expect(commit.busy).toBe(false);
  });

  it('an item held while a flush runs waits for the next submit instead of flushing alone after it', async () => {
    const { commit, flushes, release } = heldFlush();
    const first = commit.submit(['event 1']);
    const held = commit.submit(['outcome 1'], LONG_HOLD);
    await release();
    expect(await first).toBe(1);
    await turn();
    expect(flushes).toEqual([['event 1']]);
    const second = commit.submit(['event 2']);
    await release();
    expect(await Promise.all([held, second])).toEqual([2, 2]);
    expect(flushes).toEqual([['event 1'], ['outcome 1', 'event 2']]);
  });

  it('a held item goes out alone once its hold is over', async () => {
    const { commit, flushes, release } = heldFlush();
    const held = commit.submit(['outcome'], { holdMs: 5 });
    await release();
    expect(await held).toBe(1);
    expect(flushes).toEqual([['outcome']]);
  });

  it('idle() and flushHeld() send held items at once', async () => {
    const { commit, flushes, release } = heldFlush();
    const one = commit.submit(['outcome 1'], LONG_HOLD);
    const idle = commit.idle();
    await release();
    await idle;
    expect(await one).toBe(1);
    const two = commit.submit(['outcome 2'], LONG_HOLD);
    await turn();
    expect(flushes).toHaveLength(1);
    commit.flushHeld();
    await release();
    expect(await two).toBe(2);
    expect(flushes).toEqual([['outcome 1'], ['outcome 2']]);
  });

  it('idle() waits for items held during the flush it waited on', async () => {
    const { commit, flushes, release } = heldFlush();
    void commit.submit(['event']);
    const idle = commit.idle();
    const held = commit.submit(['outcome'], LONG_HOLD);
    await release();
    await release();
    await idle;
    expect(await held).toBe(2);
    expect(flushes).toEqual([['event'], ['outcome']]);
  });

  it('a failed flush rejects held and waiting items alike', async () => {
    const flushes: string[][] = [];
    const commit = new GroupCommit<string, number>(async (items) => {
      flushes.push(items);
      throw new Error('disk gone');
    });
    const held = commit.submit(['outcome'], LONG_HOLD);
    const frame = commit.submit(['event']);
    await expect(held).rejects.toThrow('disk gone');
    await expect(frame).rejects.toThrow('disk gone');
    expect(flushes).toEqual([['outcome', 'event']]);
  });

  it('with gatherTurn, an idle queue flushes at the end of the turn: everything submitted in that turn goes together', async () => {
    const { commit, flushes, release } = heldFlush({ gatherTurn: true });
    const a = commit.submit(['a']);
    const b = commit.submit(['b1', 'b2']);
    expect(flushes).toEqual([]);
    expect(commit.busy).toBe(true);
    await turn();
    expect(flushes).toEqual([['a', 'b1', 'b2']]);
    const c = commit.submit(['c']);
    await release();
    await release();
    expect(await Promise.all([a, b, c])).toEqual([1, 1, 2]);
    expect(flushes).toEqual([['a', 'b1', 'b2'], ['c']]);
    expect(commit.busy).toBe(false);
  });
});
