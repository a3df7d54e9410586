import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerServiceSpec } from '../../src/crds/dockerservice.js';
import { Reason } from '../../src/crds/reasons.js';
import { run } from '../../src/localenv/exec.js';
import {
  countByNode,
  createComplete,
  deleteService,
  describeContainers,
  EXITS,
  NEVER_HEALTHY,
  phaseIs,
  replicaTemplate,
  rollTo,
  rollToComplete,
  serviceContainers,
  serving,
  statusOf,
  waitForServing,
  waitForService,
  type ServiceContainer,
} from '../support/dockerservice.js';
import { condition, type DockyardObject, type Kube } from '../support/kube.js';
import { startSampler, type Sample } from '../support/sampler.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerService rollouts on three real Docker nodes (sites a, b, c), issue
// #15's "Verify": availability sampled from Docker itself every 100 ms while a
// 6-replica service rolls out (100 in `npm run bench`) (never below desired − maxUnavailable, never
// more than desired + maxSurge containers), and bad revisions, one whose
// healthcheck fails and one whose container exits, rolled back by themselves
// to the last fully Available revision, with at most one bad replica at a
// time and the rollback starting within seconds of the failure.

let world: World;
let kube: Kube;
const NS = 'svc';
const NODES = ['n1', 'n2', 'n3'];
const SAMPLE_MS = 100;
/** A 6-replica rollout, one replica at a time, takes about half a minute alone; five times that is generous. */
const ROLLOUT_MS = 150_000;
/** How long a rolled-back service is watched to stay RolledBack (not retrying the bad revision). */
const HOLD_MS = 3_000;
/**
 * The bound on "rollback starts within the failure detection window + 2 s",
 * measured from the first sample that showed a bad replica failed (the
 * detection window is behind us then): the 2 s, plus the sampling
 * period and 3 s for a busy 2-core machine (two integration files run side
 * by side; on the machine type of 2026-12-06, where Docker execs cost about
 * four times what they did, one CI run measured 4.1 s). Alone it is 0.1–0.2 s.
 */
const ROLLBACK_START_BOUND_MS = 2_000 + SAMPLE_MS + 3_000;

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: NODES.map((name) => ({ name })) },
    loadWorkloadImage: true,
    namespaces: [NS],
    hostLabels: {
      n1: { site: 'a', tier: 'edge' },
      n2: { site: 'b', tier: 'edge' },
      n3: { site: 'c', tier: 'edge' },
    },
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ kube } = world);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

const edge = { matchLabels: { tier: 'edge' } };

function serviceSpec(opts: {
  app: string;
  replicas: number;
  more?: Partial<DockerServiceSpec>;
}): DockerServiceSpec {
  return {
    hostSelector: edge,
    replicas: opts.replicas,
    updateStrategy: { maxUnavailable: 1, maxSurge: 1, order: 'StopFirst', minReadySeconds: 1 },
    template: replicaTemplate({ image: world.image, app: opts.app, version: 'a' }),
    ...opts.more,
  };
}

const ctx = (name: string) => ({ kube, lab: world.lab, namespace: NS, name });
const servingCount = (cs: readonly ServiceContainer[]) => cs.filter(serving).length;
/** Exited, restarting or unhealthy: what Docker shows of a replica that failed. */
const failedContainer = (c: ServiceContainer) =>
  ['exited', 'restarting', 'dead'].includes(c.state) || c.health === 'unhealthy';

interface Reading {
  containers: ServiceContainer[];
  service: DockyardObject | undefined;
}

/** Docker on every node and the service's status, read side by side. */
const readBoth = (name: string) => async (): Promise<Reading> => {
  const [containers, service] = await Promise.all([
    serviceContainers(world.lab, name),
    kube.get('DockerService', NS, name),
  ]);
  return { containers, service };
};

const firstAt = <T>(samples: ReadonlyArray<Sample<T>>, pred: (v: T) => boolean) =>
  samples.find((s) => pred(s.value))?.at;

const lastAt = <T>(samples: ReadonlyArray<Sample<T>>, pred: (v: T) => boolean) =>
  samples.findLast((s) => pred(s.value))?.at;

/** The figures of a bad rollout, from the samples taken from the patch on. */
function badRolloutFigures(opts: {
  samples: ReadonlyArray<Sample<Reading>>;
  patchedAt: number;
  bad: string;
  stable: string;
  /** Docker ids of the stable revision's containers before the patch. */
  baseline: ReadonlySet<string>;
}) {
  const { samples, bad, stable, baseline } = opts;
  const isBad = (c: ServiceContainer) => c.version === bad;
  const failureSeenAt = firstAt(samples, (r) => r.containers.some((c) => isBad(c) && failedContainer(c)));
  // On a loaded machine a bad replica can start, exit and be removed between
  // two samples. Its failure then came after the last sample that still showed
  // it, so timing from that sample overstates the delay: a bound it meets holds.
  const firstFailure = failureSeenAt ?? lastAt(samples, (r) => r.containers.some(isBad));
  const firstRollingBack = firstAt(samples, (r) =>
    ['RollingBack', 'RolledBack'].includes(statusOf(r.service)?.phase ?? ''),
  );
  const firstNewStable = firstAt(samples, (r) =>
    r.containers.some((c) => c.version === stable && !baseline.has(c.id)),
  );
  const starts = [firstRollingBack, firstNewStable].filter((t): t is number => t !== undefined);
  const rollbackStart = starts.length > 0 ? Math.min(...starts) : undefined;
  const controllerStart = samples
    .map((s) => statusOf(s.value.service))
    .find((s) => s?.phase === 'RollingBack' || s?.phase === 'RolledBack')?.rollout?.startedAt;
  const since = (t: number | undefined, from: number | undefined) =>
    t !== undefined && from !== undefined ? t - from : undefined;
  return {
    samples: samples.length,
    failureSeen: failureSeenAt !== undefined,
    maxBadAtOnce: Math.max(0, ...samples.map((s) => s.value.containers.filter(isBad).length)),
    minServing: Math.min(...samples.map((s) => servingCount(s.value.containers))),
    patchToFailureMs: since(firstFailure, opts.patchedAt),
    failureToRollbackMs: since(rollbackStart, firstFailure),
    failureToRollingBackPhaseMs: since(firstRollingBack, firstFailure),
    failureToFirstNewStableMs: since(firstNewStable, firstFailure),
    failureToControllerRollbackMs: since(
      controllerStart ? Date.parse(controllerStart) : undefined,
      firstFailure,
    ),
    patchToRollbackMs: since(rollbackStart, opts.patchedAt),
  };
}

/**
 * A 6-replica service Complete at `a`, then a bad revision: the service must
 * go back to `a` by itself. Returns the figures and the RolledBack service.
 */
async function rollOutBad(opts: { name: string; command?: string[]; healthcheck?: typeof NEVER_HEALTHY }) {
  const { name, ...badSpec } = opts;
  const replicas = 6;
  const complete = await createComplete({
    ...ctx(name),
    spec: serviceSpec({ app: name, replicas }),
    replicas,
  });
  const stableHash = statusOf(complete)?.updateRevision;
  expect(stableHash).toBeDefined();
  const before = await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });
  const baseline = new Set(before.map((c) => c.id));

  const sampler = startSampler(readBoth(name), SAMPLE_MS);
  const patchedAt = Date.now();
  const generation = await rollTo({
    ...ctx(name),
    template: replicaTemplate({ image: world.image, app: name, version: 'bad', ...badSpec }),
  });
  let rolledBack: DockyardObject;
  try {
    rolledBack = await waitForService({
      ...ctx(name),
      until: (o) => o.status?.observedGeneration === generation && phaseIs('RolledBack')(o),
      what: 'RolledBack',
      timeoutMs: 120_000,
    });
    await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });
  } finally {
    await sampler.stop();
  }
  const figures = badRolloutFigures({
    samples: sampler.samples,
    patchedAt,
    bad: 'bad',
    stable: 'a',
    baseline,
  });
  console.log(
    `[dockerservice] ${name}: ${JSON.stringify(figures)} (sample errors: ${sampler.errors.length})`,
  );
  return { figures, rolledBack, stableHash };
}

/** What a RolledBack service says, all of it: never a successful update. */
function expectRolledBack(o: DockyardObject, stableHash: string | undefined) {
  const s = statusOf(o);
  expect(s?.phase).toBe('RolledBack');
  expect(condition(o, 'Ready')).toMatchObject({ status: 'False', reason: Reason.RolledBack });
  expect(condition(o, 'RolledBack')).toMatchObject({ status: 'True' });
  expect(condition(o, 'Stalled')).toMatchObject({ status: 'True', reason: Reason.RolledBack });
  expect(s?.stableRevision).toBe(stableHash);
  expect(s?.currentRevision).toBe(stableHash);
  expect(s?.updateRevision).not.toBe(stableHash);
  expect(s?.rollout?.abandonedHash).toBe(s?.updateRevision);
  expect(s?.availableReplicas).toBe(6);
  expect(s?.updatedReplicas).toBe(0);
}

/** Still RolledBack a while later, the bad revision not tried again. */
async function expectStaysRolledBack(name: string) {
  await new Promise((r) => setTimeout(r, HOLD_MS));
  const { containers, service } = await readBoth(name)();
  expect(statusOf(service)?.phase).toBe('RolledBack');
  expect(
    containers.filter((c) => c.version === 'bad'),
    describeContainers(containers),
  ).toEqual([]);
  expect(servingCount(containers)).toBe(6);
}

describe('DockerService rollouts', () => {
  // Six replicas here, two a site; `npm run bench` rolls 100 (its rollout
  // scenario samples Docker the same way): twelve took over the test's three
  // minutes beside another integration file on the 2-core CI machine.
  it('rolls 6 replicas over three sites with never fewer than 5 serving nor more than 7 containers', async () => {
    const name = 'web';
    const replicas = 6;
    const spec = serviceSpec({
      app: name,
      replicas,
      more: { placement: { maxPerHost: 2, spreadByHostLabel: 'site' } },
    });
    const first = await createComplete({ ...ctx(name), spec, replicas, timeoutMs: ROLLOUT_MS });
    const revisionA = statusOf(first)?.revision ?? 0;
    const before = await waitForServing({ lab: world.lab, app: name, replicas, version: 'a' });
    // Spread by site, at most 2 a host: 2 on each.
    expect(countByNode(before)).toEqual({ n1: 2, n2: 2, n3: 2 });

    const sampler = startSampler(() => serviceContainers(world.lab, name), SAMPLE_MS);
    const startedAt = Date.now();
    let done: DockyardObject;
    try {
      const b = { template: replicaTemplate({ image: world.image, app: name, version: 'b' }), version: 'b' };
      done = await rollToComplete({ ...ctx(name), ...b, replicas, timeoutMs: ROLLOUT_MS });
    } finally {
      await sampler.stop();
    }
    const samples = sampler.samples;
    const minServing = Math.min(...samples.map((s) => servingCount(s.value)));
    const maxContainers = Math.max(...samples.map((s) => s.value.length));
    const rolloutMs = Date.now() - startedAt;
    console.log(
      `[dockerservice] ${name}: ${replicas} replicas rolled in ${rolloutMs} ms; ${samples.length} samples, ` +
        `min serving ${minServing}, max containers ${maxContainers} (sample errors: ${sampler.errors.length})`,
    );
    const worst = samples.find((s) => servingCount(s.value) === minServing);
    expect(minServing, `worst sample: ${describeContainers(worst?.value ?? [])}`).toBeGreaterThanOrEqual(
      replicas - 1,
    );
    expect(maxContainers).toBeLessThanOrEqual(replicas + 1);
    // Enough samples to mean something: about one per sampling period.
    expect(samples.length).toBeGreaterThan(rolloutMs / SAMPLE_MS / 3);

    const s = statusOf(done);
    expect(s?.revision).toBe(revisionA + 1);
    expect(s?.readySummary).toBe(`${replicas}/${replicas}`);
    expect(condition(done, 'Available')?.status).toBe('True');
    expect(countByNode(await serviceContainers(world.lab, name))).toEqual({ n1: 2, n2: 2, n3: 2 });

    // The printer columns, as kubectl shows them (short name dsvc).
    const { cp } = world;
    const { stdout } = await run(cp.kubectlPath, [
      '--kubeconfig',
      cp.kubeconfigPath,
      'get',
      'dsvc',
      '-n',
      NS,
      name,
    ]);
    expect(stdout).toMatch(/DESIRED\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+REVISION\s+PHASE/);
    expect(stdout).toMatch(new RegExp(`${name}\\s+6\\s+6/6\\s+6\\s+6\\s+${revisionA + 1}\\s+Complete`));
    await deleteService(ctx(name));
  });

  // The issue bounds bad replicas by maxSurge (+ the canary's size). Under
  // StopFirst the pace is maxUnavailable: one replica is replaced at a time,
  // and a bad one never becomes Available, so no second is started.
  it.each([
    { what: 'whose healthcheck fails', name: 'unhealthy', bad: { healthcheck: NEVER_HEALTHY } },
    { what: 'whose container exits', name: 'exits', bad: { command: EXITS } },
  ])(
    'rolls a revision $what back to the last Available one, one bad replica at most',
    async ({ name, bad }) => {
      const { figures, rolledBack, stableHash } = await rollOutBad({ name, ...bad });
      expect(figures.maxBadAtOnce).toBe(1);
      expect(figures.minServing).toBeGreaterThanOrEqual(5);
      expect(figures.failureToRollbackMs).toBeDefined();
      expect(figures.failureToRollbackMs).toBeLessThanOrEqual(ROLLBACK_START_BOUND_MS);
      expectRolledBack(rolledBack, stableHash);
      await expectStaysRolledBack(name);
      await deleteService(ctx(name));
    },
  );
});
