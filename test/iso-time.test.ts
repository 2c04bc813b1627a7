import { afterEach, describe, expect, it, vi } from 'vitest';
import { isoClock, isoOf } from '../src/iso-time.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('isoClock', () => {
  it('gives the ISO text of the current millisecond, the same text object within one millisecond', () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-02T09:00:00.000Z'), toFake: ['Date'] });
    const clock = isoClock();
    const first = clock();
    expect(first).toBe('2026-12-02T09:00:00.000Z');
    expect(clock()).toBe(first);
    vi.advanceTimersByTime(1);
    expect(clock()).toBe('2026-12-02T09:00:00.001Z');
    vi.setSystemTime(Date.parse('2026-12-01T23:59:59.999Z')); // a clock set back is followed too
    expect(clock()).toBe('2026-12-01T23:59:59.999Z');
  });
});

describe('isoOf', () => {
  it('is toISOString for any date, also one changed in place since it was last given', () => {
    const a = new Date('2026-12-02T09:00:00.123Z');
    const b = new Date('2026-12-02T09:00:00.123Z');
    expect(isoOf(a)).toBe('2026-12-02T09:00:00.123Z');
    expect(isoOf(a)).toBe('2026-12-02T09:00:00.123Z');
    expect(isoOf(b)).toBe('2026-12-02T09:00:00.123Z');
    b.setTime(Date.parse('2027-01-01T00:00:00.000Z'));
    expect(isoOf(b)).toBe('2027-01-01T00:00:00.000Z');
    expect(isoOf(a)).toBe('2026-12-02T09:00:00.123Z');
  });
});
