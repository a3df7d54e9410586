import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerServiceSpec, UpdateStrategy } from '../../src/crds/dockerservice.js';
import { Reason } from '../../src/crds/reasons.js';
import {
  atGeneration,
  completeWith,
  countByNode,
  createComplete,
  deleteService,
  describeContainers,
  NEVER_HEALTHY,
  phaseIs,
  refusal,
  replicaTemplate,
  rollTo,
  rollToComplete,
  serviceContainers,
  serviceReplicas,
  serving,
  statusOf,
  waitForService,
  waitForServing,
  type ServiceContainer,
} from '../support/dockerservice.js';
import { condition, type DockyardObject, type Kube } from '../support/kube.js';
import { startSampler } from '../support/sampler.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerService beyond the plain rolling update, on three real Docker nodes:
// failureAction Pause (a failed rollout stops where it is, the old replicas
// keep serving, a fixed template goes on), Global mode (a host that starts
// matching gets a replica; one that stops matching keeps it), pausing a
// rollout mid-way (nothing changes until it is resumed), StartFirst (the new
// replica is Available before the old one goes: never fewer than desired),
// and the API server refusing StartFirst where one host cannot hold two
// replicas.

let world: World;
let kube: Kube;
const NS = 'svc';
const NODES = ['n1', 'n2', 'n3'];
const SAMPLE_MS = 100;
const ROLLOUT_MS = 120_000;
/** How long "nothing changes" is watched for. */
const HOLD_MS = 5_000;
/** Lets what was in flight when a rollout stopped (a replica being removed or started) land. */
const SETTLE_MS = 3_000;
const SYNC_MS = 3_000;

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: NODES.map((name) => ({ name })) },
    loadWorkloadImage: true,
    namespaces: [NS],
    // n3 is the host the Global service's selector (tier edge, global yes) does not match yet.
    hostLabels: {
      n1: { site: 'a', tier: 'edge', global: 'yes' },
      n2: { site: 'b', tier: 'edge', global: 'yes' },
      n3: { site: 'c', tier: 'edge' },
    },
    dockyard: { syncPeriodMs: SYNC_MS },
  });
  ({ kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const edge = { matchLabels: { tier: 'edge' } };
const STOP_FIRST: UpdateStrategy = { maxUnavailable: 1, maxSurge: 1, order: 'StopFirst', minReadySeconds: 1 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = (name: string) => ({ kube, lab: world.lab, namespace: NS, name });
const template = (app: string, version: string, more: { healthcheck?: typeof NEVER_HEALTHY } = {}) =>
  replicaTemplate({ image: world.image, app, version, ...more });
const servingCount = (cs: readonly ServiceContainer[]) => cs.filter(serving).length;

function serviceSpec(opts: { app: string; replicas: number; strategy?: UpdateStrategy }): DockerServiceSpec {
  return {
    hostSelector: edge,
    replicas: opts.replicas,
    updateStrategy: opts.strategy ?? STOP_FIRST,
    template: template(opts.app, 'a'),
  };
}

/** The names of the service's DockerContainers that are not being deleted, sorted. */
async function replicaObjects(name: string): Promise<string[]> {
  const replicas = await serviceReplicas(kube, NS, name);
  return replicas
    .filter((c) => !c.metadata.deletionTimestamp)
    .map((c) => c.metadata.name)
    .sort();
}

const dockerIds = async (name: string) => (await serviceContainers(world.lab, name)).map((c) => c.id).sort();

describe('DockerService modes', () => {
  it('refuses StartFirst when the template pins a hostPort or a containerName, naming updateStrategy.order', async () => {
    const startFirst: UpdateStrategy = { order: 'StartFirst', maxSurge: 1, maxUnavailable: 0 };
    const withPort = template('refused', 'a');
    withPort.spec.ports = [{ containerPort: 8080, hostPort: 18080 }];
    // Global, so the hostPort itself is allowed (one replica a host): only the order is wrong.
    const port = await refusal(
      kube.create('DockerService', NS, 'start-first-port', {
        hostSelector: edge,
        mode: 'Global',
        updateStrategy: startFirst,
        template: withPort,
      }),
    );
    expect(port.code).toBe(422);
    expect(port.message).toContain('updateStrategy.order');
    expect(port.message).toContain('hostPort');

    const named = template('refused', 'a');
    named.spec.containerName = 'pinned';
    const name = await refusal(
      kube.create('DockerService', NS, 'start-first-name', {
        hostSelector: edge,
        mode: 'Global',
        updateStrategy: startFirst,
        template: named,
      }),
    );
    expect(name.code).toBe(422);
    expect(name.message).toContain('updateStrategy.order');
    expect(await kube.get('DockerService', NS, 'start-first-port')).toBeUndefined();
    expect(await kube.get('DockerService', NS, 'start-first-name')).toBeUndefined();
  });

  it('failureAction Pause stops a failing rollout where it is, old replicas serving, until a fixed template completes', async () => {
    const name = 'hold';
    const replicas = 4;
    const strategy: UpdateStrategy = { ...STOP_FIRST, failureAction: 'Pause' };
    await createComplete({ ...ctx(name), spec: serviceSpec({ app: name, replicas, strategy }), replicas });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });

    const sampler = startSampler(() => serviceContainers(world.lab, name), SAMPLE_MS);
    let failed: DockyardObject;
    try {
      const generation = await rollTo({
        ...ctx(name),
        template: template(name, 'bad', { healthcheck: NEVER_HEALTHY }),
      });
      failed = await waitForService({
        ...ctx(name),
        until: atGeneration(generation, phaseIs('Failed')),
        what: 'Failed',
        timeoutMs: 60_000,
      });
      // Stopped where it is: still Failed a while later, no further replica replaced.
      await sleep(HOLD_MS);
    } finally {
      await sampler.stop();
    }
    const samples = sampler.samples;
    const minServing = Math.min(...samples.map((s) => servingCount(s.value)));
    const maxBad = Math.max(...samples.map((s) => s.value.filter((c) => c.version === 'bad').length));
    console.log(
      `[dockerservice] ${name}: ${samples.length} samples, min serving ${minServing}, max bad ${maxBad}`,
    );
    expect(condition(failed, 'Stalled')).toMatchObject({ status: 'True', reason: Reason.RolloutFailed });
    expect(condition(failed, 'Ready')?.status).toBe('False');
    expect(condition(failed, 'RolledBack')).toBeUndefined();
    expect(minServing).toBeGreaterThanOrEqual(replicas - 1);
    expect(maxBad).toBe(1);
    const held = await kube.get('DockerService', NS, name);
    expect(statusOf(held)?.phase).toBe('Failed');
    const now = await serviceContainers(world.lab, name);
    expect(servingCount(now.filter((c) => c.version === 'a')), describeContainers(now)).toBe(replicas - 1);

    // A fixed template: the rollout goes on from where it stopped, to the end.
    const c = { template: template(name, 'c'), version: 'c' };
    await rollToComplete({ ...ctx(name), ...c, replicas, timeoutMs: ROLLOUT_MS });
    await deleteService(ctx(name));
  });

  it('Global: one replica per matching host; a host that starts matching gets one, one that stops keeps it until drained', async () => {
    const name = 'per-host';
    const spec: DockerServiceSpec = {
      hostSelector: { matchLabels: { tier: 'edge', global: 'yes' } },
      mode: 'Global',
      updateStrategy: STOP_FIRST,
      template: template(name, 'a'),
    };
    await createComplete({ ...ctx(name), spec, replicas: 2 });
    const two = await waitForServing({ lab: world.lab, app: name, replicas: 2, version: 'a' });
    expect(countByNode(two)).toEqual({ n1: 1, n2: 1 });

    await kube.patch('DockerHost', undefined, 'n3', { metadata: { labels: { global: 'yes' } } });
    await waitForService({
      ...ctx(name),
      until: completeWith(3),
      what: 'Complete with n3',
      timeoutMs: 60_000,
    });
    const three = await waitForServing({ lab: world.lab, app: name, replicas: 3, version: 'a' });
    expect(countByNode(three)).toEqual({ n1: 1, n2: 1, n3: 1 });
    const onN3 = three.find((c) => c.node === 'n3')?.id;

    // Host label changes never evict: n3 keeps its replica (until drained), over several syncs.
    await kube.patch('DockerHost', undefined, 'n3', { metadata: { labels: { global: null } } });
    await sleep(3 * SYNC_MS);
    const after = await serviceContainers(world.lab, name);
    expect(
      after.find((c) => c.node === 'n3'),
      describeContainers(after),
    ).toMatchObject({
      id: onN3,
      state: 'running',
    });
    expect(servingCount(after)).toBe(3);
    const svc = await kube.get('DockerService', NS, name);
    expect(['Complete'], `service: ${JSON.stringify(statusOf(svc)?.conditions)}`).toContain(
      statusOf(svc)?.phase,
    );

    // Drained, n3 gives its replica up; the service is Complete with the two hosts it selects.
    await kube.patch('DockerHost', undefined, 'n3', { spec: { drain: true } });
    try {
      await waitForService({
        ...ctx(name),
        until: completeWith(2),
        what: 'Complete without n3',
        timeoutMs: 60_000,
      });
      const drained = await waitForServing({ lab: world.lab, app: name, replicas: 2, version: 'a' });
      expect(countByNode(drained)).toEqual({ n1: 1, n2: 1 });
    } finally {
      await kube.patch('DockerHost', undefined, 'n3', { spec: { drain: null } });
    }
    await deleteService(ctx(name));
  });

  it('spec.paused holds a rollout mid-way (Paused, Ready=False RolloutPaused) and it completes once resumed', async () => {
    const name = 'paused';
    const replicas = 6;
    await createComplete({ ...ctx(name), spec: serviceSpec({ app: name, replicas }), replicas });
    const generation = await rollTo({ ...ctx(name), template: template(name, 'b') });
    await waitForService({
      ...ctx(name),
      until: atGeneration(generation, (o) => (statusOf(o)?.updatedReplicas ?? 0) >= 2),
      what: 'mid-rollout (2 updated)',
      timeoutMs: 60_000,
    });
    await kube.patch('DockerService', NS, name, { spec: { paused: true } });
    const paused = await waitForService({ ...ctx(name), until: phaseIs('Paused'), what: 'Paused' });
    expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', reason: Reason.RolloutPaused });
    expect(condition(paused, 'Stalled')?.status).not.toBe('True');

    await sleep(SETTLE_MS);
    const objects = await replicaObjects(name);
    const ids = await dockerIds(name);
    const updated = statusOf(await kube.get('DockerService', NS, name))?.updatedReplicas ?? 0;
    await sleep(HOLD_MS);
    expect(await replicaObjects(name)).toEqual(objects);
    expect(await dockerIds(name)).toEqual(ids);
    const still = await kube.get('DockerService', NS, name);
    expect(statusOf(still)?.phase).toBe('Paused');
    expect(statusOf(still)?.updatedReplicas).toBe(updated);
    console.log(
      `[dockerservice] ${name}: paused with ${updated}/${replicas} updated, unchanged for ${HOLD_MS} ms`,
    );
    expect(updated).toBeGreaterThanOrEqual(2);
    expect(updated).toBeLessThan(replicas);

    await kube.patch('DockerService', NS, name, { spec: { paused: false } });
    const resumed = (await kube.get('DockerService', NS, name))?.metadata.generation ?? 0;
    await waitForService({
      ...ctx(name),
      until: atGeneration(resumed, completeWith(replicas)),
      what: 'Complete at b once resumed',
      timeoutMs: ROLLOUT_MS,
    });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'b' });
    await deleteService(ctx(name));
  });

  it('StartFirst with maxUnavailable 0 rolls 3 replicas with never fewer than 3 serving', async () => {
    const name = 'surge';
    const replicas = 3;
    const strategy: UpdateStrategy = {
      order: 'StartFirst',
      maxSurge: 1,
      maxUnavailable: 0,
      minReadySeconds: 1,
    };
    await createComplete({ ...ctx(name), spec: serviceSpec({ app: name, replicas, strategy }), replicas });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });

    const sampler = startSampler(() => serviceContainers(world.lab, name), SAMPLE_MS);
    try {
      const b = { template: template(name, 'b'), version: 'b' };
      await rollToComplete({ ...ctx(name), ...b, replicas, timeoutMs: ROLLOUT_MS });
    } finally {
      await sampler.stop();
    }
    const samples = sampler.samples;
    const minServing = Math.min(...samples.map((s) => servingCount(s.value)));
    const maxContainers = Math.max(...samples.map((s) => s.value.length));
    console.log(
      `[dockerservice] ${name}: ${samples.length} samples, min serving ${minServing}, max containers ${maxContainers}`,
    );
    const worst = samples.find((s) => servingCount(s.value) === minServing);
    expect(minServing, describeContainers(worst?.value ?? [])).toBeGreaterThanOrEqual(replicas);
    expect(maxContainers).toBeLessThanOrEqual(replicas + 1);
    await deleteService(ctx(name));
  });
});
