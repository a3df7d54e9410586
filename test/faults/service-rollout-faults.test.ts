import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { templateHash } from '../../src/controllers/dockerservice/revisions.js';
import { HOST_DOWN_GRACE_MS } from '../../src/controllers/dockerservice/service-reconciler.js';
import { SERVICE_LABELS, SLOT_ANNOTATION } from '../../src/controllers/dockerservice/types.js';
import type { DockerContainer } from '../../src/crds/dockercontainer.js';
import type { ContainerTemplate, DockerService } from '../../src/crds/dockerservice.js';
import { Reason } from '../../src/crds/reasons.js';
import { waitFor } from '../../src/localenv/process.js';
import { serviceReplicas } from '../support/dockerservice.js';
import { startSampler } from '../support/sampler.js';
import { condition, type DockyardObject } from '../support/kube.js';
import type { TestProcess } from '../support/test-process.js';
import {
  CONTROLLER_START_TIMEOUT_MS,
  leaseAcquired,
  startControllerProcess,
  workersStarted,
} from './support/controller-process.js';
import {
  FAULT_ENV_START_TIMEOUT_MS,
  NODE_NAMES,
  startFaultEnvironment,
  type FaultEnvironment,
} from './support/environment.js';
import {
  expectInvariants,
  ownedDockerObjects,
  waitForConvergence,
  type InvariantInput,
} from './support/invariants.js';
import { scenarioPrng } from './support/prng.js';
import { scenarioClock } from './support/timing.js';

// One DockerService (6 replicas over both nodes, StopFirst, maxUnavailable 1,
// minReadySeconds 1, a healthcheck) rolls out a new revision per run while a
// fault hits it: the controller SIGKILLed and restarted, a leader handing
// over to its standby, a node paused and resumed, the spec edited again
// mid-rollout, and a bad revision whose rollback is interrupted by a SIGKILL.
// Every run must end (bounded wait) Complete at the spec's revision, or
// RolledBack with Ready=False for the bad one; a status sampled all along
// never reports a rollback or an old revision as success; the service owns
// exactly one replica per slot at the revision it reports; and the fault
// suite's invariant (one Docker object per replica and host, no orphans,
// status that says what Docker says) holds.

const NS = 'rollout-faults';
const SERVICE = 'web';
const REPLICAS = 6;
const LEASE = { namespace: NS, id: 'dockyard-rollout-faults' };
/** Every run ends within this (a 6-replica rollout takes about half a minute here). */
const END_TIMEOUT_MS = 240_000;
const CONVERGE_MS = 180_000;
/** Heartbeats every 2 s (registerLabHosts); NotReady after a few failed ones. */
const HOST_STATE_MS = 90_000;
const TEST_NODE = 'dockyard.io/test-node';
/** Exits at once on SIGTERM (busybox `sleep` as PID 1 ignores it): replacing a replica never waits a grace period. */
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 36000 & wait'];

let env: FaultEnvironment;
/** Controller processes running now. */
let controllers: TestProcess[] = [];
const input = (): InvariantInput => ({ kube: env.kube, nodes: env.nodes, namespaces: [NS] });

function template(revision: number, opts: { bad?: boolean } = {}): ContainerTemplate {
  return {
    spec: {
      image: env.lab.workloadImage,
      command: SLEEPER,
      env: [{ name: 'REVISION', value: String(revision) }],
      // The bad revision never turns healthy: the rollout must fail and go back.
      // A good one's timeout is generous: `true` answers at once, but on a
      // loaded 2-core machine Docker's exec of the check can take over a
      // second, and a 1 s timeout then fails a healthy revision 1 (Failed,
      // with nothing to roll back to).
      healthcheck: opts.bad
        ? { command: ['false'], interval: '1s', timeout: '1s', retries: 1 }
        : { command: ['true'], interval: '1s', timeout: '5s', retries: 3 },
    },
  };
}

const serviceSpec = (revision: number) => ({
  hostSelector: { matchExpressions: [{ key: TEST_NODE, operator: 'Exists' }] },
  mode: 'Replicated',
  replicas: REPLICAS,
  updateStrategy: { order: 'StopFirst', maxUnavailable: 1, maxSurge: 0, minReadySeconds: 1 },
  template: template(revision),
});

async function getService(): Promise<DockerService> {
  const svc = await env.kube.get('DockerService', NS, SERVICE);
  if (!svc) throw new Error(`DockerService ${NS}/${SERVICE} is gone`);
  return svc as unknown as DockerService;
}

/** Patches the template; returns the generation that asks for it. */
async function rollTo(t: ContainerTemplate): Promise<number> {
  await env.kube.patch('DockerService', NS, SERVICE, { spec: { template: t } });
  return (await getService()).metadata.generation ?? 0;
}

const readyOf = (svc: DockerService) => condition(svc as unknown as DockyardObject, 'Ready');
const short = (hash: string | undefined) => (hash ?? '-').slice(0, 8);
const describeStatus = (svc: DockerService) => {
  const s = svc.status;
  const ready = readyOf(svc);
  return (
    `gen ${String(svc.metadata.generation)}/${String(s?.observedGeneration)} ${String(s?.phase)} ` +
    `Ready=${String(ready?.status)}(${String(ready?.reason)}) current ${short(s?.currentRevision)} ` +
    `update ${short(s?.updateRevision)} updated ${String(s?.updatedReplicas)} available ` +
    `${String(s?.availableReplicas)}: ${String(s?.rollout?.message)}`
  );
};

/** What a status claims that cannot be true (empty: nothing). Pure. */
function statusLies(svc: DockerService): string[] {
  const s = svc.status;
  if (!s) return [];
  const lies: string[] = [];
  const readyTrue = readyOf(svc)?.status === 'True';
  if (readyTrue && s.phase !== 'Complete') lies.push(`Ready=True in phase ${String(s.phase)}`);
  if (readyTrue && s.currentRevision !== s.updateRevision)
    lies.push('Ready=True while running another revision than the spec asks for');
  if ((s.phase === 'RolledBack' || s.phase === 'RollingBack') && s.currentRevision === s.updateRevision)
    lies.push(`${s.phase} but running the revision the spec asks for`);
  const current = s.observedGeneration === svc.metadata.generation;
  if (current && s.updateRevision !== templateHash(svc.spec.template))
    lies.push(`updateRevision ${short(s.updateRevision)} is not the spec's template`);
  return lies;
}

/**
 * Reads the service every 250 ms while a run goes on (test/support/sampler.ts);
 * at stop, every lie seen (with the status that told it) and the phase
 * timeline, for the failure message and the log.
 */
class StatusMonitor {
  private readonly sampler = startSampler(
    async () => (await env.kube.get('DockerService', NS, SERVICE)) as DockerService | undefined,
    250,
  );
  lies: string[] = [];
  timeline: string[] = [];

  async stop(): Promise<this> {
    const samples = await this.sampler.stop();
    const started = samples[0]?.at ?? 0;
    let last = '';
    for (const { at, value: svc } of samples) {
      if (!svc?.status) continue;
      for (const lie of statusLies(svc)) this.lies.push(`${lie} — ${describeStatus(svc)}`);
      const s = svc.status;
      const now = `${String(s.phase)} Ready=${String(readyOf(svc)?.status)} ${short(s.currentRevision)}→${short(s.updateRevision)}`;
      if (now !== last) this.timeline.push(`${((at - started) / 1000).toFixed(1)}s ${now}`);
      last = now;
    }
    return this;
  }
}

/** Bounded: the service settles at `generation` in Complete (Ready=True) or RolledBack. Never stuck. */
async function waitForEnd(generation: number): Promise<DockerService> {
  let last: DockerService | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getService();
        const s = last.status;
        if (s?.observedGeneration === undefined || s.observedGeneration < generation) return undefined;
        const settled =
          (s.phase === 'Complete' && readyOf(last)?.status === 'True') || s.phase === 'RolledBack';
        return settled ? last : undefined;
      },
      { timeoutMs: END_TIMEOUT_MS, intervalMs: 500, what: `${SERVICE} to end its rollout` },
    );
  } catch (err) {
    throw new Error(`stuck: ${last ? describeStatus(last) : 'no status'}\n${controllerLogs()}`, {
      cause: err,
    });
  }
}

/** Bounded: the rollout at `generation` is under way with at least `updated` replicas at its target. */
async function waitForProgress(generation: number, updated: number): Promise<DockerService> {
  return waitFor(
    async () => {
      const svc = await getService();
      const s = svc.status;
      const moving =
        s?.observedGeneration === generation &&
        (s.phase === 'Progressing' || s.phase === 'Complete') &&
        (s.updatedReplicas ?? 0) >= updated;
      return moving ? svc : undefined;
    },
    { timeoutMs: END_TIMEOUT_MS, intervalMs: 200, what: `${SERVICE} to update ${updated} replica(s)` },
  );
}

/** The DockerContainers the service controls, from the API server. */
async function replicasOf(svc: DockerService): Promise<DockerContainer[]> {
  const replicas = await serviceReplicas(env.kube, NS, SERVICE);
  return replicas.filter((c) =>
    c.metadata.ownerReferences?.some((o) => o.controller === true && o.uid === svc.metadata.uid),
  );
}

/**
 * The end of a run, all of it: the phase it should have, an honest status,
 * one replica per slot at the revision the status names, the fault suite's
 * invariant, and no lie seen on the way.
 */
async function expectHonestEnd(
  monitor: StatusMonitor,
  generation: number,
  want: 'Complete' | 'RolledBack',
): Promise<DockerService> {
  const svc = await waitForEnd(generation);
  await monitor.stop();
  console.log(`[faults] service-rollout: ${monitor.timeline.join(' | ')}`);
  const s = svc.status!;
  const what = describeStatus(svc);
  expect(s.phase, what).toBe(want);
  if (s.phase === 'Complete') {
    expect(s.currentRevision, what).toBe(s.updateRevision);
    expect(s.updateRevision, what).toBe(templateHash(svc.spec.template));
    expect(readyOf(svc)?.status, what).toBe('True');
    expect(s.updatedReplicas, what).toBe(REPLICAS);
  } else {
    expect(readyOf(svc)?.status, what).toBe('False');
    expect(readyOf(svc)?.reason, what).toBe(Reason.RolledBack);
    expect(s.currentRevision, what).not.toBe(s.updateRevision);
    expect(s.rollout?.abandonedHash, what).toBe(s.updateRevision);
  }
  expect(monitor.lies, 'statuses that reported a rollback or an old revision as success').toEqual([]);
  await waitForConvergence(input(), CONVERGE_MS);
  await expectInvariants(input());
  const replicas = await replicasOf(await getService());
  const slotOf = (c: DockerContainer) => c.metadata.annotations?.[SLOT_ANNOTATION] ?? '?';
  const summary = replicas.map(
    (c) => `${c.metadata.name} slot ${slotOf(c)} ${short(c.metadata.labels?.[SERVICE_LABELS.revision])}`,
  );
  expect(replicas, summary.join('\n')).toHaveLength(REPLICAS);
  expect(new Set(replicas.map(slotOf)).size, `one replica per slot:\n${summary.join('\n')}`).toBe(REPLICAS);
  for (const c of replicas)
    expect(c.metadata.labels?.[SERVICE_LABELS.revision], c.metadata.name).toBe(s.currentRevision);
  return svc;
}

async function startController(name: string, leaderElection = false): Promise<TestProcess> {
  const proc = startControllerProcess(env.cp, { name, ...(leaderElection ? { leaderElection: LEASE } : {}) });
  controllers.push(proc);
  if (!leaderElection) await proc.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
  return proc;
}

async function killControllers(): Promise<void> {
  await Promise.all(controllers.map((p) => p.kill()));
  controllers = [];
}

function controllerLogs(): string {
  return controllers.map((p) => p.describe()).join('\n');
}

beforeAll(async () => {
  env = await startFaultEnvironment([NS]);
}, FAULT_ENV_START_TIMEOUT_MS);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(controllerLogs());
});

afterAll(async () => {
  // A failed run may leave the node paused; bring it back so it can be removed.
  await env?.lab
    .node('n2')
    .unpause()
    .catch(() => {});
  await killControllers();
  await env?.stop();
});

describe('DockerService rollouts under faults', () => {
  let revision = 1;

  it('revision 1 rolls out to Complete (the starting point)', async () => {
    const clock = scenarioClock('service-rollout: start');
    await startController('controller #0');
    // Both hosts Ready first: a slot goes only to a Ready host and stays there,
    // and the paused-node scenario needs replicas on n2.
    for (const node of NODE_NAMES)
      await env.kube.waitFor(
        'DockerHost',
        undefined,
        node,
        (h) => condition(h, 'Ready')?.status === 'True',
        'Ready',
        HOST_STATE_MS,
      );
    await env.kube.create('DockerService', NS, SERVICE, serviceSpec(revision));
    const monitor = new StatusMonitor();
    const svc = await expectHonestEnd(monitor, 1, 'Complete');
    const perHost = Object.fromEntries((svc.status?.rollout?.hosts ?? []).map((h) => [h.name, h.replicas]));
    expect(perHost, 'spread evenly over the two nodes').toEqual({ n1: REPLICAS / 2, n2: REPLICAS / 2 });
    clock.done();
  });

  it('controller SIGKILLed twice mid-rollout and restarted: ends Complete', async () => {
    const rng = scenarioPrng('service-rollout-sigkill');
    const clock = scenarioClock('service-rollout: SIGKILL');
    const monitor = new StatusMonitor();
    const generation = await rollTo(template(++revision));
    const phases: string[] = [];
    for (let k = 1; k <= 2; k++) {
      await waitForProgress(generation, k);
      await new Promise((r) => setTimeout(r, rng.int(0, 1_500)));
      const at = await getService();
      phases.push(`${String(at.status?.phase)} ${String(at.status?.updatedReplicas)}/${REPLICAS}`);
      if (k === 1) expect(at.status?.phase, 'the first kill lands mid-rollout').toBe('Progressing');
      await killControllers();
      await startController(`controller #${k}`);
    }
    clock.lap(`2 SIGKILLs, at ${phases.join(', ')}`);
    await expectHonestEnd(monitor, generation, 'Complete');
    clock.done();
  });

  it('leader hands over to its standby mid-rollout: ends Complete', async () => {
    const clock = scenarioClock('service-rollout: leader change');
    await killControllers();
    const pair = [await startController('replica-a', true), await startController('replica-b', true)];
    const leader = await Promise.any(
      pair.map(async (p) => {
        await p.waitForLog(leaseAcquired, CONTROLLER_START_TIMEOUT_MS, 'acquire the lease');
        return p;
      }),
    );
    const standby = pair.find((p) => p !== leader)!;
    await leader.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    const monitor = new StatusMonitor();
    const generation = await rollTo(template(++revision));
    const at = await waitForProgress(generation, 2);
    expect(at.status?.phase, 'the handover lands mid-rollout').toBe('Progressing');
    // Graceful: the leader stops its workers and releases the lease; the standby takes it at once.
    leader.signal('SIGTERM');
    await leader.exited;
    await standby.waitForLog(leaseAcquired, CONTROLLER_START_TIMEOUT_MS, 'take over the lease');
    await standby.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    clock.lap(`${standby.name} took over at ${describeStatus(at)}`);
    await expectHonestEnd(monitor, generation, 'Complete');
    await killControllers();
    await startController('controller #3');
    clock.done();
  });

  it('a node paused mid-rollout, then resumed: the rollout is not held by it and ends Complete', async () => {
    const clock = scenarioClock('service-rollout: node paused');
    const node = env.lab.node('n2');
    const hostReady = (want: boolean, what: string) =>
      env.kube.waitFor(
        'DockerHost',
        undefined,
        'n2',
        (h) => (condition(h, 'Ready')?.status === 'True') === want,
        what,
        HOST_STATE_MS,
      );
    const monitor = new StatusMonitor();
    const generation = await rollTo(template(++revision));
    await waitForProgress(generation, 1);
    await node.pause();
    try {
      await hostReady(false, 'NotReady while paused');
      // A replica on the unreachable host is not Available, whatever it was before.
      const down = await waitFor(
        async () => {
          const svc = await getService();
          const n2 = svc.status?.rollout?.hosts?.find((h) => h.name === 'n2');
          return n2 && !n2.ready ? { svc, n2 } : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the service to see n2 down' },
      );
      const seen = `${describeStatus(down.svc)}\nhosts ${JSON.stringify(down.svc.status?.rollout?.hosts)}\n${(
        await replicasOf(down.svc)
      )
        .map((c) => `${c.metadata.name} ${c.spec.hostName} ${c.metadata.deletionTimestamp ? 'deleting' : ''}`)
        .join('\n')}`;
      expect(down.n2.replicas, seen).toBeGreaterThan(0);
      expect(down.n2.available, 'replicas on an unreachable host counted Available').toBe(0);
      expect(down.svc.status?.availableReplicas ?? 0).toBeLessThanOrEqual(REPLICAS - down.n2.replicas);
      const before = (await getService()).status?.rollout?.available ?? 0;
      clock.lap(`n2 paused and NotReady with ${before} replica(s) Available at the target`);
      // Its replicas count against maxUnavailable; after the grace period their slots move on.
      const moved = await waitFor(
        async () => {
          const s = (await getService()).status;
          return (s?.rollout?.available ?? 0) > before || s?.phase === 'Complete' ? s : undefined;
        },
        { timeoutMs: HOST_DOWN_GRACE_MS + 60_000, intervalMs: 500, what: 'progress while n2 is down' },
      ).catch((err: unknown) => err as Error);
      expect
        .soft(moved instanceof Error ? moved.message : 'progressed', describeStatus(await getService()))
        .toBe('progressed');
      clock.lap('progress while n2 was down');
    } finally {
      await node.unpause();
    }
    await hostReady(true, 'Ready after unpause');
    await expectHonestEnd(monitor, generation, 'Complete');
    clock.done();
  });

  it('the spec edited again mid-rollout (a third revision): ends Complete at the newest', async () => {
    const clock = scenarioClock('service-rollout: edited again');
    const monitor = new StatusMonitor();
    const middle = await rollTo(template(++revision));
    const at = await waitForProgress(middle, 2);
    expect(at.status?.phase, 'the edit lands mid-rollout').toBe('Progressing');
    const newest = await rollTo(template(++revision));
    const end = await expectHonestEnd(monitor, newest, 'Complete');
    expect(end.status?.currentRevision, 'the newest revision, not the one it edited away').not.toBe(
      at.status?.updateRevision,
    );
    clock.done();
  });

  it('a bad revision, the controller SIGKILLed while it rolls back: ends RolledBack to the last good one', async () => {
    const clock = scenarioClock('service-rollout: bad revision');
    const good = (await getService()).status?.currentRevision;
    const monitor = new StatusMonitor();
    const generation = await rollTo(template(++revision, { bad: true }));
    const failing = await env.kube.waitFor(
      'DockerService',
      NS,
      SERVICE,
      (o) => ['RollingBack', 'RolledBack'].includes(String(o.status?.phase)),
      'to start rolling back',
      END_TIMEOUT_MS,
    );
    await killControllers();
    clock.lap(`SIGKILL in phase ${String(failing.status?.phase)}`);
    await startController('controller #4');
    const end = await expectHonestEnd(monitor, generation, 'RolledBack');
    expect(end.status?.currentRevision, 'back to the last revision that was fully Available').toBe(good);
    expect(end.status?.stableRevision).toBe(good);
    clock.done();
  });

  it('the service deleted: its replicas, their containers and revisions go, nothing is orphaned', async () => {
    const clock = scenarioClock('service-rollout: delete');
    await env.kube.delete('DockerService', NS, SERVICE);
    await waitFor(
      async () => {
        const left = await ownedDockerObjects(env.nodes, [NS]);
        const objects = await env.kube.list('DockerContainer', NS);
        return left.length === 0 && objects.length === 0;
      },
      { timeoutMs: CONVERGE_MS, intervalMs: 1_000, what: 'the replicas and their containers to be gone' },
    );
    await expectInvariants(input());
    const revisions = (await env.kube.api.listNamespacedCustomObject({
      group: 'apps',
      version: 'v1',
      plural: 'controllerrevisions',
      namespace: NS,
    })) as { items: unknown[] };
    expect(revisions.items, 'ControllerRevisions garbage collected').toEqual([]);
    clock.done();
  });
});
