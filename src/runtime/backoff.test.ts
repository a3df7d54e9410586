import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, sleep } from './backoff.js';

describe('Backoff', () => {
  it.each([
    { name: 'no jitter', random: 0, want: [1000, 2000, 4000, 8000, 16000, 30000, 30000] },
    { name: 'full jitter', random: 1, want: [1200, 2400, 4800, 9600, 19200, 36000, 36000] },
  ])('$name: 1 s doubling to 30 s', ({ random, want }) => {
    const b = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.2, random: () => random });
    expect(want.map(() => b.next())).toEqual(want);
    expect(b.attempts).toBe(want.length);
  });

  it('reset starts again from the initial delay', () => {
    const b = new Backoff({ random: () => 0 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(1000);
  });
});

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the delay', async () => {
    let done = false;
    const p = sleep(500).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves early when aborted, and at once when already aborted', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
    await expect(sleep(60_000, ac.signal)).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
