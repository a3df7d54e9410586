import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ImageAccessRecords } from '../dockerimage/image-access.js';
import type { PullResult, PullView } from '../dockerimage/pull-jobs.js';
import {
  ContainerOps,
  decidePull,
  pullKey,
  recreateBefore,
  RecreateMemory,
  stoppingMessage,
  Slots,
  StopJobs,
  waitingOutcome,
  type PullBackoff,
  type PullDecision,
  type RecreateBefore,
  type StopResult,
} from './background-ops.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A promise the test settles by hand. */
function manual<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const failedAt = (finishedAt: number): PullResult => ({
  ok: false,
  reason: 'NotFound',
  message: 'pulling img: not found',
  durationMs: 10,
  finishedAt,
});
const running: PullView = {
  state: 'running',
  startedAt: 0,
  progress: { currentBytes: 1, totalBytes: 2, percent: 50 },
};
const backoff = (failures: number, retryAt: number): PullBackoff => ({
  failures,
  retryAt,
  reason: 'NotFound',
  message: 'pulling img: not found',
});

describe('decidePull', () => {
  const cases: Array<{
    what: string;
    view: PullView | undefined;
    backoff?: PullBackoff;
    now: number;
    want: PullDecision['action'];
    failures?: number;
    retryAt?: number;
    fresh?: boolean;
  }> = [
    { what: 'nothing yet: start', view: undefined, now: 0, want: 'start' },
    { what: 'running: wait for it', view: running, now: 0, want: 'wait' },
    {
      what: 'running despite an old backoff: wait',
      view: running,
      backoff: backoff(2, 99),
      now: 0,
      want: 'wait',
    },
    {
      what: 'first failure just ended: back off 5 s from its end',
      view: { state: 'done', result: failedAt(1_000) },
      now: 1_500,
      want: 'failed',
      failures: 1,
      retryAt: 6_000,
      fresh: true,
    },
    {
      what: 'another failure: the delay doubles',
      view: { state: 'done', result: failedAt(1_000) },
      backoff: backoff(1, 500),
      now: 1_500,
      want: 'failed',
      failures: 2,
      retryAt: 11_000,
      fresh: true,
    },
    {
      what: 'still backing off: no new pull, the failure again (not fresh)',
      view: undefined,
      backoff: backoff(1, 6_000),
      now: 5_999,
      want: 'failed',
      failures: 1,
      fresh: false,
    },
    {
      what: 'backoff over: start again',
      view: undefined,
      backoff: backoff(1, 6_000),
      now: 6_000,
      want: 'start',
    },
    {
      what: 'a success ends any backoff',
      view: { state: 'done', result: { ok: true, bytes: 1, durationMs: 1, finishedAt: 0 } },
      backoff: backoff(3, 99_000),
      now: 0,
      want: 'start',
    },
  ];
  it.each(cases)('$what', (c) => {
    const d = decidePull(c.view, c.backoff, c.now);
    expect(d.action).toBe(c.want);
    if (d.action !== 'failed') return;
    if (c.failures !== undefined) expect(d.backoff.failures).toBe(c.failures);
    if (c.retryAt !== undefined) expect(d.backoff.retryAt).toBe(c.retryAt);
    expect(d.fresh).toBe(c.fresh);
  });
});

describe('pullKey', () => {
  it('is per host and image, anonymous', () => {
    expect(pullKey('h1', 'img:1')).not.toBe(pullKey('h2', 'img:1'));
    expect(pullKey('h1', 'img:1')).not.toBe(pullKey('h1', 'img:2'));
    expect(pullKey('h1', 'img:1')).toContain('anonymous');
  });
});

describe('Slots', () => {
  it('holds at most `limit`; a freed slot goes to the first waiter; an aborted waiter leaves the line', async () => {
    const slots = new Slots(2);
    const never = new AbortController().signal;
    const a = await slots.acquire(never);
    await slots.acquire(never);
    expect(slots.inUse).toBe(2);
    const order: string[] = [];
    const leaving = new AbortController();
    const c = slots.acquire(leaving.signal).then(
      () => order.push('c'),
      () => order.push('c aborted'),
    );
    const d = slots.acquire(never).then((free) => (order.push('d'), free));
    leaving.abort();
    await c;
    a();
    a(); // freeing twice frees once
    const freeD = await d;
    expect(order).toEqual(['c aborted', 'd']);
    expect(slots.inUse).toBe(2);
    freeD();
    expect(slots.inUse).toBe(1);
  });
});

describe('StopJobs', () => {
  it('a stop that ends while a reconcile waits is that reconcile’s: no onEnded', async () => {
    const jobs = new StopJobs({ now: () => 0 });
    const ended: StopResult[] = [];
    jobs.start('h/c1', { graceSeconds: 1, run: async () => {}, onEnded: (r) => ended.push(r) });
    const view = await jobs.wait('h/c1', 1_000);
    expect(view).toMatchObject({ state: 'done', result: { ok: true } });
    jobs.take('h/c1');
    expect(jobs.view('h/c1')).toBeUndefined();
    expect(ended).toEqual([]);
  });

  it('a stop longer than the wait goes on in the background; its end calls onEnded once and a success is not kept', async () => {
    const jobs = new StopJobs({ now: () => 0 });
    const stop = manual();
    const ended: StopResult[] = [];
    let runs = 0;
    const run = () => (runs++, stop.promise);
    jobs.start('h/c1', { graceSeconds: 30, run, onEnded: (r) => ended.push(r) });
    expect(await jobs.wait('h/c1', 5)).toEqual({ state: 'running', startedAt: 0, graceSeconds: 30 });
    jobs.start('h/c1', { graceSeconds: 30, run }); // joins
    expect(runs).toBe(1);
    stop.resolve();
    await tick();
    expect(ended).toMatchObject([{ ok: true }]);
    // Kept, it would answer a later stop of the same container (started again meanwhile).
    expect(jobs.view('h/c1')).toBeUndefined();
  });

  it('a failure that ends in the background is kept for the next look, until taken or expired', async () => {
    let now = 0;
    const jobs = new StopJobs({ now: () => now, ttlMs: 1_000 });
    const ended: StopResult[] = [];
    jobs.start('k', {
      graceSeconds: 1,
      run: () => Promise.reject(new Error('boom')),
      onEnded: (r) => ended.push(r),
    });
    await tick();
    expect(ended).toMatchObject([{ ok: false, message: 'boom' }]);
    expect(jobs.view('k')).toMatchObject({ state: 'done', result: { ok: false, message: 'boom' } });
    now = 2_000;
    expect(jobs.view('k')).toBeUndefined();
  });
});

describe('waitingOutcome', () => {
  const entry = { name: 'h1', phase: 'Stopped', id: 'abc' };
  it.each([
    {
      what: 'stopping: not ready, no failure, phase and message shown',
      report: {
        phase: 'Stopping' as const,
        message: 'stopping x (grace period 20 s)',
        requeueAfterMs: 3_000,
      },
      want: {
        entry: { name: 'h1', phase: 'Stopping', id: 'abc', message: 'stopping x (grace period 20 s)' },
        ready: false,
        requeueAfterMs: 3_000,
      },
    },
    {
      what: 'a failed pull: Ready=False with its reason',
      report: {
        phase: 'Pulling' as const,
        message: 'not found; attempt 1',
        failure: { reason: 'NotFound' as const, message: 'not found; attempt 1' },
      },
      want: {
        entry: { name: 'h1', phase: 'Pulling', id: 'abc', message: 'not found; attempt 1' },
        ready: false,
        failure: { reason: 'NotFound', message: 'not found; attempt 1' },
      },
    },
  ])('$what', ({ report, want }) => {
    expect(waitingOutcome(entry, report)).toEqual(want);
  });
});

/** The smallest client the ops call: container stop, image pull and inspect. */
function client(o: {
  stop?: () => Promise<unknown>;
  pull?: (query: { abortSignal?: AbortSignal }) => Promise<unknown>;
}) {
  const stops: Array<{ t?: number; abortSignal?: AbortSignal }> = [];
  const api = {
    getContainer: () => ({
      stop: (q: { t?: number; abortSignal?: AbortSignal }) => (stops.push(q), (o.stop ?? (async () => {}))()),
    }),
    createImage: (q: { abortSignal?: AbortSignal }) => (o.pull ?? (async () => [] as unknown[]))(q),
    getImage: () => ({
      inspect: () => Promise.reject(Object.assign(new Error('no such image'), { statusCode: 404 })),
    }),
  };
  return { api: api as unknown as Dockerode, stops };
}

describe('ContainerOps.stop', () => {
  const base = {
    host: 'h1',
    id: 'c1',
    name: 'ns.web',
    ownerKey: 'ns/web',
    signal: new AbortController().signal,
  };

  it('a quick stop is answered in the same reconcile; a long one is left running and enqueues its owner when it ends', async () => {
    const triggered: string[] = [];
    const ops = new ContainerOps({ trigger: (k) => triggered.push(k), stopWaitMs: 20 });
    const quick = client({});
    expect(await ops.stop({ ...base, graceSeconds: 1, stream: quick.api })).toEqual({ state: 'stopped' });
    expect(triggered).toEqual([]);

    const slow = manual<unknown>();
    const long = client({ stop: () => slow.promise });
    const ended: StopResult[] = [];
    const req = {
      ...base,
      id: 'c2',
      graceSeconds: 600,
      stream: long.api,
      onEnded: (r: StopResult) => ended.push(r),
    };
    const first = await ops.stop(req);
    expect(first).toMatchObject({
      state: 'stopping',
      started: true,
      message: 'stopping ns.web (grace period 600 s)',
    });
    // The request itself may last the whole grace period: t is passed, and a deadline past it, not a socket timeout.
    expect(long.stops[0]?.t).toBe(600);
    expect(long.stops[0]?.abortSignal?.aborted).toBe(false);
    const started = Date.now();
    expect(await ops.stop(req)).toMatchObject({ state: 'stopping', started: false });
    expect(Date.now() - started).toBeLessThan(15); // joining does not wait
    expect(long.stops).toHaveLength(1);
    slow.resolve(undefined);
    await tick();
    expect(ended).toMatchObject([{ ok: true }]);
    expect(triggered).toEqual(['ns/web']);
  });

  it('a failed stop is reported once, then tried again', async () => {
    const ops = new ContainerOps({ stopWaitMs: 20 });
    let fail = true;
    const c = client({
      stop: () =>
        fail
          ? Promise.reject(Object.assign(new Error('daemon says no'), { statusCode: 500 }))
          : Promise.resolve(),
    });
    const req = { ...base, graceSeconds: 1, stream: c.api };
    expect(await ops.stop(req)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('daemon says no'),
    });
    fail = false;
    expect(await ops.stop(req)).toEqual({ state: 'stopped' });
    expect(c.stops).toHaveLength(2);
  });

  it('stops with the controller: its signal aborts the request', async () => {
    const controller = new AbortController();
    const ops = new ContainerOps({ stopWaitMs: 5 });
    const c = client({ stop: () => new Promise(() => {}) });
    await ops.stop({ ...base, graceSeconds: 60, stream: c.api, signal: controller.signal });
    controller.abort();
    expect(c.stops[0]?.abortSignal?.aborted).toBe(true);
  });
});

describe('ContainerOps.pull', () => {
  const owner = (n: string) => ({ uid: `uid-${n}`, key: `ns/${n}` });

  it('never waits: Pulling while it runs, one pull per host and image, at most maxPulls in flight, aborted with the controller', async () => {
    const controller = new AbortController();
    const pulls: Array<{ image: string; signal?: AbortSignal }> = [];
    const ops = new ContainerOps({ maxPulls: 1 });
    const c = client({
      pull: (q) => (
        pulls.push({
          image: String((q as { fromImage?: string }).fromImage),
          ...(q.abortSignal ? { signal: q.abortSignal } : {}),
        }),
        new Promise(() => {})
      ),
    });
    const events: string[] = [];
    const req = (image: string, who: string) => ({
      host: 'h1',
      image,
      owner: owner(who),
      conn: { api: c.api, stream: c.api },
      access: new ImageAccessRecords(),
      signal: controller.signal,
      note: (_t: string, reason: string) => events.push(reason),
    });
    expect(ops.pull(req('big:1', 'a'))).toEqual({
      phase: 'Pulling',
      message: 'pulling big:1',
      requeueAfterMs: 2_000,
    });
    expect(ops.pull(req('big:1', 'b')).phase).toBe('Pulling'); // joins
    const queued = ops.pull(req('other:1', 'c'));
    await tick();
    expect(pulls.map((p) => p.image)).toEqual(['big']);
    expect(ops.pullsInFlight).toBe(1);
    expect(ops.pull(req('other:1', 'c')).message).toBe(
      'waiting to pull other:1: 1 pulls already in flight on this controller',
    );
    expect(queued.failure).toBeUndefined();
    controller.abort();
    await tick();
    expect(pulls[0]?.signal?.aborted).toBe(true);
  });

  it('a failed pull: Ready=False with its reason and a Warning once, no new pull during the backoff, the owner enqueued', async () => {
    let now = 10_000;
    const triggered: string[] = [];
    const ops = new ContainerOps({ trigger: (k) => triggered.push(k), now: () => now });
    let pulls = 0;
    const c = client({
      pull: () => (
        pulls++,
        Promise.reject(Object.assign(new Error('manifest unknown'), { statusCode: 404 }))
      ),
    });
    const warnings: string[] = [];
    const req = {
      host: 'h1',
      image: 'gone:1',
      owner: owner('a'),
      conn: { api: c.api, stream: c.api },
      access: new ImageAccessRecords(),
      signal: new AbortController().signal,
      note: (type: string, reason: string) => type === 'Warning' && warnings.push(reason),
    };
    ops.pull(req);
    await tick();
    await tick();
    expect(triggered).toEqual(['ns/a']);
    const failed = ops.pull(req);
    expect(failed.failure?.reason).toBe('NotFound');
    expect(failed.requeueAfterMs).toBe(5_000);
    now += 1_000;
    expect(ops.pull(req).failure?.reason).toBe('NotFound');
    expect(warnings).toEqual(['PullFailed']);
    expect(pulls).toBe(1);
    now += 4_000;
    expect(ops.pull(req).failure).toBeUndefined();
    expect(pulls).toBe(1 + 0); // started in the background…
    await tick();
    expect(pulls).toBe(2); // …after the backoff
  });
});

describe('stoppingMessage', () => {
  it.each([
    [undefined, 'stopping ns.web (grace period 60 s)'],
    ['to recreate it', 'stopping ns.web to recreate it (grace period 60 s)'],
  ])('purpose %s', (purpose, want) => {
    expect(stoppingMessage('ns.web', 60, purpose)).toBe(want);
  });
});

describe('recreateBefore', () => {
  const p = (name: string, maximumRetryCount = 0) => ({ name, maximumRetryCount });
  const seen = (running: boolean, policy: string, retries = 0) => ({
    running,
    restarting: false,
    restartPolicy: p(policy, retries),
  });
  const cases: Array<{
    what: string;
    record?: RecreateBefore;
    observed: ReturnType<typeof seen>;
    want: RecreateBefore;
  }> = [
    {
      what: 'first pass: read from the container',
      observed: seen(true, 'always'),
      want: { wasRunning: true, restartPolicy: p('always') },
    },
    {
      what: 'second pass, stopped and kept down: the record says running, always',
      record: { wasRunning: true, restartPolicy: p('always') },
      observed: seen(false, 'no'),
      want: { wasRunning: true, restartPolicy: p('always') },
    },
    {
      what: 'second pass, same policy: the record says running',
      record: { wasRunning: true, restartPolicy: p('unless-stopped') },
      observed: seen(false, 'unless-stopped'),
      want: { wasRunning: true, restartPolicy: p('unless-stopped') },
    },
    {
      what: 'was stopped, someone started it since: running',
      record: { wasRunning: false, restartPolicy: p('no') },
      observed: seen(true, 'no'),
      want: { wasRunning: true, restartPolicy: p('no') },
    },
    {
      what: 'another policy set in place since (a recreate given up): read anew',
      record: { wasRunning: true, restartPolicy: p('always') },
      observed: seen(false, 'unless-stopped'),
      want: { wasRunning: false, restartPolicy: p('unless-stopped') },
    },
    {
      what: 'another retry count since: read anew',
      record: { wasRunning: true, restartPolicy: p('on-failure', 3) },
      observed: seen(false, 'on-failure', 5),
      want: { wasRunning: false, restartPolicy: p('on-failure', 5) },
    },
    {
      what: 'a new process (no record) after a crash mid-stop: stopped, not known to have run',
      observed: seen(false, 'no'),
      want: { wasRunning: false, restartPolicy: p('no') },
    },
  ];
  it.each(cases)('$what', ({ record, observed, want }) => {
    expect(recreateBefore({ record, observed })).toEqual(want);
  });
});

describe('RecreateMemory', () => {
  const container = (id: string, running: boolean, policy: string) => ({
    id,
    state: { running, restarting: false },
    hostConfig: { restartPolicy: { name: policy, maximumRetryCount: 0 } },
  });

  it('remembers across passes per host and container until forgotten or released', () => {
    let now = 0;
    const memory = new RecreateMemory({ now: () => now });
    const always = { name: 'always', maximumRetryCount: 0 };
    expect(memory.begin('h1', 'u1', container('c1', true, 'always'))).toEqual({
      wasRunning: true,
      restartPolicy: always,
    });
    now = 60_000;
    // The second pass: stopped, kept down.
    expect(memory.begin('h1', 'u1', container('c1', false, 'no'))).toEqual({
      wasRunning: true,
      restartPolicy: always,
    });
    // Another host, same ID: its own.
    expect(memory.begin('h2', 'u1', container('c1', false, 'no')).wasRunning).toBe(false);
    memory.forget('h1', 'c1');
    expect(memory.begin('h1', 'u1', container('c1', false, 'no')).wasRunning).toBe(false);

    memory.begin('h1', 'u2', container('c2', true, 'always'));
    memory.release('h1', 'u2');
    expect(memory.begin('h1', 'u2', container('c2', false, 'no')).wasRunning).toBe(false);
  });

  it('drops records not looked at for the TTL', () => {
    let now = 0;
    const memory = new RecreateMemory({ now: () => now, ttlMs: 1_000 });
    memory.begin('h1', 'u1', container('c1', true, 'always'));
    now = 900;
    expect(memory.begin('h1', 'u1', container('c1', false, 'no')).wasRunning).toBe(true);
    now = 1_800; // 900 ms after the last look: kept
    expect(memory.begin('h1', 'u1', container('c1', false, 'no')).wasRunning).toBe(true);
    now = 5_000;
    expect(memory.begin('h1', 'u1', container('c1', false, 'no')).wasRunning).toBe(false);
  });
});
