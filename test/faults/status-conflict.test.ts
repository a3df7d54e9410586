import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROLLER_START_TIMEOUT_MS,
  isErrorLevel,
  startControllerProcess,
  workersStarted,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  NODE_NAMES,
  registerHosts,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import { applyFleet, fleetObjects } from './support/fleet.js';
import { expectInvariants, waitForConvergence, type InvariantInput } from './support/invariants.js';
import {
  objectKey,
  startStatusConflictWebhook,
  type StatusConflictWebhook,
} from './support/status-webhook.js';
import { scenarioClock } from './support/timing.js';

// Every status write rejected once with 409, by a real validating admission
// webhook in the real API server (see support/status-webhook.ts), as a stale
// resourceVersion or a racing writer would. The controllers must retry and
// converge anyway, log no error (a Conflict is routine), not crash, and the
// invariant must hold. The webhook's own counts prove the rejections happened.

const NS = 'conflict';
const GROUPS = 8; // 32 objects

let env: FaultEnvironment;
let webhook: StatusConflictWebhook;

beforeAll(async () => {
  env = await startFaultEnvironment([NS], { registerHosts: false });
  // Before the DockerHosts exist, so their first status writes are rejected too.
  webhook = await startStatusConflictWebhook(env.cp);
  await registerHosts(env);
}, FAULT_ENV_START_TIMEOUT_MS);

afterAll(async () => {
  await webhook?.stop();
  await env?.stop();
});

describe('every status write rejected once with 409', () => {
  it('converges anyway, without error logs or a crash, and the invariant holds', async () => {
    const clock = scenarioClock('status-conflict');
    const { cp, kube, nodes, lab } = env;
    const input: InvariantInput = { kube, nodes, namespaces: [NS] };
    const objects = fleetObjects(GROUPS, lab.workloadImage);
    const proc = startControllerProcess(cp, { name: 'controller' });
    await proc.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    await applyFleet(kube, NS, objects);
    await waitForConvergence(input, 300_000);
    await expectInvariants(input);
    clock.lap(`converged: ${objects.length} objects`);

    // The faults really were injected: each object's first status write was refused, and a later one let through.
    const keys = [
      ...objects.map((o) => objectKey(o.kind, NS, o.name)),
      ...NODE_NAMES.map((n) => objectKey('DockerHost', undefined, n)),
    ];
    for (const key of keys) {
      expect(webhook.rejected.get(key), `${key}: rejected status writes`).toBe(1);
      expect(webhook.allowed.get(key) ?? 0, `${key}: allowed status writes`).toBeGreaterThanOrEqual(1);
    }
    const rejected = [...webhook.rejected.values()].reduce((a, b) => a + b, 0);
    clock.lap(`${rejected} status writes rejected with 409`);

    expect(proc.running, proc.describe()).toBe(true);
    expect(
      proc.lines.filter((l) => isErrorLevel(l.line)).map((l) => l.line),
      'error-level log lines',
    ).toEqual([]);
    await proc.kill();
    clock.done();
  });
});
