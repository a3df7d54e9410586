// Convergence overhead: N containers over the nodes (image present), created
// and started by plain dockerode at concurrency C, then the same N as
// DockerContainers applied to a controller with C workers, timed until every
// one is Ready. Same machine, same run, reported as a ratio.

import type Dockerode from 'dockerode';
import { ignoreNotFound } from '../../src/localenv/host-docker.js';
import { mapLimit, sleep } from '../support/pool.js';
import { ReadyTracker } from '../support/ready-tracker.js';
import type { ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import type { Session } from '../support/session.js';
import { counterDelta, cumulative, ratio, summarize, total } from '../support/stats.js';
import {
  counterSum,
  dockerRequestsByOperation,
  mutatingEvents,
  splitMutating,
  toObject,
} from '../support/metrics.js';

export const CONVERGENCE_NAMESPACE = 'bench-convergence';
/** The ratio the issue sets as target for Dockyard's total time over direct dockerode. */
export const CONVERGENCE_RATIO_TARGET = 1.1;

export interface Placement {
  name: string;
  node: string;
}

/** i-th of n objects on node n1, n2, … in turn (even spread). */
export function placements(prefix: string, count: number, nodes: readonly string[]): Placement[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${String(i).padStart(4, '0')}`,
    node: nodes[i % nodes.length] as string,
  }));
}

export const containerSpec = (node: string, image: string) => ({
  hostName: node,
  image,
  command: ['sleep', '86400'],
});

/** Curves: seconds since start → objects done, per node. */
export type Curves = Record<string, Array<[number, number]>>;

export interface ConvergenceRun {
  totalSeconds: number;
  perObjectSeconds: number[];
  curves: Curves;
  /** performance.now() of the first create. */
  t0: number;
  /** When each object's create request went out. */
  appliedAt: Map<string, number>;
}

/** The baseline: create+start each container straight through dockerode, C in flight. */
export async function runDirect(
  clients: ReadonlyMap<string, Dockerode>,
  items: readonly Placement[],
  image: string,
  concurrency: number,
): Promise<ConvergenceRun> {
  const t0 = performance.now();
  const done: Array<{ node: string; at: number; took: number }> = [];
  await mapLimit(items, concurrency, async ({ name, node }) => {
    const docker = clients.get(node) as Dockerode;
    const started = performance.now();
    const container = await docker.createContainer({
      name,
      Image: image,
      Cmd: ['sleep', '86400'],
      Labels: { 'dockyard.bench': 'direct' },
    });
    await container.start();
    const at = performance.now();
    done.push({ node, at: at - t0, took: at - started });
  });
  const totalSeconds = (performance.now() - t0) / 1000;
  return {
    totalSeconds,
    perObjectSeconds: done.map((d) => d.took / 1000),
    curves: curvesOf(done),
    t0,
    appliedAt: new Map(),
  };
}

function curvesOf(done: ReadonlyArray<{ node: string; at: number }>): Curves {
  const curves: Curves = {};
  for (const node of new Set(done.map((d) => d.node))) {
    curves[node] = cumulative(done.filter((d) => d.node === node).map((d) => d.at / 1000));
  }
  return curves;
}

/** Removes the baseline's containers (they are the benchmark's own, never Dockyard's). */
export async function removeDirect(clients: ReadonlyMap<string, Dockerode>, items: readonly Placement[]) {
  await mapLimit(items, 8, async ({ name, node }) =>
    (clients.get(node) as Dockerode)
      .getContainer(name)
      .remove({ force: true })
      .catch((err: unknown) => ignoreNotFound(err)),
  );
}

/**
 * Applies DockerContainers (creates with bounded concurrency, timed from the
 * first create) and waits until every one is Ready. Per object: from its
 * create request to the watch event that first shows it Ready.
 */
export async function applyAndWait(
  session: Session,
  namespace: string,
  items: readonly Placement[],
  spec: (p: Placement) => Record<string, unknown>,
  timeoutMs: number,
  kind = 'DockerContainer',
  t0 = performance.now(),
): Promise<ConvergenceRun> {
  const tracker = await new ReadyTracker(session.env.cp.kubeConfig(), kind, namespace).start();
  try {
    const appliedAt = new Map<string, number>();
    await mapLimit(items, 16, async (p) => {
      appliedAt.set(p.name, performance.now());
      await session.env.kube.create(kind, namespace, p.name, spec(p));
    });
    await tracker.waitAllReady(
      items.map((p) => p.name),
      timeoutMs,
      `${items.length} ${kind}s in ${namespace} to be Ready`,
    );
    const done = items.map((p) => ({
      node: p.node,
      at: (tracker.readyAt.get(p.name) as number) - t0,
      took: (tracker.readyAt.get(p.name) as number) - (appliedAt.get(p.name) as number),
    }));
    return {
      totalSeconds: Math.max(...done.map((d) => d.at)) / 1000,
      perObjectSeconds: done.map((d) => d.took / 1000),
      curves: curvesOf(done),
      t0,
      appliedAt,
    };
  } finally {
    tracker.stop();
  }
}

export async function ensureNamespace(session: Session, name: string): Promise<void> {
  try {
    await session.env.kube.namespace(name);
  } catch (err) {
    if (!String(err).includes('AlreadyExists') && (err as { code?: number }).code !== 409) throw err;
  }
}

export async function convergence(session: Session): Promise<ScenarioResult> {
  const { env, options, log } = session;
  const startedAt = Date.now();
  const nodeNames = env.nodes.map((n) => n.name);
  const clients = new Map(env.nodes.map((n) => [n.name, n.client()] as const));
  const timeoutMs = Math.max(300_000, options.n * 3_000);

  log(`[convergence] direct dockerode: ${options.n} containers, ${options.concurrency} in flight`);
  const directItems = placements('direct', options.n, nodeNames);
  const direct = await runDirect(clients, directItems, env.workloadImage, options.concurrency);
  await removeDirect(clients, directItems);
  await sleep(1_000); // let the removals' events arrive before the Dockyard window opens

  log(`[convergence] Dockyard: ${options.n} DockerContainers, ${options.concurrency} workers`);
  await ensureNamespace(session, CONVERGENCE_NAMESPACE);
  const items = placements('c', options.n, nodeNames);
  const metricsBefore = await session.controller.metrics();
  const mutationsBefore = {
    metric: splitMutating(dockerRequestsByOperation(metricsBefore)).mutating,
    events: session.events.map((e) => mutatingEvents(e.snapshot())),
  };
  const dockyard = await applyAndWait(
    session,
    CONVERGENCE_NAMESPACE,
    items,
    (p) => containerSpec(p.node, env.workloadImage),
    timeoutMs,
  );

  // What Dockyard changed on Docker for the N objects, counted twice: its own
  // request metric and the daemons' events (they should agree: create + start each).
  const metricsAfter = await session.controller.metrics();
  const mutatingCalls = counterDelta(
    mutationsBefore.metric,
    splitMutating(dockerRequestsByOperation(metricsAfter)).mutating,
  );
  // Where the per-object overhead goes: reconciles and Docker reads per object.
  const readCalls = counterDelta(
    splitMutating(dockerRequestsByOperation(metricsBefore)).reads,
    splitMutating(dockerRequestsByOperation(metricsAfter)).reads,
  );
  const reconciles = (samples: typeof metricsAfter) =>
    counterSum(samples, 'controller_runtime_reconcile_total', { controller: 'dockercontainer' });
  const reconcilesPerObject = (reconciles(metricsAfter) - reconciles(metricsBefore)) / options.n;
  const mutatingActions = new Map<string, number>();
  session.events.forEach((e, i) => {
    const delta = counterDelta(
      mutationsBefore.events[i] as Map<string, number>,
      mutatingEvents(e.snapshot()),
    );
    for (const [k, v] of delta) mutatingActions.set(k, (mutatingActions.get(k) ?? 0) + v);
  });

  // Docker's side of the Dockyard run: when each container was started (docker events).
  const started = items.map((p) => {
    const at = session.events
      .map((e) => e.containerStartedAt.get(`${CONVERGENCE_NAMESPACE}/${p.name}`))
      .find((t) => t !== undefined);
    return {
      node: p.node,
      at: at === undefined ? undefined : at - dockyard.t0,
      applied: dockyard.appliedAt.get(p.name),
    };
  });
  const dockerDone = started.filter(
    (s): s is { node: string; at: number; applied: number } => s.at !== undefined && s.applied !== undefined,
  );
  const dockerSideSeconds =
    dockerDone.length === items.length ? Math.max(...dockerDone.map((s) => s.at)) / 1000 : undefined;
  const applyToRunning = summarize(dockerDone.map((s) => (s.at + dockyard.t0 - s.applied) / 1000));
  const totalRatio = ratio(dockyard.totalSeconds, direct.totalSeconds);
  const d = summarize(dockyard.perObjectSeconds);
  const b = summarize(direct.perObjectSeconds);
  return {
    scenario: 'convergence',
    title: `Convergence overhead (${options.n} containers, ${options.nodes} nodes, concurrency ${options.concurrency})`,
    parameters: { n: options.n, nodes: options.nodes, concurrency: options.concurrency },
    rows: [
      { metric: 'Direct dockerode total', value: direct.totalSeconds, unit: 's' },
      { metric: 'Dockyard apply → all Ready', value: dockyard.totalSeconds, unit: 's' },
      {
        metric: 'Total-time ratio (Dockyard / direct)',
        value: totalRatio,
        target: `≤ ${CONVERGENCE_RATIO_TARGET}`,
        pass: atMost(totalRatio, CONVERGENCE_RATIO_TARGET),
      },
      { metric: 'Dockyard apply → Ready p50', value: d?.p50, unit: 's' },
      { metric: 'Dockyard apply → Ready p99', value: d?.p99, unit: 's' },
      {
        metric: 'Dockyard apply → container started (docker events), last',
        value: dockerSideSeconds,
        unit: 's',
      },
      { metric: 'Dockyard apply → container started p50', value: applyToRunning?.p50, unit: 's' },
      { metric: 'Dockyard apply → container started p99', value: applyToRunning?.p99, unit: 's' },
      { metric: 'Dockyard Docker mutating calls (controller metric)', value: total(mutatingCalls) },
      { metric: 'Dockyard Docker mutating actions (docker events)', value: total(mutatingActions) },
      { metric: 'Dockyard DockerContainer reconciles per object', value: reconcilesPerObject },
      { metric: 'Dockyard Docker read calls per object', value: total(readCalls) / options.n },
      { metric: 'Direct create+start p50', value: b?.p50, unit: 's' },
      { metric: 'Direct create+start p99', value: b?.p99, unit: 's' },
    ],
    data: {
      direct: { totalSeconds: direct.totalSeconds, perObject: b, curves: direct.curves },
      dockyard: { totalSeconds: dockyard.totalSeconds, perObject: d, curves: dockyard.curves },
      dockyardMutatingCalls: toObject(mutatingCalls),
      dockyardReadCalls: toObject(readCalls),
      dockyardMutatingActions: toObject(mutatingActions),
      dockyardDockerSide: {
        lastStartedSeconds: dockerSideSeconds,
        applyToStarted: applyToRunning,
        curves: curvesOf(dockerDone),
      },
    },
    notes: [
      'Per-object Dockyard latency runs from its create request to the first watch event showing Ready ' +
        '(the queue wait behind the other objects included); the direct figure is create+start of one container.',
      `Mutations cross-check: for ${options.n} containers expect ${2 * options.n} (create + start each) from both counts; ` +
        "the direct baseline's own creates happen before the Dockyard window and are not counted.",
      `Both sides get the same parallelism: ${options.concurrency} controller workers vs ${options.concurrency} dockerode calls in flight.`,
    ],
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: (Date.now() - startedAt) / 1000,
  };
}
