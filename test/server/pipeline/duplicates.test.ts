import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { describe, expect, it } from 'vitest';
import {
  DuplicateFilter,
  type AcceptResult,
  type DuplicateKeyFields,
  type LastFrame,
  type LastFrameStore,
} from '../../../src/server/pipeline/duplicates.js';

const t0 = Date.parse('2026-11-26T12:00:00Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** A frame received `seconds` after t0; `stamped` gives it a panel timestamp (t0). */
const frame = (seconds: number, data = '#1234|NBA1', options: { account?: string; stamped?: boolean } = {}): DuplicateKeyFields => ({
  account: options.account ?? '1234',
  data,
  timestamp: options.stamped ? at(0) : null,
  receivedAt: at(seconds),
});

/** A filter with a 120 s window (changeable) and an acceptor that counts its calls. */
function setup(options: { windowSeconds?: number; maxKeys?: number } = {}) {
  let windowSeconds = options.windowSeconds ?? 120;
  const filter = new DuplicateFilter({ windowMs: () => windowSeconds * 1000, ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}) });
  let calls = 0;
  const run = (f: DuplicateKeyFields, result: AcceptResult = 'accepted', token = 'SIA-DCS') =>
    filter.filter(f, token, async () => {
      calls++;
      return result;
    });
  /** A first frame whose acceptance is still under way until `finish`. */
  const pending = () => {
    let finish!: (r: AcceptResult) => void;
    const first = filter.filter(
      frame(0),
      'SIA-DCS',
      () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
    );
    return { first, finish: (r: AcceptResult) => finish(r) };
  };
  return {
    filter,
    run,
    pending,
    calls: () => calls,
    setWindow: (s: number) => {
      windowSeconds = s;
    },
  };
}

describe('DuplicateFilter', () => {
  it('a timestamped copy within the window is a duplicate; after it, accepted anew', async () => {
    const d = setup();
    expect(await d.run(frame(0, undefined, { stamped: true }))).toBe('accepted');
    expect(await d.run(frame(119, undefined, { stamped: true }))).toBe('duplicate');
    expect(d.calls()).toBe(1);
    expect(await d.run(frame(121, undefined, { stamped: true }))).toBe('accepted');
    expect(d.calls()).toBe(2);
  });

  it('a timestamped frame is no copy when account, token, data or timestamp differ', async () => {
    const d = setup();
    await d.run(frame(0, '#1234|NBA1', { stamped: true }));
    expect(await d.run(frame(1, '#1234|NBA2', { stamped: true }))).toBe('accepted');
    expect(await d.run(frame(1, '#1234|NBA1', { stamped: true, account: '5678' }))).toBe('accepted');
    expect(await d.run(frame(1, '#1234|NBA1', { stamped: true }), 'accepted', 'ADM-CID')).toBe('accepted');
    expect(await d.run({ ...frame(1, '#1234|NBA1'), timestamp: at(5) })).toBe('accepted');
    expect(d.calls()).toBe(5);
  });

  it("an untimestamped frame is a copy only of the account's last accepted frame: alarm, restore, alarm again all pass", async () => {
    const d = setup();
    expect(await d.run(frame(0, '#1234|NBA1'))).toBe('accepted');
    expect(await d.run(frame(1, '#1234|NBA1'))).toBe('duplicate');
    expect(await d.run(frame(2, '#1234|NBR1'))).toBe('accepted');
    expect(await d.run(frame(3, '#1234|NBA1'))).toBe('accepted');
    expect(await d.run(frame(4, '#1234|NBA1', { account: '5678' }))).toBe('accepted');
    expect(d.calls()).toBe(4);
  });

  it.each([
    { first: 'accepted', copy: 'duplicate', calls: 0 },
    { first: 'persisted-not-delivered', copy: 'duplicate', calls: 0 },
    { first: 'refused', copy: 'accepted', calls: 1 },
  ] as const)(
    'a copy that arrives while the first is being accepted waits for it: first $first, copy $copy',
    async ({ first: outcome, copy: expected, calls }) => {
      const d = setup();
      const { first, finish } = d.pending();
      let copyDone = false;
      const copy = d.run(frame(1)).then((r) => {
        copyDone = true;
        return r;
      });
      await new Promise((r) => setImmediate(r));
      expect(copyDone).toBe(false);
      finish(outcome);
      expect(await first).toBe(outcome);
      expect(await copy).toBe(expected);
      expect(d.calls()).toBe(calls);
    },
  );

  it('forgets a refused frame (its retransmission is processed anew) and remembers a persisted-not-delivered one', async () => {
    const d = setup();
    expect(await d.run(frame(0), 'refused')).toBe('refused');
    expect(d.filter.size).toBe(0);
    expect(await d.run(frame(1), 'persisted-not-delivered')).toBe('persisted-not-delivered');
    expect(await d.run(frame(2))).toBe('duplicate');
    expect(d.calls()).toBe(2);
  });

  it('remembers nothing with a window of 0, and reads the window on every frame (a reload changes it)', async () => {
    const d = setup({ windowSeconds: 0 });
    await d.run(frame(0));
    expect(await d.run(frame(1))).toBe('accepted');
    expect(d.filter.size).toBe(0);
    d.setWindow(10);
    await d.run(frame(2));
    expect(await d.run(frame(11))).toBe('duplicate');
    expect(await d.run(frame(13))).toBe('accepted');
  });

  it('expires old entries as frames arrive and keeps at most maxKeys, forgetting the oldest first', async () => {
    const d = setup({ maxKeys: 2 });
    await d.run(frame(0, 'a', { account: 'A' }));
    await d.run(frame(1, 'b', { account: 'B' }));
    await d.run(frame(2, 'c', { account: 'C' }));
    expect(d.filter.size).toBe(2);
    expect(await d.run(frame(3, 'a', { account: 'A' }))).toBe('accepted');
    expect(await d.run(frame(4, 'c', { account: 'C' }))).toBe('duplicate');
    await d.run(frame(500, 'z', { account: 'Z' }));
    expect(d.filter.size).toBe(1);
  });

  it('keeps a remembered frame in about a hundred bytes, without the decrypted text its data was cut from', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const filter = new DuplicateFilter({ windowMs: () => 120_000 });
    const accept = async (): Promise<AcceptResult> => 'accepted';
    const count = 20_000;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < count; i++) {
      // As the decoder hands it over: the data is a slice of the whole decrypted text.
      const text = Buffer.from(`\x01\x02pad|#1234|Nri1/BA${i}]_12:00:00,12-02-2026`, 'latin1').toString('latin1');
      const data = text.slice(text.indexOf('|') + 1, text.indexOf(']'));
      await filter.filter({ account: '1234', data, timestamp: at(0), receivedAt: at(i / 1000) }, 'SIA-DCS', accept);
    }
    gc();
    const perEntry = (process.memoryUsage().heapUsed - before) / count;
    expect(filter.size).toBe(count);
    // An entry object and a key of concatenated pieces holding the decrypted text took ~370 bytes in this test.
    expect(perEntry).toBeLessThan(200);
  });

  it('expires on time after a reload shortens the window (a later entry expiring before earlier ones)', async () => {
    const d = setup({ windowSeconds: 120 });
    await d.run(frame(0, 'a', { account: 'A' })); // expires at 120 s
    d.setWindow(10);
    await d.run(frame(1, 'b', { account: 'B' })); // expires at 11 s
    await d.run(frame(5, 'c', { account: 'C' })); // expires at 15 s
    expect(d.filter.size).toBe(3);
    // Past B's expiry (not A's): B's copy is accepted anew (replacing B) and the walk, stopping at A, drops nothing.
    expect(await d.run(frame(12, 'b', { account: 'B' }))).toBe('accepted');
    expect(d.filter.size).toBe(3);
    await d.run(frame(121, 'z', { account: 'Z' }));
    // A expired: it and everything behind it that expired go; only Z (121 + 10 s) stays.
    expect(d.filter.size).toBe(1);
  });

  it('a key remembered again keeps its new expiry when its earlier one passes', async () => {
    const d = setup({ windowSeconds: 10 });
    // Untimestamped: the key is the account, remembered again with every new frame of it.
    expect(await d.run(frame(0, '#1234|NBA1'))).toBe('accepted'); // until 10 s
    expect(await d.run(frame(5, '#1234|NBR1'))).toBe('accepted'); // until 15 s
    // 10 s (the account's first expiry) has passed: the restore is still remembered.
    expect(await d.run(frame(12, '#1234|NBR1'))).toBe('duplicate');
    expect(await d.run(frame(16, '#1234|NBR1'))).toBe('accepted');
    expect(d.calls()).toBe(3);
  });

  it('an untimestamped account sending every second stays remembered as one key, its copies caught', async () => {
    const d = setup({ windowSeconds: 5 });
    for (let s = 0; s < 30; s++) expect(await d.run(frame(s, `#1234|NBA${s}`))).toBe('accepted');
    expect(d.filter.size).toBe(1);
    expect(await d.run(frame(30, '#1234|NBA29'))).toBe('duplicate');
  });

  it('over many windows remembers exactly the frames of the last one (the order is moved down as it is used up)', async () => {
    const d = setup({ windowSeconds: 1 });
    // 5,000 frames 10 ms apart: far past the point where the forgotten places are cut off the front.
    for (let i = 0; i < 5_000; i++) await d.run(frame(i / 100, `#1234|NBA${i}`, { stamped: true }));
    expect(d.filter.size).toBe(100);
    const last = 4_999 / 100;
    expect(await d.run(frame(last, '#1234|NBA4900', { stamped: true }))).toBe('duplicate');
    expect(await d.run(frame(last, '#1234|NBA4899', { stamped: true }))).toBe('accepted');
  });

  it('at the cap forgets the oldest key still remembered, passing over places left by keys remembered again or refused', async () => {
    const d = setup({ maxKeys: 3, windowSeconds: 10 });
    await d.run(frame(0, 'a', { account: 'A' })); // A until 10 s
    await d.run(frame(1, 'b', { account: 'B' }), 'refused'); // B forgotten at once
    await d.run(frame(2, 'c', { account: 'C' })); // C until 12 s
    await d.run(frame(11, 'a', { account: 'A' })); // A expired and remembered anew (11 s + 10 s)
    await d.run(frame(13, 'd', { account: 'D' }));
    await d.run(frame(14, 'e', { account: 'E' }));
    // C expired at 12 s; A, D, E fill the cap. One more: the oldest remembered (A, at 11 s) goes, not D or E.
    expect(d.filter.size).toBe(3);
    await d.run(frame(15, 'f', { account: 'F' }));
    expect(d.filter.size).toBe(3);
    expect(await d.run(frame(15, 'a', { account: 'A' }))).toBe('accepted');
    expect(await d.run(frame(15, 'e', { account: 'E' }))).toBe('duplicate');
    expect(await d.run(frame(15, 'f', { account: 'F' }))).toBe('duplicate');
  });
});

/** The accounts' last frames shared by several filters (as the state bucket shares them between instances), in memory. */
class SharedLastFrames implements LastFrameStore {
  readonly frames = new Map<string, LastFrame>();
  answering = true;
  gets = 0;
  sets = 0;
  async get(account: string) {
    this.gets++;
    return this.answering ? (this.frames.get(account) ?? null) : 'unknown';
  }
  async set(account: string, frame: LastFrame) {
    this.sets++;
    if (this.answering) this.frames.set(account, frame);
  }
}

/** Two instances' filters on one shared store, each with a 120 s window and an acceptor that counts its calls. */
function instances() {
  const shared = new SharedLastFrames();
  let calls = 0;
  const instance = () => {
    const filter = new DuplicateFilter({ windowMs: () => 120_000, lastFrames: shared });
    return (f: DuplicateKeyFields, result: AcceptResult = 'accepted') =>
      filter.filter(f, 'SIA-DCS', async () => {
        calls++;
        return result;
      });
  };
  return { a: instance(), b: instance(), shared, calls: () => calls };
}

describe('DuplicateFilter with last frames shared between instances', () => {
  it('an untimestamped copy of a frame another instance accepted is a duplicate within the window, accepted after it', async () => {
    const { a, b, calls } = instances();
    expect(await a(frame(0))).toBe('accepted');
    expect(await b(frame(1))).toBe('duplicate');
    expect(await b(frame(121))).toBe('accepted');
    expect(calls()).toBe(2);
  });

  it("alarm, restore, alarm again across instances all pass, though the first instance's memory holds the alarm", async () => {
    const { a, b, calls } = instances();
    expect(await a(frame(0, '#1234|NBA1'))).toBe('accepted');
    expect(await b(frame(1, '#1234|NBR1'))).toBe('accepted');
    expect(await a(frame(2, '#1234|NBA1'))).toBe('accepted');
    expect(await b(frame(3, '#1234|NBA1'))).toBe('duplicate');
    expect(calls()).toBe(3);
  });

  it('records a frame only once it was not refused, and never asks about timestamped frames', async () => {
    const { a, b, shared } = instances();
    expect(await a(frame(0), 'refused')).toBe('refused');
    expect(shared.frames.size).toBe(0);
    expect(await b(frame(1))).toBe('accepted');
    expect(await a(frame(2, 'x', { stamped: true }))).toBe('accepted');
    expect(await b(frame(3, 'x', { stamped: true }))).toBe('accepted'); // the stream's message id catches this one
    expect([shared.gets, shared.sets]).toEqual([2, 1]);
  });

  it('falls back to the local rule when the store does not answer', async () => {
    const { a, b, shared } = instances();
    shared.answering = false;
    expect(await a(frame(0))).toBe('accepted');
    expect(await a(frame(1))).toBe('duplicate');
    expect(await b(frame(2))).toBe('accepted');
  });

  it('a copy arriving while the same instance is still accepting the first waits for it, without asking the store', async () => {
    const shared = new SharedLastFrames();
    const filter = new DuplicateFilter({ windowMs: () => 120_000, lastFrames: shared });
    let finish!: (r: AcceptResult) => void;
    const first = filter.filter(frame(0), 'SIA-DCS', () => new Promise((resolve) => (finish = resolve)));
    await new Promise((r) => setImmediate(r));
    const copy = filter.filter(frame(1), 'SIA-DCS', async () => 'accepted');
    finish('accepted');
    expect(await first).toBe('accepted');
    expect(await copy).toBe('duplicate');
    expect(shared.gets).toBe(1);
  });
});
