import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../support/log-capture.js';
import type { TestProcess } from '../support/test-process.js';
import {
  CONTROLLER_START_TIMEOUT_MS,
  leaseAcquired,
  startControllerProcess,
  workersStarted,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import { applyFleet, fleetObjects } from './support/fleet.js';
import {
  checkInvariants,
  expectInvariants,
  ownedDockerObjects,
  waitForConvergence,
  type InvariantInput,
} from './support/invariants.js';
import { scenarioPrng } from './support/prng.js';
import { scenarioClock } from './support/timing.js';

// Two real `dockyard controller` processes with leader election on one Lease.
// The leader is SIGKILLed at a seeded random point while it works through a
// manifest; the standby takes the lease once it expires, and everything (what
// the dead leader half-did, and what is applied and changed after its death)
// converges under the new leader with the invariant intact.

const NS = 'failover';
const LEASE = { namespace: NS, id: 'dockyard-faults' };
const GROUPS = 15; // 60 objects before the kill
const LATE_GROUPS = 5; // 20 more applied while no leader runs
/** Lease duration (15 s) plus start-up of the standby's controllers on a busy machine. */
const TAKEOVER_TIMEOUT_MS = 120_000;

let env: FaultEnvironment;

beforeAll(async () => {
  env = await startFaultEnvironment([NS]);
}, FAULT_ENV_START_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

const indexOf = (p: TestProcess, match: (l: LogLine) => boolean) =>
  p.lines.findIndex(({ line }) => match(line));

describe('leader SIGKILLed with a standby running', () => {
  it('the standby takes over and every object converges, including those applied after the kill', async () => {
    const rng = scenarioPrng('leader-failover');
    const clock = scenarioClock('leader-failover');
    const { cp, kube, nodes, lab } = env;
    const input: InvariantInput = { kube, nodes, namespaces: [NS] };

    const replicas = [
      startControllerProcess(cp, { name: 'replica-a', leaderElection: LEASE }),
      startControllerProcess(cp, { name: 'replica-b', leaderElection: LEASE }),
    ];
    const leader = await Promise.any(
      replicas.map(async (r) => {
        await r.waitForLog(leaseAcquired, CONTROLLER_START_TIMEOUT_MS, 'acquire the lease');
        return r;
      }),
    );
    const standby = replicas.find((r) => r !== leader)!;
    await standby.waitForLog(
      (l) => l.msg === 'new leader observed',
      CONTROLLER_START_TIMEOUT_MS,
      'see the leader',
    );
    await leader.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    clock.lap(`${leader.name} leads, ${standby.name} stands by`);

    const all = fleetObjects(GROUPS + LATE_GROUPS, lab.workloadImage);
    const early = all.filter((o) => o.group < GROUPS);
    const late = all.filter((o) => o.group >= GROUPS);
    await applyFleet(kube, NS, early);
    const delay = rng.int(500, 4_000);
    await new Promise((r) => setTimeout(r, delay));
    // The kill must land mid-work for the scenario to mean anything.
    const atKill = await checkInvariants(input);
    await leader.kill();
    const madeByLeader = await ownedDockerObjects(nodes, [NS]);
    clock.lap(
      `SIGKILLed the leader ${delay} ms after applying ${early.length} objects (${madeByLeader.length} Docker objects made, ${atKill.length} violations open)`,
    );
    expect(madeByLeader.length, 'the leader had started creating Docker objects').toBeGreaterThan(0);
    expect(atKill.length, 'the leader had not finished yet').toBeGreaterThan(0);
    expect(
      standby.find(workersStarted),
      'the standby ran no controllers while the leader lived',
    ).toBeUndefined();

    // Changes while nobody leads: more objects, and a spec change to something the dead leader made.
    await applyFleet(kube, NS, late);
    await kube.patch('DockerContainer', NS, 'c0b', { spec: { env: [{ name: 'AFTER', value: 'failover' }] } });

    await standby.waitForLog(leaseAcquired, TAKEOVER_TIMEOUT_MS, 'take over the lease');
    await standby.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    expect(indexOf(standby, workersStarted)).toBeGreaterThan(indexOf(standby, leaseAcquired));
    clock.lap(`${standby.name} took over`);

    await waitForConvergence(input, 300_000);
    await expectInvariants(input);
    expect(standby.running, standby.describe()).toBe(true);
    clock.lap(`converged: ${all.length} objects`);
    await standby.kill();
    clock.done();
  });
});
