import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PROMOTE_ANNOTATION,
  ROLLBACK_ANNOTATION,
} from '../../src/controllers/dockerservice/rollout-inputs.js';
import type { Canary, DockerServiceSpec, UpdateStrategy } from '../../src/crds/dockerservice.js';
import { EventReason, Reason } from '../../src/crds/reasons.js';
import {
  atGeneration,
  completeWith,
  createComplete,
  deleteService,
  describeContainers,
  phaseIs,
  replicaTemplate,
  rollTo,
  rollToComplete,
  serviceContainers,
  serviceEvents,
  serving,
  statusOf,
  waitForService,
  waitForServing,
  type ServiceContainer,
} from '../support/dockerservice.js';
import { condition, type Kube } from '../support/kube.js';
import { startSampler, type Sample } from '../support/sampler.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerService's canary step and manual rollback, on two real Docker nodes:
// an Automatic canary holds the rest of the rollout until its replica has
// been Available for availableSeconds (measured from Docker's own view); a
// Manual canary waits in CanaryPaused (nothing else changes, a promote that
// names another revision does nothing) until dockyard.io/promote names the
// revision; and dockyard.io/rollback takes a Complete service back to the
// revision before it, reported as RolledBack (never as success), asked once
// per value so a re-applied annotation does not roll back again.

let world: World;
let kube: Kube;
const NS = 'svc';
const NODES = ['n1', 'n2'];
const SAMPLE_MS = 100;
const ROLLOUT_MS = 120_000;
/** How long "nothing changes" is watched for. */
const HOLD_MS = 5_000;

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: NODES.map((name) => ({ name })) },
    loadWorkloadImage: true,
    namespaces: [NS],
    hostLabels: { n1: { tier: 'edge' }, n2: { tier: 'edge' } },
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const STOP_FIRST: UpdateStrategy = { maxUnavailable: 1, maxSurge: 1, order: 'StopFirst', minReadySeconds: 1 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = (name: string) => ({ kube, lab: world.lab, namespace: NS, name });
const template = (app: string, version: string) => replicaTemplate({ image: world.image, app, version });
const servingAt = (cs: readonly ServiceContainer[], version: string) =>
  cs.filter((c) => serving(c) && c.version === version).length;

function serviceSpec(opts: { app: string; replicas: number; canary?: Canary }): DockerServiceSpec {
  return {
    hostSelector: { matchLabels: { tier: 'edge' } },
    replicas: opts.replicas,
    updateStrategy: { ...STOP_FIRST, ...(opts.canary ? { canary: opts.canary } : {}) },
    template: template(opts.app, 'a'),
  };
}

/** The first sample (oldest first) that passes `which`, or undefined. */
const firstWhere = (
  samples: ReadonlyArray<Sample<ServiceContainer[]>>,
  which: (cs: ServiceContainer[]) => boolean,
) => samples.find((s) => which(s.value));

describe('DockerService canary and manual rollback', () => {
  it('an Automatic canary holds the rest until its replica has been Available for availableSeconds', async () => {
    const name = 'auto-canary';
    const replicas = 4;
    const availableSeconds = 4;
    const canary = { replicas: 1, availableSeconds, promotion: 'Automatic' as const };
    await createComplete({ ...ctx(name), spec: serviceSpec({ app: name, replicas, canary }), replicas });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });

    const sampler = startSampler(() => serviceContainers(world.lab, name), SAMPLE_MS);
    try {
      const b = { template: template(name, 'b'), version: 'b' };
      await rollToComplete({ ...ctx(name), ...b, replicas, timeoutMs: ROLLOUT_MS });
    } finally {
      await sampler.stop();
    }
    const samples = sampler.samples;
    // The canary serving (Docker says healthy), and the first moment the rollout
    // went past it: a second replica of a taken down or a second of b started.
    const canaryServing = firstWhere(samples, (cs) => servingAt(cs, 'b') >= 1);
    const beyond = firstWhere(
      samples,
      (cs) =>
        cs.filter((c) => c.version === 'a').length <= replicas - 2 ||
        cs.filter((c) => c.version === 'b').length >= 2,
    );
    expect(canaryServing, 'the canary served').toBeDefined();
    expect(beyond, 'the rollout went on').toBeDefined();
    const heldMs = beyond!.at - canaryServing!.at;
    console.log(`[dockerservice] ${name}: canary serving at +0, rollout went on after ${heldMs} ms`);
    // The canary is proven once it has been Available (Ready for minReadySeconds)
    // for availableSeconds, both timed from the Ready the controller saw, which
    // is no earlier than Docker's first healthy report (less one sampling
    // period): at least availableSeconds (about minReadySeconds more here).
    expect(heldMs, describeContainers(beyond!.value)).toBeGreaterThanOrEqual(
      availableSeconds * 1000 - SAMPLE_MS,
    );
    // And it is not held forever: the bound is generous for a busy machine.
    expect(heldMs).toBeLessThan((availableSeconds + 15) * 1000);
    const maxB = (at: number) =>
      Math.max(
        ...samples.filter((s) => s.at < at).map((s) => s.value.filter((c) => c.version === 'b').length),
      );
    expect(maxB(beyond!.at), 'only the canary ran b before it was proven').toBe(1);
    await deleteService(ctx(name));
  });

  it('a Manual canary waits in CanaryPaused until dockyard.io/promote names its revision', async () => {
    const name = 'manual-canary';
    const replicas = 3;
    const canary = { replicas: 1, availableSeconds: 1, promotion: 'Manual' as const };
    await createComplete({ ...ctx(name), spec: serviceSpec({ app: name, replicas, canary }), replicas });
    const generation = await rollTo({ ...ctx(name), template: template(name, 'b') });
    const paused = await waitForService({
      ...ctx(name),
      until: atGeneration(generation, phaseIs('CanaryPaused')),
      what: 'CanaryPaused',
      timeoutMs: 60_000,
    });
    expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', reason: Reason.CanaryPaused });
    expect(condition(paused, 'Stalled')?.status).not.toBe('True');
    const target = statusOf(paused)?.updateRevision ?? '';
    const old = statusOf(paused)?.stableRevision ?? '';
    expect(target).not.toBe(old);

    // Held: one canary serving b, the others serving a, through a wrong promote.
    await kube.patch('DockerService', NS, name, { metadata: { annotations: { [PROMOTE_ANNOTATION]: old } } });
    await sleep(HOLD_MS);
    const held = await serviceContainers(world.lab, name);
    expect(servingAt(held, 'b'), describeContainers(held)).toBe(1);
    expect(servingAt(held, 'a'), describeContainers(held)).toBe(replicas - 1);
    expect(statusOf(await kube.get('DockerService', NS, name))?.phase).toBe('CanaryPaused');

    await kube.patch('DockerService', NS, name, {
      metadata: { annotations: { [PROMOTE_ANNOTATION]: target } },
    });
    await waitForService({
      ...ctx(name),
      until: completeWith(replicas),
      what: 'Complete once promoted',
      timeoutMs: ROLLOUT_MS,
    });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'b' });
    const events = await serviceEvents(kube, NS, name);
    expect(
      events.some((e) => e.startsWith(`${Reason.CanaryPaused}:`)),
      events.join('\n'),
    ).toBe(true);
    expect(
      events.some((e) => e.startsWith(`${EventReason.CanaryPromoted}:`)),
      events.join('\n'),
    ).toBe(true);
    await deleteService(ctx(name));
  });

  it('dockyard.io/rollback takes a Complete service back to the revision before, reported RolledBack, once per value', async () => {
    const name = 'undo';
    const replicas = 3;
    const created = await createComplete({
      ...ctx(name),
      spec: serviceSpec({ app: name, replicas }),
      replicas,
    });
    const first = statusOf(created)?.currentRevision;
    const b = { template: template(name, 'b'), version: 'b' };
    await rollToComplete({ ...ctx(name), ...b, replicas, timeoutMs: ROLLOUT_MS });

    await kube.patch('DockerService', NS, name, {
      metadata: { annotations: { [ROLLBACK_ANNOTATION]: '1' } },
    });
    const back = await waitForService({
      ...ctx(name),
      until: phaseIs('RolledBack'),
      what: 'RolledBack',
      timeoutMs: ROLLOUT_MS,
    });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });
    expect(statusOf(back)?.currentRevision).toBe(first);
    expect(statusOf(back)?.currentRevision).not.toBe(statusOf(back)?.updateRevision);
    expect(condition(back, 'Ready')).toMatchObject({ status: 'False', reason: Reason.RolledBack });
    expect(condition(back, 'RolledBack')?.status).toBe('True');
    const events = await serviceEvents(kube, NS, name);
    expect(
      events.some((e) => e.startsWith(`${EventReason.RollbackRequested}:`)),
      events.join('\n'),
    ).toBe(true);

    // A new template rolls out; the annotation still there (as Git re-applies it) does not roll back again.
    const c = { template: template(name, 'c'), version: 'c' };
    await rollToComplete({ ...ctx(name), ...c, replicas, timeoutMs: ROLLOUT_MS });
    await sleep(HOLD_MS);
    const still = await kube.get('DockerService', NS, name);
    expect(statusOf(still)?.phase).toBe('Complete');
    const now = await serviceContainers(world.lab, name);
    expect(servingAt(now, 'c'), describeContainers(now)).toBe(replicas);
    await deleteService(ctx(name));
  });
});
