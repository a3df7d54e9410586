import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { parseSamples, scrape } from '../support/prometheus.js';
import {
  CONTROLLER_START_TIMEOUT_MS,
  isErrorLevel,
  metricsUrl,
  startControllerProcess,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import { applyFleet, fleetObjects } from './support/fleet.js';
import {
  checkRecorded,
  expectInvariants,
  formatViolations,
  ownedDockerObjects,
  waitForConvergence,
  type InvariantInput,
} from './support/invariants.js';
import { scenarioClock } from './support/timing.js';

// SIGTERM while 100 reconciles are in flight: the process must finish (or
// abandon cleanly) what it is doing and exit within 30 s of the signal, the
// bound Kubernetes gives a pod (terminationGracePeriodSeconds) before it
// SIGKILLs it: a correctness bound, not a speed figure. What it leaves must be
// recorded: every Docker object it made belongs to an existing resource and
// is named in that resource's status, so the next controller adopts it (same
// ids afterwards) rather than creating another.

const NS = 'sigterm';
const GROUPS = 25; // 100 objects
/** Reconciles in flight at once when the signal is sent, across the volume, network and container controllers. */
const IN_FLIGHT = 100;
const PLACED_CONTROLLERS = new Set(['dockervolume', 'dockernetwork', 'dockercontainer']);
/** Kubernetes' default terminationGracePeriodSeconds. */
const EXIT_BOUND_MS = 30_000;

let env: FaultEnvironment;

beforeAll(async () => {
  env = await startFaultEnvironment([NS]);
}, FAULT_ENV_START_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

async function reconcilesInFlight(url: string): Promise<number> {
  return parseSamples(await scrape(url))
    .filter(
      (s) =>
        s.name === 'controller_runtime_active_workers' && PLACED_CONTROLLERS.has(s.labels.controller ?? ''),
    )
    .reduce((sum, s) => sum + s.value, 0);
}

describe('SIGTERM with 100 reconciles in flight', () => {
  it('exits within 30 s, leaves nothing half-done and unrecorded, and the next controller adopts it all', async () => {
    const clock = scenarioClock('sigterm-in-flight');
    const { cp, kube, nodes, lab } = env;
    const input: InvariantInput = { kube, nodes, namespaces: [NS] };
    // The whole manifest is there before the controller starts: its first list enqueues all 100 at once.
    await applyFleet(kube, NS, fleetObjects(GROUPS, lab.workloadImage));
    const proc = startControllerProcess(cp, {
      name: 'controller (SIGTERMed)',
      metrics: true,
      // Every worker may take the one or two lab hosts: 100 in flight needs lanes that wide.
      maxConcurrentReconciles: IN_FLIGHT,
      maxConcurrentReconcilesPerHost: IN_FLIGHT,
    });
    const url = await metricsUrl(proc);
    let peak = 0;
    const inFlight = await waitFor(
      async () => {
        const n = await reconcilesInFlight(url);
        peak = Math.max(peak, n);
        return n >= IN_FLIGHT ? n : undefined;
      },
      { timeoutMs: CONTROLLER_START_TIMEOUT_MS, intervalMs: 5, what: `${IN_FLIGHT} reconciles in flight` },
    ).catch((err: unknown) => {
      // The peak is known only now, not when the wait's description was written.
      throw new Error(`${err instanceof Error ? err.message : String(err)} (peak ${peak})`, { cause: err });
    });
    const signalledAt = proc.signal('SIGTERM');
    clock.lap(`SIGTERM with ${inFlight} reconciles in flight`);
    const exit = await proc.exited;
    const exitMs = exit.at - signalledAt;
    clock.lap(
      `exited (code ${String(exit.code)}, signal ${String(exit.signal)}) ${(exitMs / 1000).toFixed(1)} s after SIGTERM`,
    );
    expect(exit.code, proc.describe()).toBe(0);
    expect(exitMs, proc.describe()).toBeLessThan(EXIT_BOUND_MS);
    expect(
      proc.find((l) => l.msg === 'manager stopped'),
      proc.describe(),
    ).toBeDefined();
    expect(
      proc.lines.filter((l) => isErrorLevel(l.line)).map((l) => l.line),
      proc.describe(),
    ).toEqual([]);

    // At exit, before anything else runs: every labelled object is its owner's, and recorded.
    const atExit = await ownedDockerObjects(nodes, [NS]);
    expect(atExit.length, 'the stopped controller had created Docker objects').toBeGreaterThan(0);
    const unrecorded = await checkRecorded(input);
    expect(unrecorded, formatViolations(unrecorded)).toEqual([]);
    clock.lap(`${atExit.length} Docker objects at exit, all recorded`);

    const next = startControllerProcess(cp, { name: 'controller (next)' });
    await waitForConvergence(input, 300_000);
    clock.lap('the next controller converged');
    await expectInvariants(input);
    // Adopted, not replaced: whatever existed at exit is still there, same id.
    const after = new Set((await ownedDockerObjects(nodes, [NS])).map((o) => `${o.host} ${o.type} ${o.ref}`));
    const replaced = atExit.filter((o) => !after.has(`${o.host} ${o.type} ${o.ref}`));
    expect(replaced, 'objects present at SIGTERM exit that the next controller replaced').toEqual([]);
    expect(next.running, next.describe()).toBe(true);
    await next.kill();
    clock.done();
  });
});
