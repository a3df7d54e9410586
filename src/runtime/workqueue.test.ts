import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue, type GetResult, type UnfinishedWork, type WorkQueueMetrics } from './workqueue.js';

/** Records every metric call so tests can assert on them. */
function recordingMetrics() {
  const calls = {
    depth: [] as number[],
    adds: 0,
    queueDurations: [] as number[],
    workDurations: [] as number[],
    retries: 0,
    probe: undefined as (() => UnfinishedWork) | undefined,
  };
  const metrics: WorkQueueMetrics = {
    depth: (n) => calls.depth.push(n),
    add: () => calls.adds++,
    queueDuration: (s) => calls.queueDurations.push(s),
    workDuration: (s) => calls.workDurations.push(s),
    retry: () => calls.retries++,
    unfinishedWorkProbe: (p) => (calls.probe = p),
  };
  return { calls, metrics };
}

async function drainKeys(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len() > 0) {
    const item = await q.get();
    if (item.shutdown) break;
    keys.push(item.key);
    q.done(item.key);
  }
  return keys;
}

describe('WorkQueue basic semantics', () => {
  it.each([
    { name: 'FIFO order', adds: ['a', 'b', 'c'], want: ['a', 'b', 'c'] },
    { name: 'dedup of a queued key', adds: ['a', 'b', 'a', 'a'], want: ['a', 'b'] },
    { name: 'empty', adds: [], want: [] },
  ])('$name', async ({ adds, want }) => {
    const q = new WorkQueue();
    for (const key of adds) q.add(key);
    expect(await drainKeys(q)).toEqual(want);
  });

  it('never hands a processing key to a second worker, and re-queues it after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    expect(first).toEqual({ key: 'a', shutdown: false });
    q.add('a'); // added while processing: must wait for done
    expect(q.len()).toBe(0);
    let second: string | undefined;
    const pending = q.get().then((r) => (second = r.key));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done('a');
    await pending;
    expect(second).toBe('a');
  });

  it('resolves waiting workers in order as keys arrive', async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add('x');
    q.add('y');
    expect([(await w1).key, (await w2).key]).toEqual(['x', 'y']);
  });

  it('done for an unknown key is harmless', () => {
    const q = new WorkQueue();
    q.done('never-seen');
    expect(q.processingCount()).toBe(0);
  });
});

describe('WorkQueue shutdown', () => {
  it('stops accepting keys and releases waiting workers', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toEqual({ key: undefined, shutdown: true });
    q.add('late');
    expect(q.len()).toBe(0);
    expect(await q.get()).toEqual({ key: undefined, shutdown: true });
  });

  it('still hands out keys queued before shutdown (client-go semantics)', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.shutDown();
    expect(await q.get()).toEqual({ key: 'a', shutdown: false });
    expect((await q.get()).shutdown).toBe(true);
  });

  it('shutDownWithDrain waits until in-flight keys are done', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    await q.get();
    await q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.done('a');
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('b');
    await drain;
    expect(drained).toBe(true);
  });

  it('shutDownWithDrain resolves at once when nothing is in flight', async () => {
    const q = new WorkQueue();
    await expect(q.shutDownWithDrain()).resolves.toBeUndefined();
    expect(q.isShuttingDown()).toBe(true);
  });
});

describe('WorkQueue delays and rate limiting', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('addAfter adds the key once the delay has passed', () => {
    const q = new WorkQueue();
    q.addAfter('a', 1000);
    vi.advanceTimersByTime(999);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.len()).toBe(1);
  });

  it.each([
    { name: 'earlier second call wins', first: 1000, second: 200, readyAt: 200 },
    { name: 'later second call is ignored', first: 200, second: 1000, readyAt: 200 },
  ])('addAfter twice: $name', ({ first, second, readyAt }) => {
    const q = new WorkQueue();
    q.addAfter('a', first);
    q.addAfter('a', second);
    vi.advanceTimersByTime(readyAt - 1);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.len()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(q.len()).toBe(1);
  });

  it.each([0, -5])('addAfter with %d ms adds immediately', (delay) => {
    const q = new WorkQueue();
    q.addAfter('a', delay);
    expect(q.len()).toBe(1);
  });

  it('addRateLimited backs off exponentially and forget resets it', () => {
    const q = new WorkQueue({ rateLimiter: new ItemExponentialFailureRateLimiter(100, 10_000) });
    q.addRateLimited('a');
    q.addRateLimited('a'); // already waiting for 100 ms; the 200 ms request is later, so ignored
    expect(q.numRequeues('a')).toBe(2);
    vi.advanceTimersByTime(100);
    expect(q.len()).toBe(1);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shutdown cancels delayed keys', () => {
    const q = new WorkQueue();
    q.addAfter('a', 100);
    q.shutDown();
    vi.advanceTimersByTime(1000);
    expect(q.len()).toBe(0);
  });
});

describe('WorkQueue metrics', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports depth, adds, queue and work durations, retries and unfinished work', async () => {
    const { calls, metrics } = recordingMetrics();
    const q = new WorkQueue({ metrics });
    q.add('a');
    q.add('a'); // dedup: not counted as an add
    q.add('b');
    expect(calls.adds).toBe(2);
    expect(calls.depth.at(-1)).toBe(2);

    vi.advanceTimersByTime(1500);
    const item = await q.get();
    expect(calls.queueDurations).toEqual([1.5]);
    expect(calls.depth.at(-1)).toBe(1);

    vi.advanceTimersByTime(3000);
    expect(calls.probe?.()).toEqual({ unfinishedSeconds: 3, longestRunningSeconds: 3 });
    q.done(item.key ?? '');
    expect(calls.workDurations).toEqual([3]);
    expect(calls.probe?.()).toEqual({ unfinishedSeconds: 0, longestRunningSeconds: 0 });

    q.addRateLimited('c');
    expect(calls.retries).toBe(1);
  });
});

describe('WorkQueue lanes', () => {
  /** Keys named `lane/object`; keys without a slash have no lane. */
  const laneQueue = (limit: number) =>
    new WorkQueue({ lanes: { laneOf: (key) => (key.includes('/') ? key.split('/')[0] : undefined), limit } });

  /**
   * Takes the keys the queue hands out without waiting. One `get` stays
   * outstanding between calls (a get cannot be withdrawn), as a worker would.
   */
  function taker(q: WorkQueue): () => Promise<string[]> {
    let pending: Promise<GetResult> | undefined;
    return async () => {
      const taken: string[] = [];
      for (;;) {
        pending ??= q.get();
        const next = await Promise.race([
          pending,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 5)),
        ]);
        if (!next || next.shutdown) return taken;
        pending = undefined;
        taken.push(next.key);
      }
    };
  }

  it('hands out at most `limit` keys of one lane while other lanes go ahead', async () => {
    const q = laneQueue(2);
    const takeReady = taker(q);
    for (const key of ['a/1', 'a/2', 'a/3', 'a/4', 'b/1', 'free', 'b/2', 'b/3']) q.add(key);
    expect(await takeReady()).toEqual(['a/1', 'a/2', 'b/1', 'free', 'b/2']);
    expect(q.len()).toBe(3); // a/3, a/4, b/3 parked
    expect(q.processingCount()).toBe(5);
  });

  it('a done key frees its lane for the longest-parked key of that lane, ahead of later keys', async () => {
    const q = laneQueue(1);
    const takeReady = taker(q);
    for (const key of ['a/1', 'a/2', 'a/3']) q.add(key);
    expect(await takeReady()).toEqual(['a/1']);
    q.add('b/1');
    expect(await takeReady()).toEqual(['b/1']);
    q.done('a/1'); // the outstanding get takes a/2 at once
    q.add('c/1');
    expect(await takeReady()).toEqual(['a/2', 'c/1']);
    q.done('a/2');
    q.done('b/1');
    expect(await takeReady()).toEqual(['a/3']);
    expect(q.len()).toBe(0);
  });

  it('a parked key goes ahead of keys added after it', async () => {
    const q = laneQueue(1);
    q.add('a/1');
    q.add('a/2');
    expect((await q.get()).key).toBe('a/1');
    q.add('c/1');
    expect((await q.get()).key).toBe('c/1'); // a/2 parked on the way
    q.add('d/1');
    q.done('a/1');
    expect((await q.get()).key).toBe('a/2');
    expect((await q.get()).key).toBe('d/1');
  });

  it('a waiting worker gets a parked key as soon as its lane frees up', async () => {
    const q = laneQueue(1);
    q.add('a/1');
    q.add('a/2');
    expect((await q.get()).key).toBe('a/1');
    const waiting = q.get();
    q.done('a/1');
    expect((await waiting).key).toBe('a/2');
  });

  it('a key re-added while processing goes back behind its lane, deduplicated', async () => {
    const q = laneQueue(1);
    const takeReady = taker(q);
    q.add('a/1');
    expect(await takeReady()).toEqual(['a/1']);
    q.add('a/2');
    q.add('a/1');
    q.add('a/2');
    expect(q.len()).toBe(1);
    q.done('a/1');
    expect(await takeReady()).toEqual(['a/2']);
    q.done('a/2');
    expect(await takeReady()).toEqual(['a/1']);
  });

  it('a parked key whose lane is gone when unparked passes its turn on to the next parked key', async () => {
    // Found at 1,000 hosts: objects deleted while parked have no lane when
    // their turn comes (their object left the cache), so the slot they were
    // unparked for was never used and the last key of that lane stayed parked.
    const gone = new Set<string>();
    const q = new WorkQueue({
      lanes: { laneOf: (key) => (gone.has(key) ? undefined : key.split('/')[0]), limit: 1 },
    });
    const takeReady = taker(q);
    for (const key of ['h/1', 'h/2', 'h/3']) q.add(key);
    expect(await takeReady()).toEqual(['h/1']);
    gone.add('h/2');
    q.done('h/1'); // h/2 is unparked, taken without a lane: h's slot is free again
    expect(await takeReady()).toEqual(['h/2', 'h/3']);
    expect(q.len()).toBe(0);
  });

  it('a lane function that throws puts the key in no lane', async () => {
    const q = new WorkQueue({
      lanes: {
        laneOf: () => {
          throw new Error('cache miss');
        },
        limit: 1,
      },
    });
    const takeReady = taker(q);
    q.add('x');
    q.add('y');
    expect(await takeReady()).toEqual(['x', 'y']);
  });

  it('without lanes every key is handed out (the client-go queue)', async () => {
    const q = new WorkQueue();
    const takeReady = taker(q);
    for (const key of ['a/1', 'a/2', 'a/3']) q.add(key);
    expect(await takeReady()).toEqual(['a/1', 'a/2', 'a/3']);
  });
});
