// A rate-limiting, delaying work queue of string keys with client-go's
// semantics (k8s.io/client-go/util/workqueue):
//  - `dirty` holds keys that need processing; adding a dirty key again is a no-op (dedup).
//  - `processing` holds keys handed to a worker; such a key is never handed to
//    another worker. If it is added meanwhile it stays dirty and goes back on
//    the queue when the worker calls `done`.
//  - Optional lanes (not in client-go): a key may belong to a lane (Dockyard:
//    the Docker host its object lives on), and at most `limit` keys of one lane
//    are processed at once. A key whose lane is full is parked, in arrival
//    order, and goes back to the front of the queue when a key of that lane is
//    done, so one busy host never holds the workers the other hosts could use.
// Waiting workers are resolved synchronously from `add`, so the queue's state
// is always consistent even though `get` is a Promise.

import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** Hooks fed to workqueue_* metrics; all durations in seconds. */
export interface WorkQueueMetrics {
  depth(n: number): void;
  add(): void;
  queueDuration(seconds: number): void;
  workDuration(seconds: number): void;
  retry(): void;
  /**
   * Registers a probe read when metrics are collected, for
   * workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds
   * (client-go updates these on a 500 ms loop; reading at scrape time needs no timer).
   */
  unfinishedWorkProbe(probe: () => UnfinishedWork): void;
}

export interface UnfinishedWork {
  /** Sum over in-flight keys of how long each has been processed. */
  unfinishedSeconds: number;
  /** How long the longest in-flight key has been processed. */
  longestRunningSeconds: number;
}

export const noopWorkQueueMetrics: WorkQueueMetrics = {
  depth: () => {},
  add: () => {},
  queueDuration: () => {},
  workDuration: () => {},
  retry: () => {},
  unfinishedWorkProbe: () => {},
};

export type GetResult = { key: string; shutdown: false } | { key: undefined; shutdown: true };

export interface WorkQueueLanes {
  /** The lane a key belongs to; undefined: none (only the worker count bounds it). */
  laneOf(key: string): string | undefined;
  /** Keys of one lane processed at once (at least 1). */
  limit: number;
}

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  lanes?: WorkQueueLanes;
  metrics?: WorkQueueMetrics;
  /** Milliseconds clock for metrics; injectable for tests. */
  now?: () => number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: ((r: GetResult) => void)[] = [];
  /** Keys waiting for addAfter, with the time they become ready. */
  private readonly waiting = new Map<string, { readyAt: number; timer: NodeJS.Timeout }>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly drainWaiters: (() => void)[] = [];
  /** Keys held back because their lane was full, per lane, in arrival order. */
  private readonly parked = new Map<string, string[]>();
  private parkedCount = 0;
  /** Processing keys per lane, and the lane each processing key was counted in. */
  private readonly laneBusy = new Map<string, number>();
  private readonly laneOfProcessing = new Map<string, string>();
  /** Keys moved from a lane's parking to the queue, and that lane: their turn there is not yet used. */
  private readonly unparkedFrom = new Map<string, string>();
  private shuttingDown = false;
  private readonly lanes: WorkQueueLanes | undefined;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics;
  private readonly now: () => number;

  constructor(options: WorkQueueOptions = {}) {
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter();
    this.metrics = options.metrics ?? noopWorkQueueMetrics;
    this.now = options.now ?? Date.now;
    this.lanes = options.lanes ? { ...options.lanes, limit: Math.max(1, options.lanes.limit) } : undefined;
    this.metrics.unfinishedWorkProbe(() => this.unfinishedWork());
  }

  /** Marks `key` as needing processing. Ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.add();
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.queue.push(key);
    this.metrics.depth(this.len());
    this.dispatch();
  }

  /** Adds `key` after `delayMs`; if it is already waiting, the earlier time wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must not keep the process alive on its own.
    timer.unref?.();
    this.waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's delay for it (a retry). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retry();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * Resolves with the next key, marking it as processing; the caller must call
   * `done(key)`. After shutdown, keys still queued are handed out first, then
   * every call resolves with `{ shutdown: true }`.
   */
  get(): Promise<GetResult> {
    const next = this.take();
    if (next) return Promise.resolve(next);
    if (this.shuttingDown) return Promise.resolve({ key: undefined, shutdown: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` as no longer processing; re-queues it if it was added meanwhile. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.metrics.workDuration((this.now() - started) / 1000);
    const unparked = this.releaseLane(key);
    const requeued = this.dirty.has(key);
    if (requeued) this.queue.push(key);
    if (unparked || requeued) {
      this.metrics.depth(this.len());
      this.dispatch();
    }
    if (this.processing.size === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /** Stops accepting keys; waiting `get` calls resolve with shutdown once the queue is empty. */
  shutDown(): void {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.waiting.values()) clearTimeout(timer);
      this.waiting.clear();
    }
    this.dispatch();
  }

  /** Like `shutDown`, then waits until every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Number of keys waiting to be handed out, parked ones included (not processing or delayed keys). */
  len(): number {
    return this.queue.length + this.parkedCount;
  }

  /** Number of keys currently handed to workers. */
  processingCount(): number {
    return this.processing.size;
  }

  unfinishedWork(): UnfinishedWork {
    const now = this.now();
    let unfinished = 0;
    let longest = 0;
    for (const started of this.startedAt.values()) {
      const seconds = (now - started) / 1000;
      unfinished += seconds;
      longest = Math.max(longest, seconds);
    }
    return { unfinishedSeconds: unfinished, longestRunningSeconds: longest };
  }

  private take(): GetResult | undefined {
    const key = this.nextAdmitted();
    if (key === undefined) return undefined;
    this.metrics.depth(this.len());
    const now = this.now();
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.metrics.queueDuration((now - added) / 1000);
    this.processing.add(key);
    this.startedAt.set(key, now);
    this.dirty.delete(key);
    return { key, shutdown: false };
  }

  /** The first queued key whose lane has room; keys of full lanes are parked on the way. */
  private nextAdmitted(): string | undefined {
    for (let key = this.queue.shift(); key !== undefined; key = this.queue.shift()) {
      const lane = this.laneOf(key);
      const from = this.unparkedFrom.get(key);
      this.unparkedFrom.delete(key);
      // Unparked for a slot of `from` it will not take (its object left the
      // cache or moved host): the next key parked there gets the turn, or no
      // one would ever wake it.
      if (from !== undefined && from !== lane) this.unparkOne(from);
      if (lane === undefined) return key;
      const busy = this.laneBusy.get(lane) ?? 0;
      if (busy < (this.lanes as WorkQueueLanes).limit) {
        this.laneBusy.set(lane, busy + 1);
        this.laneOfProcessing.set(key, lane);
        return key;
      }
      const waiting = this.parked.get(lane);
      if (waiting) waiting.push(key);
      else this.parked.set(lane, [key]);
      this.parkedCount++;
    }
    return undefined;
  }

  private laneOf(key: string): string | undefined {
    if (!this.lanes) return undefined;
    try {
      return this.lanes.laneOf(key);
    } catch {
      return undefined; // an unknown lane must not stop the key from being processed
    }
  }

  /**
   * Frees `key`'s lane slot and moves the lane's longest-parked key to the
   * front of the queue (it has waited longest); true when it moved one.
   */
  private releaseLane(key: string): boolean {
    const lane = this.laneOfProcessing.get(key);
    if (lane === undefined) return false;
    this.laneOfProcessing.delete(key);
    const busy = (this.laneBusy.get(lane) ?? 1) - 1;
    if (busy > 0) this.laneBusy.set(lane, busy);
    else this.laneBusy.delete(lane);
    return this.unparkOne(lane);
  }

  /** Moves `lane`'s longest-parked key to the front of the queue; true when there was one. */
  private unparkOne(lane: string): boolean {
    const waiting = this.parked.get(lane);
    const next = waiting?.shift();
    if (next === undefined) return false;
    if (waiting?.length === 0) this.parked.delete(lane);
    this.parkedCount--;
    this.unparkedFrom.set(next, lane);
    this.queue.unshift(next);
    return true;
  }

  private dispatch(): void {
    while (this.waiters.length > 0) {
      const next =
        this.take() ?? (this.shuttingDown ? { key: undefined, shutdown: true as const } : undefined);
      if (!next) return;
      this.waiters.shift()?.(next);
    }
  }
}
