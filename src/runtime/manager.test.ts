import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReconcileContext, Request } from './controller.js';
import { enqueueForObject } from './enqueue.js';
import { everyReplica, Manager, type ManagerOptions } from './manager.js';
import { captureLogger, deferred, FakeLeaseStore, FakeSource } from './test-support.js';

class FakeInformer extends FakeSource {
  readonly resource = 'dockerhosts.dockyard.io';
  running = false;
  start(): void {
    this.running = true;
  }
  stop(): Promise<void> {
    this.running = false;
    return Promise.resolve();
  }
}

interface Setup {
  mgr: Manager;
  informer: FakeInformer;
  reconciled: string[];
}

function setup(
  options: Partial<ManagerOptions> = {},
  reconcile: (ctx: ReconcileContext, req: Request) => Promise<void> = async () => {},
): Setup {
  const reconciled: string[] = [];
  const mgr = new Manager({
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    logger: captureLogger().logger,
    ...options,
  });
  const informer = new FakeInformer();
  mgr.addInformer(informer);
  mgr
    .createController({
      name: 'dockerhost',
      reconciler: {
        reconcile: async (ctx, req) => {
          reconciled.push(req.name);
          await reconcile(ctx, req);
        },
      },
    })
    .watch(informer, enqueueForObject());
  return { mgr, informer, reconciled };
}

const obj = (name: string) => ({ metadata: { name, namespace: 'ns' } });

describe('Manager (fake timers, no servers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('without leader election starts informers and controllers; reconciles after sync', async () => {
    const { mgr, informer, reconciled } = setup();
    await mgr.start();
    expect(informer.running).toBe(true);
    expect(mgr.isLeader()).toBe(true);
    informer.add(obj('a'));
    await vi.advanceTimersByTimeAsync(500);
    expect(reconciled).toEqual([]);
    informer.synced = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(reconciled).toEqual(['a']);
    await mgr.stop();
    expect(informer.running).toBe(false);
    await expect(mgr.done).resolves.toEqual({ reason: 'stopped' });
  });

  it('only the leader reconciles; the standby takes over right after a graceful stop releases the lease', async () => {
    const store = new FakeLeaseStore();
    const le = (identity: string) => ({ leaderElection: { client: store.client(identity), identity } });
    const a = setup(le('a'));
    const b = setup(le('b'));
    a.informer.synced = true;
    b.informer.synced = true;
    await a.mgr.start();
    await vi.advanceTimersByTimeAsync(0);
    await b.mgr.start();
    a.informer.add(obj('x'));
    b.informer.add(obj('x'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect([a.mgr.isLeader(), b.mgr.isLeader()]).toEqual([true, false]);
    expect([a.reconciled, b.reconciled]).toEqual([['x'], []]);

    await a.mgr.stop();
    expect(store.lease?.record.holderIdentity).toBe('');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.mgr.isLeader()).toBe(true);
    expect(b.reconciled).toEqual(['x']);
    await b.mgr.stop();
  });

  it('runs leader runnables only while leading, and stops them on a graceful stop and on a lost lease', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const runnable = (log: string[]) => ({
      name: 'endpoint',
      start: () => (log.push('start'), Promise.resolve()),
      stop: () => (log.push('stop'), Promise.resolve()),
    });
    const aLog: string[] = [];
    const bLog: string[] = [];
    const a = setup({
      leaderElection: { client: store.client('a', { failing: () => failing }), identity: 'a' },
    });
    const b = setup({ leaderElection: { client: store.client('b'), identity: 'b' } });
    a.mgr.addLeaderRunnable(runnable(aLog));
    b.mgr.addLeaderRunnable(runnable(bLog));
    a.informer.synced = true;
    b.informer.synced = true;
    await a.mgr.start();
    await vi.advanceTimersByTimeAsync(0);
    await b.mgr.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect([aLog, bLog]).toEqual([['start'], []]);

    failing = true;
    await vi.advanceTimersByTimeAsync(30_000);
    await expect(a.mgr.done).resolves.toEqual({ reason: 'leadership-lost' });
    expect(aLog).toEqual(['start', 'stop']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(b.mgr.isLeader()).toBe(true);
    expect(bLog).toEqual(['start']);
    await b.mgr.stop();
    expect(bLog).toEqual(['start', 'stop']);
  });

  it('runs unelected controllers and background tasks on a standby too; a fence ends it like a lost lease', async () => {
    const store = new FakeLeaseStore();
    const le = (identity: string) => ({ leaderElection: { client: store.client(identity), identity } });
    const a = setup(le('a'));
    const b = setup(le('b'));
    const sharded: string[] = [];
    const tasks: string[] = [];
    b.mgr
      .createController({
        name: 'sharded',
        needLeaderElection: false,
        reconciler: { reconcile: async (_ctx, req) => void sharded.push(req.name) },
      })
      .watch(b.informer, enqueueForObject());
    b.mgr.addBackgroundTask({
      name: 'leases',
      run: async (signal) => {
        tasks.push('run');
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        tasks.push('let go');
      },
    });
    a.informer.synced = true;
    b.informer.synced = true;
    await a.mgr.start();
    await vi.advanceTimersByTimeAsync(0);
    await b.mgr.start();
    b.informer.add(obj('x'));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.mgr.isLeader()).toBe(false);
    expect(b.reconciled, 'the elected controller waits').toEqual([]);
    expect(sharded, 'the unelected one runs on the standby').toEqual(['x']);
    expect(tasks).toEqual(['run']);

    b.mgr.fence('the Lease of shard 1 was not renewed in time');
    await expect(b.mgr.done).resolves.toEqual({ reason: 'leadership-lost' });
    expect(b.mgr.leadershipLost.aborted).toBe(true);
    expect(tasks, 'a fence lets nothing go: the leases expire').toEqual(['run']);
    await a.mgr.stop();
  });

  it('stops background tasks after the controllers, on a graceful stop', async () => {
    const { mgr, informer } = setup();
    const order: string[] = [];
    mgr.addBackgroundTask({
      name: 'leases',
      run: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            order.push('task aborted');
            resolve();
          }),
        ),
    });
    informer.synced = true;
    await mgr.start();
    await vi.advanceTimersByTimeAsync(100);
    await mgr.stop();
    expect(order).toEqual(['task aborted']);
    await expect(mgr.done).resolves.toEqual({ reason: 'stopped' });
  });

  it('finishes in-flight reconciles before releasing the lease', async () => {
    const store = new FakeLeaseStore();
    const order: string[] = [];
    const gate = deferred();
    const client = store.client('a');
    const { mgr, informer } = setup(
      {
        leaderElection: {
          identity: 'a',
          client: {
            ...client,
            update: async (record, rv) => {
              if (record.holderIdentity === '') order.push('lease released');
              return client.update(record, rv);
            },
          },
        },
      },
      async () => {
        await gate.promise;
        order.push('reconcile finished');
      },
    );
    informer.synced = true;
    await mgr.start();
    informer.add(obj('x'));
    await vi.advanceTimersByTimeAsync(200);
    const stopping = mgr.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual([]);
    gate.resolve();
    await stopping;
    expect(order).toEqual(['reconcile finished', 'lease released']);
  });

  it('gives up at the hard deadline and then leaves the lease to expire', async () => {
    const store = new FakeLeaseStore();
    const { mgr, informer } = setup(
      { leaderElection: { client: store.client('a'), identity: 'a' }, gracefulShutdownTimeoutMs: 30_000 },
      () => new Promise(() => {}), // a reconcile that never returns
    );
    informer.synced = true;
    await mgr.start();
    informer.add(obj('x'));
    await vi.advanceTimersByTimeAsync(200);
    let stopped = false;
    const stopping = mgr.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(29_000);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await stopping;
    expect(store.lease?.record.holderIdentity).toBe('a');
  });

  it('ends with leadership-lost when the lease cannot be renewed', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const { mgr, informer } = setup({
      leaderElection: { client: store.client('a', { failing: () => failing }), identity: 'a' },
    });
    informer.synced = true;
    await mgr.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(mgr.isLeader()).toBe(true);
    failing = true;
    await vi.advanceTimersByTimeAsync(15_000);
    await expect(mgr.done).resolves.toEqual({ reason: 'leadership-lost' });
  });

  it('on a lost lease stops at once: reconcile signals abort, nothing is drained or started, the lease is kept', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const signals: AbortSignal[] = [];
    const { mgr, informer, reconciled } = setup(
      { leaderElection: { client: store.client('a', { failing: () => failing }), identity: 'a' } },
      (ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {}); // a slow call that ignores the signal: must not be waited for
      },
    );
    informer.synced = true;
    await mgr.start();
    informer.add(obj('x'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reconciled).toEqual(['x']);
    const order: string[] = [];
    mgr.leadershipLost.addEventListener('abort', () =>
      order.push(`leadershipLost (reconcile signal aborted: ${signals[0]?.aborted})`),
    );
    void mgr.done.then((exit) => order.push(`done: ${exit.reason}`));

    failing = true;
    // Renew period 2 s + renew deadline 10 s: lost by then, and nothing waits for the hung reconcile.
    await vi.advanceTimersByTimeAsync(12_100);
    expect(order).toEqual(['leadershipLost (reconcile signal aborted: true)', 'done: leadership-lost']);
    expect(mgr.isLeader()).toBe(false);
    informer.add(obj('y')); // an event after the loss starts no reconcile
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reconciled).toEqual(['x']);
    expect(informer.running).toBe(false);
    expect(store.lease?.record.holderIdentity).toBe('a'); // not released: someone else may hold it next
    await mgr.stop(); // resolves (teardown done); the hung reconcile is abandoned
  });

  it('ends with an error when a controller cannot sync its caches', async () => {
    const { mgr } = setup();
    await mgr.start();
    await vi.advanceTimersByTimeAsync(120_000);
    const exit = await mgr.done;
    expect(exit.reason).toBe('error');
    expect(String(exit.error)).toMatch(/caches to sync/);
  });

  it('refuses controllers added after start and a second start', async () => {
    const { mgr } = setup();
    await mgr.start();
    expect(() => mgr.createController({ name: 'late', reconciler: { reconcile: async () => {} } })).toThrow(
      /before starting/,
    );
    await expect(mgr.start()).rejects.toThrow(/already started/);
    await mgr.stop();
  });
});

describe('Manager HTTP servers', () => {
  it('serves /metrics, /healthz, and /readyz that turns ready once informers sync (standby included)', async () => {
    const store = new FakeLeaseStore();
    // Another replica holds the lease, so this one stays a standby.
    await store
      .client('other')
      .create({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const { mgr, informer } = setup({
      metricsBindAddress: '127.0.0.1:0',
      healthProbeBindAddress: '127.0.0.1:0',
      leaderElection: { client: store.client('me'), identity: 'me' },
    });
    await mgr.start();
    const probes = `http://127.0.0.1:${mgr.healthProbeAddress()?.port}`;
    const metrics = `http://127.0.0.1:${mgr.metricsAddress()?.port}`;

    expect((await fetch(`${probes}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${probes}/readyz`);
    expect(notReady.status).toBe(500);
    expect(await notReady.text()).toContain('not synced: dockerhosts.dockyard.io');

    informer.synced = true;
    expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    expect(mgr.isLeader()).toBe(false);

    const scrape = await fetch(`${metrics}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    expect(text).toContain('controller_runtime_reconcile_total{controller="dockerhost",result="success"} 0');
    expect(text).toContain('dockyard_informer_restarts_total');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`${metrics}/other`)).status).toBe(404);

    await mgr.stop();
    await expect(fetch(`${probes}/healthz`)).rejects.toThrow();
  });

  it('fails to start when a port is taken, closing what it opened', async () => {
    const first = setup({ metricsBindAddress: '127.0.0.1:0' });
    await first.mgr.start();
    const taken = first.mgr.metricsAddress()?.port;
    const second = setup({ metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: `127.0.0.1:${taken}` });
    await expect(second.mgr.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.mgr.stop();
  });

  it('rejects malformed bind addresses', async () => {
    const { mgr } = setup({ metricsBindAddress: 'nonsense' });
    await expect(mgr.start()).rejects.toThrow(/invalid bind address/);
  });
});

describe('everyReplica', () => {
  it('starts the runnable when the task runs and stops it once the task is aborted, not before', async () => {
    const calls: string[] = [];
    const task = everyReplica({
      name: 'agent-endpoint',
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
    });
    const abort = new AbortController();
    const run = task.run(abort.signal);
    await new Promise((resolve) => setImmediate(resolve));
    expect(task.name).toBe('agent-endpoint');
    expect(calls).toEqual(['start']);
    abort.abort();
    await run;
    expect(calls).toEqual(['start', 'stop']);
  });

  it('fails the task when the runnable cannot start (the manager then stops with the error)', async () => {
    const task = everyReplica({
      name: 'agent-endpoint',
      start: () => Promise.reject(new Error('EADDRINUSE')),
      stop: async () => {},
    });
    await expect(task.run(new AbortController().signal)).rejects.toThrow('EADDRINUSE');
  });
});
