import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  decide,
  LeaderElector,
  releaseRecord,
  sameRecord,
  type LeaderElectorOptions,
} from './leader-election.js';
import type { LeaderElectionRecord, LeaseClient, ObservedLease } from './lease-client.js';
import { FakeLeaseStore } from './test-support.js';

const rec = (r: Partial<LeaderElectionRecord>): LeaderElectionRecord => ({
  holderIdentity: '',
  leaseDurationSeconds: 15,
  leaseTransitions: 0,
  ...r,
});

describe('decide', () => {
  const base = { identity: 'me', leaseDurationSeconds: 15, now: 100_000, wallNow: 100_000 };
  it.each([
    {
      name: 'no lease: create it',
      current: undefined,
      observedAt: 0,
      want: {
        action: 'create',
        record: rec({ holderIdentity: 'me', acquireTime: 100_000, renewTime: 100_000 }),
      },
    },
    {
      name: 'held by another, seen changing recently: wait',
      current: rec({ holderIdentity: 'other', renewTime: 99_000 }),
      observedAt: 90_000,
      want: { action: 'wait', holder: 'other', expiresAt: 105_000 },
    },
    {
      name: 'held by another, unchanged for leaseDuration by our clock: take over',
      current: rec({ holderIdentity: 'other', leaseTransitions: 3, acquireTime: 1, renewTime: 2 }),
      observedAt: 85_000,
      want: {
        action: 'update',
        record: rec({ holderIdentity: 'me', acquireTime: 100_000, renewTime: 100_000, leaseTransitions: 4 }),
      },
    },
    {
      name: 'remote renewTime is ignored: an old-looking record seen changing recently still blocks (clock skew)',
      current: rec({ holderIdentity: 'other', renewTime: 1 }),
      observedAt: 99_999,
      want: { action: 'wait', holder: 'other', expiresAt: 114_999 },
    },
    {
      name: "the holder's own duration counts, not ours",
      current: rec({ holderIdentity: 'other', leaseDurationSeconds: 60 }),
      observedAt: 50_000,
      want: { action: 'wait', holder: 'other', expiresAt: 110_000 },
    },
    {
      name: 'held by us: renew, keeping acquireTime and transitions',
      current: rec({ holderIdentity: 'me', acquireTime: 5, renewTime: 98_000, leaseTransitions: 2 }),
      observedAt: 98_000,
      want: {
        action: 'update',
        record: rec({ holderIdentity: 'me', acquireTime: 5, renewTime: 100_000, leaseTransitions: 2 }),
      },
    },
    {
      name: 'released (no holder): take it at once',
      current: rec({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 }),
      observedAt: 100_000,
      want: {
        action: 'update',
        record: rec({ holderIdentity: 'me', acquireTime: 100_000, renewTime: 100_000, leaseTransitions: 3 }),
      },
    },
  ])('$name', ({ current, observedAt, want }) => {
    expect(decide({ ...base, current, observedAt })).toEqual(want);
  });

  it.each([
    { name: 'held by another, seen recently', current: rec({ holderIdentity: 'other' }), observedAt: 90_000 },
    { name: 'held by another, long unchanged', current: rec({ holderIdentity: 'other' }), observedAt: 1_000 },
    { name: 'held by us', current: rec({ holderIdentity: 'me', acquireTime: 5 }), observedAt: 98_000 },
    { name: 'no lease', current: undefined, observedAt: 0 },
  ])('a wall-clock step (±1 h) changes only the times written, never the decision: $name', (c) => {
    const steady = decide({ ...base, current: c.current, observedAt: c.observedAt });
    for (const step of [3_600_000, -3_600_000]) {
      const stepped = decide({
        ...base,
        wallNow: base.wallNow + step,
        current: c.current,
        observedAt: c.observedAt,
      });
      expect(stepped.action).toBe(steady.action);
      if (stepped.action === 'wait' && steady.action === 'wait') expect(stepped).toEqual(steady);
      if (stepped.action !== 'wait') expect(stepped.record.renewTime).toBe(base.wallNow + step);
    }
  });

  it('expiry boundary: exactly leaseDuration after the last observed change the lease is free', () => {
    const current = rec({ holderIdentity: 'other' });
    expect(decide({ ...base, current, observedAt: 85_001 }).action).toBe('wait');
    expect(decide({ ...base, current, observedAt: 85_000 }).action).toBe('update');
  });
});

describe('releaseRecord / sameRecord', () => {
  it('release empties the holder and shortens the duration to 1 s, keeping transitions', () => {
    expect(releaseRecord(rec({ holderIdentity: 'me', leaseTransitions: 7 }), 42)).toEqual(
      rec({
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: 42,
        renewTime: 42,
        leaseTransitions: 7,
      }),
    );
  });
  it.each([
    {
      a: rec({ holderIdentity: 'x', renewTime: 1 }),
      b: rec({ holderIdentity: 'x', renewTime: 1 }),
      same: true,
    },
    {
      a: rec({ holderIdentity: 'x', renewTime: 1 }),
      b: rec({ holderIdentity: 'x', renewTime: 2 }),
      same: false,
    },
    { a: undefined, b: rec({}), same: false },
    { a: undefined, b: undefined, same: true },
  ])('sameRecord → $same', ({ a, b, same }) => {
    expect(sameRecord(a, b)).toBe(same);
  });
});

function elector(store: FakeLeaseStore, identity: string, overrides: Partial<LeaderElectorOptions> = {}) {
  const events: string[] = [];
  let leadingSignal: AbortSignal | undefined;
  const e = new LeaderElector({
    client: store.client(identity),
    identity,
    random: () => 0,
    onStartedLeading: (signal) => {
      leadingSignal = signal;
      events.push('started');
    },
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (id) => events.push(`leader:${id}`),
    ...overrides,
  });
  const ac = new AbortController();
  const done = e.run(ac.signal);
  return { e, events, ac, done, leadingSignal: () => leadingSignal };
}

describe('LeaderElector', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates the lease, leads, and renews every retry period', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    expect(a.e.isLeader()).toBe(true);
    expect(a.events).toEqual(['leader:a', 'started']);
    expect(store.lease?.record.holderIdentity).toBe('a');
    const writes = store.writes.length;
    await vi.advanceTimersByTimeAsync(6_000);
    expect(store.writes.length - writes).toBe(3);
    a.ac.abort();
    await a.done;
  });

  it('a standby waits while the leader renews, and takes over leaseDuration after the leader dies', async () => {
    const store = new FakeLeaseStore();
    let aDead = false;
    const a = elector(store, 'a', { client: store.client('a', { failing: () => aDead }) });
    await vi.advanceTimersByTimeAsync(0);
    const b = elector(store, 'b');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(b.e.isLeader()).toBe(false);
    expect(b.events).toEqual(['leader:a']);

    aDead = true; // a stops renewing (process hung / partitioned)
    const diedAt = Date.now();
    let tookOverAt = 0;
    for (let t = 0; t < 40_000 && !tookOverAt; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (b.e.isLeader()) tookOverAt = Date.now();
    }
    // b last saw a's record change at most one retry period before a died; it must wait a full 15 s from then.
    expect(tookOverAt - diedAt).toBeGreaterThanOrEqual(15_000 - 2_000);
    expect(tookOverAt - diedAt).toBeLessThanOrEqual(15_000 + 2_000 * 2.2);
    expect(store.lease?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // a, unable to renew, has stopped leading by its renew deadline and did not release.
    expect(a.e.isLeader()).toBe(false);
    expect(a.events).toContain('stopped');
    expect(a.leadingSignal()?.aborted).toBe(true);
    await a.done;
    b.ac.abort();
    await b.done;
  });

  it('the leader stops leading within the renew deadline when it cannot renew', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const a = elector(store, 'a', { client: store.client('a', { failing: () => failing }) });
    await vi.advanceTimersByTimeAsync(0);
    failing = true;
    const failedAt = Date.now();
    await vi.advanceTimersByTimeAsync(2_000 + 10_000);
    expect(a.e.isLeader()).toBe(false);
    expect(a.events.at(-1)).toBe('stopped');
    await a.done;
    expect(Date.now() - failedAt).toBeLessThan(15_000);
    expect(store.lease?.record.holderIdentity).toBe('a'); // nothing written while failing
  });

  it('a wall clock stepped back while renewals fail does not keep it leader past the renew deadline', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const a = elector(store, 'a', { client: store.client('a', { failing: () => failing }) });
    await vi.advanceTimersByTimeAsync(0);
    failing = true;
    await vi.advanceTimersByTimeAsync(2_500); // inside a renew round that keeps failing
    vi.setSystemTime(Date.now() - 3_600_000); // the wall clock jumps back an hour
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.e.isLeader()).toBe(false);
    expect(a.events.at(-1)).toBe('stopped');
    await a.done;
  });

  it('a wall clock stepped forward does not cut a renew round short', async () => {
    const store = new FakeLeaseStore();
    let failing = false;
    const a = elector(store, 'a', { client: store.client('a', { failing: () => failing }) });
    await vi.advanceTimersByTimeAsync(0);
    failing = true;
    await vi.advanceTimersByTimeAsync(2_500); // one renew attempt failed
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(2_000); // another one fails, well inside the 10 s deadline
    failing = false;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(a.e.isLeader()).toBe(true);
    expect(a.events).not.toContain('stopped');
    a.ac.abort();
    await a.done;
  });

  it('a wall clock stepped forward does not let a standby take over before leaseDuration', async () => {
    const store = new FakeLeaseStore();
    let aDead = false;
    const a = elector(store, 'a', { client: store.client('a', { failing: () => aDead }) });
    await vi.advanceTimersByTimeAsync(0);
    const b = elector(store, 'b');
    await vi.advanceTimersByTimeAsync(10_000);
    aDead = true;
    await vi.advanceTimersByTimeAsync(5_000); // b has seen a's last renewal
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(b.e.isLeader()).toBe(false); // by b's monotonic clock, a's lease is at most ~12 s old
    await vi.advanceTimersByTimeAsync(15_000);
    expect(b.e.isLeader()).toBe(true);
    // The record carries wall-clock times: the stepped clock's, as the API requires.
    expect(store.lease?.record.renewTime).toBeGreaterThan(Date.now() - 10_000);
    await a.done;
    b.ac.abort();
    await b.done;
  });

  it('a hung renew request does not keep it leader past the renew deadline', async () => {
    const store = new FakeLeaseStore();
    let hang = false;
    const base = store.client('a');
    const client: LeaseClient = {
      ...base,
      get: () => (hang ? new Promise<ObservedLease | undefined>(() => {}) : base.get()),
    };
    const a = elector(store, 'a', { client });
    await vi.advanceTimersByTimeAsync(0);
    hang = true;
    await vi.advanceTimersByTimeAsync(2_000 + 10_000);
    expect(a.e.isLeader()).toBe(false);
    await a.done;
  });

  it('releases on graceful shutdown so the standby takes over within a retry period, not a lease duration', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    const b = elector(store, 'b');
    await vi.advanceTimersByTimeAsync(10_000);
    a.ac.abort();
    await a.done;
    expect(a.events.at(-1)).toBe('stopped');
    expect(store.lease?.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await vi.advanceTimersByTimeAsync(2_000 * 2.2);
    expect(b.e.isLeader()).toBe(true);
    b.ac.abort();
    await b.done;
  });

  it('keepLeaseOnStop leaves the lease to expire instead of releasing it', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    a.e.keepLeaseOnStop();
    a.ac.abort();
    await a.done;
    expect(a.events.at(-1)).toBe('stopped');
    expect(store.lease?.record.holderIdentity).toBe('a');
  });

  it('stopping before acquiring neither leads nor releases', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await vi.advanceTimersByTimeAsync(0);
    const b = elector(store, 'b');
    await vi.advanceTimersByTimeAsync(3_000);
    b.ac.abort();
    await b.done;
    expect(b.events).toEqual(['leader:a']);
    expect(store.lease?.record.holderIdentity).toBe('a');
    a.ac.abort();
    await a.done;
  });

  it('two candidates racing for a free lease end with exactly one leader', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    const b = elector(store, 'b');
    await vi.advanceTimersByTimeAsync(30_000);
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    a.ac.abort();
    b.ac.abort();
    await Promise.all([a.done, b.done]);
  });

  it('a throwing onStartedLeading does not break renewing', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a', {
      onStartedLeading: () => {
        throw new Error('bad callback');
      },
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.e.isLeader()).toBe(true);
    a.ac.abort();
    await a.done;
  });

  it.each([
    {
      name: 'leaseDuration <= renewDeadline',
      o: { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 },
      err: /leaseDuration/,
    },
    {
      name: 'renewDeadline <= 1.2 × retryPeriod',
      o: { renewDeadlineMs: 2_400, retryPeriodMs: 2_000 },
      err: /renewDeadline/,
    },
    { name: 'empty identity', o: { identity: '' }, err: /identity/ },
  ])('rejects bad timing: $name', ({ o, err }) => {
    const store = new FakeLeaseStore();
    expect(
      () =>
        new LeaderElector({
          client: store.client('x'),
          identity: 'x',
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
          ...o,
        }),
    ).toThrow(err);
  });
});
