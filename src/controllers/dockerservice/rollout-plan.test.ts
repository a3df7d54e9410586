import { describe, expect, it } from 'vitest';
import { planRollout, type PlanStrategy } from './rollout-plan.js';
import type { PlanAction, Replica, Slot } from './types.js';

// A small world the plan acts on, one reconcile per tick: a created replica
// is Starting for `startTicks` ticks, then Available (or Failed when its
// revision is bad); a deleted one is Terminating for one tick, then gone.
interface Sim {
  replicas: Array<Replica & { age: number }>;
  bad: Set<string>;
  startTicks: number;
  seq: number;
}

function slotsOf(sim: Sim, hosts: string[], count: number): Slot[] {
  return Array.from({ length: count }, (_, i) => ({
    id: String(i),
    host: hosts[i % hosts.length],
    replicas: sim.replicas.filter((r) => r.slot === String(i)),
    outOfService: false,
  }));
}

function apply(sim: Sim, actions: readonly PlanAction[]): void {
  for (const a of actions) {
    if (a.type === 'create')
      sim.replicas.push({
        name: `r${sim.seq++}`,
        slot: a.slot,
        host: a.host,
        revision: a.revision,
        state: 'Starting',
        ready: false,
        age: 0,
      });
    else {
      const r = sim.replicas.find((x) => x.name === a.name);
      if (r) Object.assign(r, { state: 'Terminating', age: 0 });
    }
  }
}

function tick(sim: Sim): void {
  sim.replicas = sim.replicas.filter((r) => !(r.state === 'Terminating' && r.age >= 1));
  for (const r of sim.replicas) {
    r.age++;
    if (r.state === 'Starting' && r.age >= sim.startTicks) {
      const failed = sim.bad.has(r.revision);
      Object.assign(r, { state: failed ? 'Failed' : 'Available', ready: !failed });
    }
  }
}

interface RunResult {
  minAvailable: number;
  maxExisting: number;
  maxBadAtOnce: number;
  ticks: number;
  complete: boolean;
}

function run(opts: {
  sim: Sim;
  strategy: PlanStrategy;
  target: string;
  replicas: number;
  hosts?: string[];
  maxTicks?: number;
  updateAllowance?: number;
}): RunResult {
  const { sim, strategy, target, replicas } = opts;
  const hosts = opts.hosts ?? ['n1', 'n2', 'n3'];
  const out: RunResult = {
    minAvailable: Infinity,
    maxExisting: 0,
    maxBadAtOnce: 0,
    ticks: 0,
    complete: false,
  };
  for (; out.ticks < (opts.maxTicks ?? 200); out.ticks++) {
    const plan = planRollout({
      slots: slotsOf(sim, hosts, replicas),
      surplus: sim.replicas.filter((r) => Number(r.slot) >= replicas),
      target,
      strategy,
      updateAllowance: opts.updateAllowance ?? Infinity,
      frozen: false,
    });
    out.complete = plan.complete;
    if (plan.complete) break;
    apply(sim, plan.actions);
    out.maxExisting = Math.max(out.maxExisting, sim.replicas.length);
    out.maxBadAtOnce = Math.max(out.maxBadAtOnce, sim.replicas.filter((r) => sim.bad.has(r.revision)).length);
    tick(sim);
    const availableSlots = new Set(sim.replicas.filter((r) => r.state === 'Available').map((r) => r.slot));
    out.minAvailable = Math.min(out.minAvailable, availableSlots.size);
  }
  return out;
}

function settled(revision: string, count: number, hosts = ['n1', 'n2', 'n3']): Sim {
  return {
    replicas: Array.from({ length: count }, (_, i) => ({
      name: `old${i}`,
      slot: String(i),
      host: hosts[i % hosts.length] ?? 'n1',
      revision,
      state: 'Available' as const,
      ready: true,
      age: 10,
    })),
    bad: new Set(),
    startTicks: 2,
    seq: 0,
  };
}

describe('planRollout', () => {
  it('creates every replica of a new service at once', () => {
    const sim = { ...settled('a', 0), seq: 0 };
    const plan = planRollout({
      slots: slotsOf(sim, ['n1', 'n2'], 4),
      surplus: [],
      target: 'a',
      strategy: { order: 'StopFirst', maxUnavailable: 1, maxSurge: 0 },
      updateAllowance: Infinity,
      frozen: false,
    });
    expect(plan.actions).toEqual([
      { type: 'create', slot: '0', host: 'n1', revision: 'a' },
      { type: 'create', slot: '1', host: 'n2', revision: 'a' },
      { type: 'create', slot: '2', host: 'n1', revision: 'a' },
      { type: 'create', slot: '3', host: 'n2', revision: 'a' },
    ]);
    expect(plan.complete).toBe(false);
  });

  it.each([
    { order: 'StopFirst' as const, maxUnavailable: 1, maxSurge: 1 },
    { order: 'StopFirst' as const, maxUnavailable: 3, maxSurge: 0 },
    { order: 'StartFirst' as const, maxUnavailable: 0, maxSurge: 1 },
    { order: 'StartFirst' as const, maxUnavailable: 1, maxSurge: 2 },
  ])('rolls 12 replicas within both limits: %o', (strategy) => {
    const result = run({ sim: settled('a', 12), strategy, target: 'b', replicas: 12 });
    expect(result.complete).toBe(true);
    expect(result.minAvailable).toBeGreaterThanOrEqual(12 - strategy.maxUnavailable);
    expect(result.maxExisting).toBeLessThanOrEqual(12 + strategy.maxSurge);
  });

  it.each([
    { order: 'StopFirst' as const, maxUnavailable: 1, maxSurge: 1, pace: 1 },
    { order: 'StopFirst' as const, maxUnavailable: 2, maxSurge: 0, pace: 2 },
    { order: 'StartFirst' as const, maxUnavailable: 0, maxSurge: 1, pace: 1 },
  ])('a failing revision runs on at most one pace of replicas: %o', ({ pace, ...strategy }) => {
    const sim = settled('a', 12);
    sim.bad.add('bad');
    const result = run({ sim, strategy, target: 'bad', replicas: 12, maxTicks: 40 });
    expect(result.complete).toBe(false);
    expect(result.maxBadAtOnce).toBe(pace);
    expect(result.minAvailable).toBeGreaterThanOrEqual(12 - strategy.maxUnavailable);
  });

  it('rolls back over a failed revision without spending the budget on its failed replicas', () => {
    const sim = settled('a', 6);
    sim.bad.add('bad');
    const strategy = { order: 'StopFirst' as const, maxUnavailable: 1, maxSurge: 1 };
    run({ sim, strategy, target: 'bad', replicas: 6, maxTicks: 10 });
    const back = run({ sim, strategy, target: 'a', replicas: 6 });
    expect(back.complete).toBe(true);
    expect(sim.replicas.every((r) => r.revision === 'a' && r.state === 'Available')).toBe(true);
  });

  it('holds a canary step at its size', () => {
    const sim = settled('a', 12);
    const strategy = { order: 'StopFirst' as const, maxUnavailable: 2, maxSurge: 0 };
    const result = run({ sim, strategy, target: 'b', replicas: 12, maxTicks: 30, updateAllowance: 3 });
    expect(result.complete).toBe(false);
    expect(sim.replicas.filter((r) => r.revision === 'b')).toHaveLength(3);
    expect(sim.replicas.filter((r) => r.revision === 'b' && r.state === 'Available')).toHaveLength(3);
  });

  it('removes replicas of slots scaled away and does nothing when frozen', () => {
    const sim = settled('a', 4);
    const input = {
      slots: slotsOf(sim, ['n1', 'n2', 'n3'], 2),
      surplus: sim.replicas.filter((r) => Number(r.slot) >= 2),
      target: 'a',
      strategy: { order: 'StopFirst' as const, maxUnavailable: 1, maxSurge: 1 },
      updateAllowance: Infinity,
    };
    expect(
      planRollout({ ...input, frozen: false }).actions.map((a) => a.type === 'delete' && a.name),
    ).toEqual(['old2', 'old3']);
    expect(planRollout({ ...input, frozen: true }).actions).toEqual([]);
  });

  it('moves a slot off a host: the stray goes once the replacement is Available, or at once when it is down', () => {
    const stray: Replica = {
      name: 's',
      slot: '0',
      host: 'n9',
      revision: 'a',
      state: 'Available',
      ready: true,
    };
    const moved = (replicas: Replica[]) =>
      planRollout({
        slots: [{ id: '0', host: 'n1', replicas, outOfService: false }],
        surplus: [],
        target: 'a',
        strategy: { order: 'StopFirst', maxUnavailable: 0, maxSurge: 1 },
        updateAllowance: Infinity,
        frozen: false,
      }).actions;
    expect(moved([stray])).toEqual([{ type: 'create', slot: '0', host: 'n1', revision: 'a' }]);
    const fresh: Replica = { ...stray, name: 'f', host: 'n1', state: 'Starting', ready: false };
    expect(moved([stray, fresh])).toEqual([]);
    expect(moved([stray, { ...fresh, state: 'Available', ready: true }])).toEqual([
      { type: 'delete', name: 's', why: 'moved to n1' },
    ]);
    expect(moved([{ ...stray, state: 'HostDown', ready: false }])).toContainEqual({
      type: 'delete',
      name: 's',
      why: 'moved to n1',
    });
  });

  it('leaves an old replica on a down host alone (it may still serve) and spends no budget on it', () => {
    const replica = (name: string, slot: string, host: string, state: Replica['state']): Replica => ({
      name,
      slot,
      host,
      revision: 'a',
      state,
      ready: state === 'Available',
    });
    const plan = planRollout({
      slots: [
        { id: '0', host: 'n2', replicas: [replica('down0', '0', 'n2', 'HostDown')], outOfService: false },
        { id: '1', host: 'n2', replicas: [replica('down1', '1', 'n2', 'HostDown')], outOfService: false },
        { id: '2', host: 'n1', replicas: [replica('up2', '2', 'n1', 'Available')], outOfService: false },
        { id: '3', host: 'n1', replicas: [replica('failed3', '3', 'n1', 'Failed')], outOfService: false },
      ],
      surplus: [],
      target: 'b',
      strategy: { order: 'StopFirst', maxUnavailable: 3, maxSurge: 0 },
      updateAllowance: Infinity,
      frozen: false,
    });
    // The failed one is replaced for free; the down ones wait; the Available
    // one may go (3 unavailable = maxUnavailable: no budget left for it).
    expect(plan.actions).toEqual([
      { type: 'delete', name: 'failed3', why: 'replaced (it was not Available)' },
    ]);
    expect(plan.counts).toMatchObject({ desired: 4, available: 1 });
  });

  it('leaves out-of-service slots out of the counts and completion', () => {
    const plan = planRollout({
      slots: [
        { id: 'n1', host: 'n1', replicas: [], outOfService: true },
        {
          id: 'n2',
          host: 'n2',
          replicas: [{ name: 'x', slot: 'n2', host: 'n2', revision: 'a', state: 'Available', ready: true }],
          outOfService: false,
        },
      ],
      surplus: [],
      target: 'a',
      strategy: { order: 'StopFirst', maxUnavailable: 1, maxSurge: 0 },
      updateAllowance: Infinity,
      frozen: false,
    });
    expect(plan).toMatchObject({ complete: true, actions: [], counts: { desired: 1, available: 1 } });
  });
});
