import { describe, expect, it } from 'vitest';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from './rate-limiter.js';

describe('ItemExponentialFailureRateLimiter', () => {
  it.each([
    { base: 5, max: 1_000_000, calls: 1, want: [5] },
    { base: 5, max: 1_000_000, calls: 5, want: [5, 10, 20, 40, 80] },
    { base: 1, max: 6, calls: 5, want: [1, 2, 4, 6, 6] },
    { base: 1000, max: 1000, calls: 2, want: [1000, 1000] },
  ])('base=$base max=$max gives $want', ({ base, max, calls, want }) => {
    const rl = new ItemExponentialFailureRateLimiter(base, max);
    const got = Array.from({ length: calls }, () => rl.when('a'));
    expect(got).toEqual(want);
    expect(rl.numRequeues('a')).toBe(calls);
  });

  it('tracks keys independently and forget resets one key', () => {
    const rl = new ItemExponentialFailureRateLimiter(5, 1000);
    rl.when('a');
    rl.when('a');
    rl.when('b');
    expect([rl.numRequeues('a'), rl.numRequeues('b')]).toEqual([2, 1]);
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
    expect(rl.when('b')).toBe(10);
  });

  it('caps instead of overflowing after very many failures', () => {
    const rl = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = rl.when('a');
    expect(last).toBe(1_000_000);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through then spaces calls at 1/qps', () => {
    let now = 0;
    const rl = new BucketRateLimiter(10, 3, () => now);
    expect([rl.when('a'), rl.when('b'), rl.when('c')]).toEqual([0, 0, 0]);
    // Fourth token is 100 ms away at 10 qps, the fifth 200 ms.
    expect(rl.when('d')).toBeCloseTo(100);
    expect(rl.when('e')).toBeCloseTo(200);
    now = 1000; // refill 10 tokens, but the two borrowed ones are paid back first
    expect(rl.when('f')).toBe(0);
    expect(rl.numRequeues('a')).toBe(0);
  });

  it('never holds more than burst tokens', () => {
    let now = 0;
    const rl = new BucketRateLimiter(1, 2, () => now);
    now = 60_000;
    expect([rl.when('a'), rl.when('a')]).toEqual([0, 0]);
    expect(rl.when('a')).toBeCloseTo(1000);
  });
});

describe('MaxOfRateLimiter', () => {
  const fixed = (ms: number, requeues: number): RateLimiter & { forgotten: string[] } => {
    const forgotten: string[] = [];
    return { when: () => ms, forget: (k) => forgotten.push(k), numRequeues: () => requeues, forgotten };
  };

  it('returns the longest delay and the most requeues, and forgets in every limiter', () => {
    const a = fixed(10, 1);
    const b = fixed(30, 4);
    const rl = new MaxOfRateLimiter(a, b);
    expect(rl.when('k')).toBe(30);
    expect(rl.numRequeues('k')).toBe(4);
    rl.forget('k');
    expect([a.forgotten, b.forgotten]).toEqual([['k'], ['k']]);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is exponential per key while the bucket has tokens', () => {
    const rl = defaultControllerRateLimiter(() => 0);
    expect([rl.when('x'), rl.when('x'), rl.when('x')]).toEqual([5, 10, 20]);
    expect(rl.numRequeues('x')).toBe(3);
  });

  it('is limited by the bucket once the burst of 100 is used', () => {
    const rl = defaultControllerRateLimiter(() => 0);
    for (let i = 0; i < 100; i++) rl.when(`k${i}`);
    // A fresh key would wait 5 ms by backoff, but the bucket needs 100 ms for the next token.
    expect(rl.when('fresh')).toBeCloseTo(100);
  });
});
