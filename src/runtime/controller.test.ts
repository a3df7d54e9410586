import { ApiException, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Controller,
  TerminalError,
  type ControllerMetrics,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileResult,
  type ReconcileResultLabel,
  type Request,
} from './controller.js';
import { enqueueForObject, enqueueForOwner } from './enqueue.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { captureLogger, deferred, FakeSource } from './test-support.js';

type ReconcileFn = (ctx: ReconcileContext, req: Request) => Promise<ReconcileResult | void>;

const obj = (name: string, namespace = 'ns'): KubernetesObject => ({ metadata: { name, namespace } });

function recordingMetrics() {
  const results: ReconcileResultLabel[] = [];
  const counts = { errors: 0, terminal: 0, times: 0, maxConcurrent: 0 };
  const active: number[] = [];
  const metrics: ControllerMetrics = {
    reconcileTotal: (r) => results.push(r),
    reconcileError: () => counts.errors++,
    terminalReconcileError: () => counts.terminal++,
    reconcileTime: () => counts.times++,
    activeWorkers: (n) => active.push(n),
    maxConcurrentReconciles: (n) => (counts.maxConcurrent = n),
  };
  return { metrics, results, counts, active };
}

function setup(reconcile: ReconcileFn, overrides: Partial<ControllerOptions> = {}) {
  const calls: { req: Request; ctx: ReconcileContext }[] = [];
  const { logger, lines } = captureLogger();
  const m = recordingMetrics();
  const source = new FakeSource();
  let ids = 0;
  const controller = new Controller({
    name: 'dockerhost',
    reconciler: {
      reconcile: (ctx, req) => {
        calls.push({ req, ctx });
        return reconcile(ctx, req);
      },
    },
    logger,
    metrics: m.metrics,
    // Fixed, small backoffs keep the timelines in these tests readable.
    rateLimiter: new ItemExponentialFailureRateLimiter(100, 10_000),
    newReconcileID: () => `id-${++ids}`,
    ...overrides,
  });
  controller.watch(source, enqueueForObject());
  source.synced = true;
  return { controller, source, calls, lines, ...m };
}

const tick = async (ms = 0): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};

describe('Controller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for sources to sync before the first reconcile; keys queued meanwhile are deduplicated', async () => {
    const { controller, source, calls } = setup(async () => {});
    source.synced = false;
    source.add(obj('a'));
    source.add(obj('a'));
    source.update(obj('a'), obj('a'));
    const started = controller.start();
    await tick(1000);
    expect(calls).toHaveLength(0);
    source.synced = true;
    await tick(100);
    await started;
    await tick();
    expect(calls.map((c) => c.req)).toEqual([{ namespace: 'ns', name: 'a' }]);
    await controller.stop();
  });

  it('fails to start when sources never sync', async () => {
    const { controller, source } = setup(async () => {});
    source.synced = false;
    const started = controller.start();
    const assertion = expect(started).rejects.toThrow(/timed out .* caches to sync/);
    await tick(120_000);
    await assertion;
    await controller.stop();
  });

  it('refuses a second start', async () => {
    const { controller } = setup(async () => {});
    await controller.start();
    await expect(controller.start()).rejects.toThrow(/already started/);
    await controller.stop();
  });

  it('success forgets the key', async () => {
    const { controller, source, calls, results, counts } = setup(async () => {});
    await controller.start();
    source.add(obj('a'));
    await tick();
    expect(calls).toHaveLength(1);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(results).toEqual(['success']);
    expect(counts.times).toBe(1);
    expect(counts.maxConcurrent).toBe(1);
    await controller.stop();
  });

  it('retries a failing key with per-key exponential backoff', async () => {
    let failures = 3;
    const { controller, source, calls, results, counts, lines } = setup(async () => {
      if (failures-- > 0) throw new Error('docker unreachable');
    });
    await controller.start();
    source.add(obj('a'));
    await tick();
    expect(calls).toHaveLength(1);
    await tick(99);
    expect(calls).toHaveLength(1);
    await tick(1); // +100 ms
    expect(calls).toHaveLength(2);
    await tick(200); // +200 ms
    expect(calls).toHaveLength(3);
    await tick(400); // +400 ms, then success
    expect(calls).toHaveLength(4);
    expect(results).toEqual(['error', 'error', 'error', 'success']);
    expect(counts.errors).toBe(3);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    const errorLines = lines.filter((l) => l.msg === 'Reconciler error');
    expect(errorLines).toHaveLength(3);
    expect(errorLines[0]).toMatchObject({ level: 50, controller: 'dockerhost', namespace: 'ns', name: 'a' });
    await controller.stop();
  });

  it.each<{ name: string; reconcile: ReconcileFn }>([
    { name: 'a string', reconcile: () => Promise.reject('just a string') },
    { name: 'undefined', reconcile: () => Promise.reject(undefined) },
    { name: 'null', reconcile: () => Promise.reject(null) },
    { name: 'a number', reconcile: () => Promise.reject(42) },
    { name: 'a plain object', reconcile: () => Promise.reject({ code: 'E' }) },
    {
      name: 'a synchronous throw',
      reconcile: () => {
        throw new Error('sync');
      },
    },
    {
      name: 'a synchronous throw of a non-Error',
      reconcile: () => {
        throw Symbol('weird');
      },
    },
  ])('survives a reconcile that throws $name and retries it', async ({ reconcile }) => {
    let first = true;
    const { controller, source, calls, results } = setup((ctx, req) => {
      if (first) {
        first = false;
        return reconcile(ctx, req);
      }
      return Promise.resolve();
    });
    await controller.start();
    source.add(obj('a'));
    await tick();
    source.add(obj('b'));
    await tick(100);
    expect(calls.map((c) => c.req.name)).toEqual(['a', 'b', 'a']);
    expect(results).toEqual(['error', 'success', 'success']);
    await controller.stop();
  });

  it.each([
    { name: 'TerminalError', err: new TerminalError('invalid spec') },
    {
      name: 'an error caused by a TerminalError',
      err: new Error('wrapped', { cause: new TerminalError('bad') }),
    },
  ])('does not retry $name, and counts it', async ({ err }) => {
    const { controller, source, calls, results, counts, lines } = setup(() => Promise.reject(err));
    await controller.start();
    source.add(obj('a'));
    await tick(60_000);
    expect(calls).toHaveLength(1);
    expect(results).toEqual(['error']);
    expect(counts).toMatchObject({ errors: 1, terminal: 1 });
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    expect(lines.find((l) => l.msg === 'Reconciler error')).toMatchObject({ level: 50, terminal: true });
    // A new event reconciles it again.
    source.add(obj('a'));
    await tick();
    expect(calls).toHaveLength(2);
    await controller.stop();
  });

  it('retries 409 conflicts with backoff and logs them at debug, not error', async () => {
    let conflicts = 1;
    const { controller, source, calls, results, counts, lines } = setup(async () => {
      if (conflicts-- > 0) throw new ApiException(409, 'Conflict', { reason: 'Conflict' }, {});
    });
    await controller.start();
    source.add(obj('a'));
    await tick(100);
    expect(calls).toHaveLength(2);
    expect(results).toEqual(['requeue', 'success']);
    expect(counts.errors).toBe(0);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.find((l) => l.msg === 'Conflict; retrying')?.level).toBe(20);
    await controller.stop();
  });

  it('requeues after requeueAfterMs and resets the backoff', async () => {
    let n = 0;
    const { controller, source, calls, results } = setup(async () => {
      n++;
      if (n === 1) throw new Error('first fails');
      if (n === 2) return { requeueAfterMs: 30_000 };
    });
    await controller.start();
    source.add(obj('a'));
    await tick(100);
    expect(calls).toHaveLength(2);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    await tick(29_999);
    expect(calls).toHaveLength(2);
    await tick(1);
    expect(calls).toHaveLength(3);
    expect(results).toEqual(['error', 'requeue_after', 'success']);
    await controller.stop();
  });

  it.each([0, -1, Number.NaN])('treats requeueAfterMs=%d as plain success', async (requeueAfterMs) => {
    const { controller, source, results } = setup(async () => ({ requeueAfterMs }));
    await controller.start();
    source.add(obj('a'));
    await tick();
    expect(results).toEqual(['success']);
    await controller.stop();
  });

  it('never reconciles one key twice at once, but runs different keys in parallel', async () => {
    const gates = new Map<string, { resolve: () => void }>();
    let running = 0;
    let maxRunning = 0;
    const runningKeys = new Set<string>();
    let overlap = false;
    const { controller, source, calls, active } = setup(
      async (_ctx, req) => {
        if (runningKeys.has(req.name)) overlap = true;
        runningKeys.add(req.name);
        running++;
        maxRunning = Math.max(maxRunning, running);
        const gate = deferred();
        gates.set(`${req.name}#${calls.length}`, gate);
        await gate.promise;
        running--;
        runningKeys.delete(req.name);
      },
      { maxConcurrentReconciles: 3 },
    );
    await controller.start();
    source.add(obj('a'));
    source.add(obj('b'));
    await tick();
    source.add(obj('a')); // while a is in flight
    await tick();
    expect(calls.map((c) => c.req.name)).toEqual(['a', 'b']);
    expect(controller.activeWorkers()).toBe(2);
    gates.get('a#1')?.resolve();
    await tick();
    expect(calls.map((c) => c.req.name)).toEqual(['a', 'b', 'a']);
    gates.get('a#3')?.resolve();
    gates.get('b#2')?.resolve();
    await tick();
    expect(overlap).toBe(false);
    expect(maxRunning).toBe(2);
    expect(active).toContain(2);
    expect(active.at(-1)).toBe(0);
    await controller.stop();
  });

  it('with lanes, reconciles at most lanes.limit per lane while the workers serve other lanes', async () => {
    const gates = new Map<string, () => void>();
    const runningPerLane = new Map<string, number>();
    let maxPerLane = 0;
    const laneOf = (req: Request) => req.name.split('-')[0];
    const { controller, source, calls } = setup(
      async (_ctx, req) => {
        const lane = laneOf(req) as string;
        runningPerLane.set(lane, (runningPerLane.get(lane) ?? 0) + 1);
        maxPerLane = Math.max(maxPerLane, runningPerLane.get(lane) ?? 0);
        const gate = deferred();
        gates.set(req.name, gate.resolve);
        await gate.promise;
        runningPerLane.set(lane, (runningPerLane.get(lane) ?? 1) - 1);
      },
      { maxConcurrentReconciles: 4, lanes: { of: laneOf, limit: 2 } },
    );
    await controller.start();
    for (const name of ['a-1', 'a-2', 'a-3', 'a-4', 'b-1', 'c-1']) source.add(obj(name));
    await tick();
    // Without lanes the four workers would all be on host a.
    expect(calls.map((c) => c.req.name)).toEqual(['a-1', 'a-2', 'b-1', 'c-1']);
    gates.get('a-1')?.();
    await tick();
    expect(calls.map((c) => c.req.name)).toContain('a-3');
    for (const name of ['a-2', 'a-3', 'b-1', 'c-1']) gates.get(name)?.();
    await tick();
    gates.get('a-4')?.();
    await tick();
    expect(calls.map((c) => c.req.name).sort()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'b-1', 'c-1']);
    expect(maxPerLane).toBe(2);
    await controller.stop();
  });

  it('gives each reconcile a child logger and a fresh reconcileID', async () => {
    const { controller, source, calls, lines } = setup(async (ctx) => {
      ctx.logger.info('hello');
    });
    await controller.start();
    source.add(obj('a'));
    source.add({ metadata: { name: 'cluster-wide' } });
    await tick();
    expect(calls.map((c) => c.ctx.reconcileID)).toEqual(['id-1', 'id-2']);
    const hellos = lines.filter((l) => l.msg === 'hello');
    expect(hellos[0]).toMatchObject({
      controller: 'dockerhost',
      namespace: 'ns',
      name: 'a',
      reconcileID: 'id-1',
    });
    expect(hellos[1]).toMatchObject({ controller: 'dockerhost', name: 'cluster-wide', reconcileID: 'id-2' });
    expect(hellos[1]).not.toHaveProperty('namespace');
    await controller.stop();
  });

  it('stop aborts the signal, waits for in-flight reconciles, and takes no more work', async () => {
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const { controller, source, calls } = setup(async (ctx) => {
      signal = ctx.signal;
      await gate.promise;
    });
    await controller.start();
    source.add(obj('a'));
    source.add(obj('b'));
    await tick();
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await tick();
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(calls.map((c) => c.req.name)).toEqual(['a']); // b stayed queued
    source.add(obj('c'));
    await tick();
    expect(calls).toHaveLength(1);
  });

  it('stops when the start signal aborts', async () => {
    const { controller, source, calls } = setup(async () => {});
    const ac = new AbortController();
    await controller.start(ac.signal);
    ac.abort();
    await controller.stop();
    source.add(obj('a'));
    await tick();
    expect(calls).toHaveLength(0);
  });

  it('update events enqueue both the old and the new object (a rename of the owner moves work)', async () => {
    const { controller, calls } = setup(async () => {});
    const owners = new FakeSource();
    owners.synced = true;
    controller.watch(owners, enqueueForOwner('DockerHost'));
    await controller.start();
    const child = (host: string): KubernetesObject => ({
      metadata: {
        name: 'c',
        namespace: 'ns',
        ownerReferences: [{ apiVersion: 'dockyard.io/v1alpha1', kind: 'DockerHost', name: host, uid: host }],
      },
    });
    owners.update(child('h1'), child('h2'));
    await tick();
    expect(calls.map((c) => c.req.name).sort()).toEqual(['h1', 'h2']);
    await controller.stop();
  });

  it('drops events whose map function throws, and keeps working', async () => {
    const { controller, calls, lines } = setup(async () => {});
    const bad = new FakeSource();
    bad.synced = true;
    controller.watch(bad, () => {
      throw new Error('bad map');
    });
    await controller.start();
    expect(() => bad.add(obj('x'))).not.toThrow();
    controller.trigger('ns/ok');
    await tick();
    expect(calls.map((c) => c.req)).toEqual([{ namespace: 'ns', name: 'ok' }]);
    expect(lines.some((l) => l.msg === 'map function threw; event dropped')).toBe(true);
    await controller.stop();
  });

  it.each<{ target: Request | string; want: Request }>([
    { target: 'ns/a', want: { namespace: 'ns', name: 'a' } },
    { target: { namespace: 'ns', name: 'b' }, want: { namespace: 'ns', name: 'b' } },
    { target: { name: 'host-1' }, want: { name: 'host-1' } },
  ])('trigger($target) reconciles $want', async ({ target, want }) => {
    const { controller, calls } = setup(async () => {});
    await controller.start();
    controller.trigger(target);
    await tick();
    expect(calls.map((c) => c.req)).toEqual([want]);
    await controller.stop();
  });
});
