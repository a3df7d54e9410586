// Rate limiters with client-go's semantics (k8s.io/client-go/util/workqueue):
// `when` returns how long to wait before the item may be processed again, it
// never blocks. Time is injectable so tests can drive it without sleeping.

export interface RateLimiter {
  /** Milliseconds to wait before `key` may be processed again; records one more failure. */
  when(key: string): number;
  /** Drops the failure history of `key` (called after a successful reconcile). */
  forget(key: string): void;
  /** How many times `key` has been requeued through this limiter since the last forget. */
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base * 2^failures, capped at max. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    const backoff = this.baseMs * 2 ** exp;
    // 2 ** 1100 is Infinity: the cap also protects against overflow after many failures.
    return Number.isFinite(backoff) && backoff < this.maxMs ? backoff : this.maxMs;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * Overall token bucket (golang.org/x/time/rate `Reserve` semantics): each call
 * takes a token; when none is left the caller is told how long until its token
 * exists. Tokens refill at `qps` up to `burst`.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  when(_key: string): number {
    const now = this.now();
    const elapsedSec = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsedSec * this.qps);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The worst (longest) delay of all its limiters. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see every call (each records its own state), so no short-circuit.
    let max = 0;
    for (const limiter of this.limiters) max = Math.max(max, limiter.when(key));
    return max;
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let max = 0;
    for (const limiter of this.limiters) max = Math.max(max, limiter.numRequeues(key));
    return max;
  }
}

/** controller-runtime's default: per-key 5 ms → 1000 s, under an overall 10 qps / 100 burst bucket. */
export function defaultControllerRateLimiter(now: () => number = Date.now): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(5, 1_000_000),
    new BucketRateLimiter(10, 100, now),
  );
}
