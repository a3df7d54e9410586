// Convergence overhead: N containers over the nodes (image present), created
// and started by plain dockerode at concurrency C, then the same N as
// DockerContainers applied to a controller with C workers, timed until every
// one is Ready. Same machine, same run, in --rounds alternating rounds
// (direct, Dockyard, direct, …), reported as the median ratio and its spread.

import type Dockerode from 'dockerode';
import { OWNER_LABELS } from '../../src/crds/kit.js';
import { ignoreNotFound } from '../../src/localenv/host-docker.js';
import { waitFor } from '../../src/localenv/process.js';
import { isNotFound } from '../../src/runtime/api-errors.js';
import type { Log } from '../support/cleanup.js';
import { inStep, stepLabel, withProgress } from '../support/deadline.js';
import { mapLimit, sleep } from '../support/pool.js';
import { waitUntilQuiet } from '../support/quiet.js';
import { ReadyTracker } from '../support/ready-tracker.js';
import { atMost, formatValue, type Row, type ScenarioResult } from '../support/report.js';
import { spreadText, summarizeRounds } from '../support/rounds.js';
import type { Session } from '../support/session.js';
import { counterDelta, cumulative, ratio, summarize, total, type Summary } from '../support/stats.js';
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
  log?: Log,
): Promise<ConvergenceRun> {
  const t0 = performance.now();
  const done: Array<{ node: string; at: number; took: number }> = [];
  let inFlight = 0;
  await withProgress(
    {
      label: stepLabel('containers'),
      total: items.length,
      verb: 'started',
      log: log ?? (() => {}),
      detail: () => `${inFlight} in flight`,
    },
    (progress) =>
      mapLimit(items, concurrency, async ({ name, node }) => {
        const docker = clients.get(node) as Dockerode;
        const started = performance.now();
        inFlight++;
        try {
          const container = await docker.createContainer({
            name,
            Image: image,
            Cmd: ['sleep', '86400'],
            Labels: { 'dockyard.bench': 'direct' },
          });
          await container.start();
        } finally {
          inFlight--;
        }
        const at = performance.now();
        done.push({ node, at: at - t0, took: at - started });
        progress.tick();
      }),
  );
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
export async function removeDirect(
  clients: ReadonlyMap<string, Dockerode>,
  items: readonly Placement[],
  log?: Log,
) {
  await withProgress(
    { label: stepLabel('containers'), total: items.length, verb: 'removed', log: log ?? (() => {}) },
    (progress) =>
      mapLimit(items, 8, async ({ name, node }) => {
        await (clients.get(node) as Dockerode)
          .getContainer(name)
          .remove({ force: true })
          .catch((err: unknown) => ignoreNotFound(err));
        progress.tick();
      }),
  );
}

/**
 * Applies DockerContainers (creates with bounded concurrency, timed from the
 * first create) and waits until every one is Ready. Per object: from its
 * create request to the watch event that first shows it Ready. Progress lines
 * go to session.log; a wait that times out or stalls names objects not Ready.
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
    const names = items.map((p) => p.name);
    const label = stepLabel(`${kind}s in ${namespace}`);
    await withProgress(
      {
        label,
        total: items.length,
        verb: 'created',
        log: session.log,
        detail: () => `${tracker.readyCount(names)} Ready`,
      },
      (progress) =>
        mapLimit(items, 16, async (p) => {
          appliedAt.set(p.name, performance.now());
          await session.env.kube.create(kind, namespace, p.name, spec(p));
          progress.tick();
        }),
    );
    await tracker.waitAllReady(names, timeoutMs, `${items.length} ${kind}s in ${namespace} to be Ready`, {
      log: session.log,
      label,
    });
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

/**
 * Deletes every object of `kind` in `namespace` and waits until the API
 * server has none left and no node runs a container Dockyard made for the
 * namespace (DockerContainers default to deletionPolicy Delete: the
 * controller removes the container before it drops its finalizer).
 */
export async function deleteAllAndWait(
  session: Session,
  namespace: string,
  kind = 'DockerContainer',
  timeoutMs = 300_000,
): Promise<void> {
  const { env, log } = session;
  const objects = await env.kube.list(kind, namespace);
  const label = stepLabel(`${kind}s in ${namespace}`);
  await withProgress({ label, total: objects.length, verb: 'deleted', log }, (progress) =>
    mapLimit(objects, 16, async (o) => {
      await env.kube.delete(kind, namespace, o.metadata.name).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      progress.tick();
    }),
  );
  let left = objects.length;
  await withProgress(
    { label, total: objects.length, verb: 'gone', log, count: () => objects.length - left },
    () =>
      waitFor(
        async () => {
          left = (await env.kube.list(kind, namespace)).length;
          return left === 0;
        },
        { timeoutMs, intervalMs: 500, what: `the ${kind}s of ${namespace} to be gone` },
      ).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; ${left} left`, { cause: err });
      }),
  );
  const owned = `${OWNER_LABELS.namespace}=${namespace}`;
  let onNodes = 0;
  await waitFor(
    async () => {
      const counts = await Promise.all(
        env.nodes.map(
          async (n) =>
            (await env.client(n.name).listContainers({ all: true, filters: { label: [owned] } })).length,
        ),
      );
      onNodes = counts.reduce((a, b) => a + b, 0);
      return onNodes === 0;
    },
    { timeoutMs: 120_000, intervalMs: 500, what: `the nodes to hold no container of ${namespace}` },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; ${onNodes} left`, { cause: err });
  });
}

export async function ensureNamespace(session: Session, name: string): Promise<void> {
  try {
    await session.env.kube.namespace(name);
  } catch (err) {
    if (!String(err).includes('AlreadyExists') && (err as { code?: number }).code !== 409) throw err;
  }
}

/** What one round's Dockyard run did besides its time: Docker's side and the controller's work. */
interface DockyardSide {
  mutatingCalls: Map<string, number>;
  readCalls: Map<string, number>;
  mutatingActions: Map<string, number>;
  reconcilesPerObject: number;
  /** When Docker had started the last container (docker events), seconds after the first create. */
  dockerSideSeconds: number | undefined;
  applyToRunning: Summary | undefined;
  startedCurves: Curves;
}

interface Round {
  /** 1-based. */
  round: number;
  direct: ConvergenceRun;
  dockyard: ConvergenceRun;
  side: DockyardSide;
}

/** N DockerContainers applied and waited Ready, with the controller's and the daemons' counts around it. */
async function measureDockyard(
  session: Session,
  items: readonly Placement[],
  timeoutMs: number,
): Promise<{ run: ConvergenceRun; side: DockyardSide }> {
  const { env, options } = session;
  const metricsBefore = await session.controller.metrics();
  const mutationsBefore = {
    metric: splitMutating(dockerRequestsByOperation(metricsBefore)).mutating,
    events: session.events.map((e) => mutatingEvents(e.snapshot())),
  };
  const run = await applyAndWait(
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
  const mutatingActions = new Map<string, number>();
  session.events.forEach((e, i) => {
    const delta = counterDelta(
      mutationsBefore.events[i] as Map<string, number>,
      mutatingEvents(e.snapshot()),
    );
    for (const [k, v] of delta) mutatingActions.set(k, (mutatingActions.get(k) ?? 0) + v);
  });

  // Docker's side: when each container was started (docker events; the last
  // start per name, so read right after this round, before the next reuses the names).
  const started = items.map((p) => {
    const at = session.events
      .map((e) => e.containerStartedAt.get(`${CONVERGENCE_NAMESPACE}/${p.name}`))
      .find((t) => t !== undefined && t >= run.t0);
    return {
      node: p.node,
      at: at === undefined ? undefined : at - run.t0,
      applied: run.appliedAt.get(p.name),
    };
  });
  const dockerDone = started.filter(
    (s): s is { node: string; at: number; applied: number } => s.at !== undefined && s.applied !== undefined,
  );
  return {
    run,
    side: {
      mutatingCalls,
      readCalls,
      mutatingActions,
      reconcilesPerObject: (reconciles(metricsAfter) - reconciles(metricsBefore)) / options.n,
      dockerSideSeconds:
        dockerDone.length === items.length ? Math.max(...dockerDone.map((s) => s.at)) / 1000 : undefined,
      applyToRunning: summarize(dockerDone.map((s) => (s.at + run.t0 - s.applied) / 1000)),
      startedCurves: curvesOf(dockerDone),
    },
  };
}

export async function convergence(session: Session): Promise<ScenarioResult> {
  const { env, options, log } = session;
  const startedAt = Date.now();
  const nodeNames = env.nodes.map((n) => n.name);
  const clients = new Map(nodeNames.map((n) => [n, env.client(n)] as const));
  const timeoutMs = Math.max(300_000, options.n * 3_000);
  const directItems = placements('direct', options.n, nodeNames);
  const items = placements('c', options.n, nodeNames);
  await ensureNamespace(session, CONVERGENCE_NAMESPACE);

  // Direct, Dockyard, direct, Dockyard, …: whatever drifts on the machine
  // meets both sides. The last round's DockerContainers stay for idle and drift.
  const rounds: Round[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    const of = `round ${r}/${options.rounds}`;
    const direct = await inStep(`${of} direct`, async () => {
      log(`[convergence] ${of}: direct dockerode, ${options.n} containers, ${options.concurrency} in flight`);
      const run = await runDirect(clients, directItems, env.workloadImage, options.concurrency, log);
      await removeDirect(clients, directItems, log);
      await sleep(1_000); // let the removals' events arrive before the Dockyard window opens
      return run;
    });
    const dockyard = await inStep(`${of} Dockyard`, async () => {
      log(`[convergence] ${of}: Dockyard, ${options.n} DockerContainers, ${options.concurrency} workers`);
      return measureDockyard(session, items, timeoutMs);
    });
    rounds.push({ round: r, direct, dockyard: dockyard.run, side: dockyard.side });
    log(
      `[convergence] ${of}: direct ${direct.totalSeconds.toFixed(2)} s, Dockyard ` +
        `${dockyard.run.totalSeconds.toFixed(2)} s, ratio ${formatValue(ratio(dockyard.run.totalSeconds, direct.totalSeconds))}`,
    );
    if (r < options.rounds)
      await inStep(`${of} clean-up`, async () => {
        await deleteAllAndWait(session, CONVERGENCE_NAMESPACE);
        await waitUntilQuiet(session.controller, 300_000);
        await sleep(1_000); // the removals' events before the next window
      });
  }
  return report(session, rounds, startedAt);
}

function report(session: Session, rounds: readonly Round[], startedAt: number): ScenarioResult {
  const { options } = session;
  const summary = summarizeRounds(
    rounds.map((r) => ({ directSeconds: r.direct.totalSeconds, dockyardSeconds: r.dockyard.totalSeconds })),
  );
  const m = rounds[summary.medianRound ?? rounds.length - 1] as Round;
  const d = summarize(m.dockyard.perObjectSeconds);
  const b = summarize(m.direct.perObjectSeconds);
  const from = rounds.length > 1 ? ` (round ${m.round})` : '';
  const rows: Row[] = [
    ...rounds.map((r, i) => ({
      metric: `Round ${r.round}: direct / Dockyard / ratio`,
      value:
        `${formatValue(r.direct.totalSeconds)} s / ${formatValue(r.dockyard.totalSeconds)} s / ` +
        formatValue(summary.ratios[i]),
    })),
    {
      metric: `Total-time ratio (Dockyard / direct), median of ${rounds.length} round${rounds.length > 1 ? 's' : ''}`,
      value: summary.medianRatio,
      target: `≤ ${CONVERGENCE_RATIO_TARGET}`,
      pass: atMost(summary.medianRatio, CONVERGENCE_RATIO_TARGET),
    },
    { metric: 'Total-time ratio spread (min–max over the rounds)', value: spreadText(summary) },
    { metric: `Direct dockerode total${from}`, value: m.direct.totalSeconds, unit: 's' },
    { metric: `Dockyard apply → all Ready${from}`, value: m.dockyard.totalSeconds, unit: 's' },
    { metric: 'Dockyard apply → Ready p50', value: d?.p50, unit: 's' },
    { metric: 'Dockyard apply → Ready p99', value: d?.p99, unit: 's' },
    {
      metric: 'Dockyard apply → container started (docker events), last',
      value: m.side.dockerSideSeconds,
      unit: 's',
    },
    { metric: 'Dockyard apply → container started p50', value: m.side.applyToRunning?.p50, unit: 's' },
    { metric: 'Dockyard apply → container started p99', value: m.side.applyToRunning?.p99, unit: 's' },
    { metric: 'Dockyard Docker mutating calls (controller metric)', value: total(m.side.mutatingCalls) },
    { metric: 'Dockyard Docker mutating actions (docker events)', value: total(m.side.mutatingActions) },
    { metric: 'Dockyard DockerContainer reconciles per object', value: m.side.reconcilesPerObject },
    { metric: 'Dockyard Docker read calls per object', value: total(m.side.readCalls) / options.n },
    { metric: 'Direct create+start p50', value: b?.p50, unit: 's' },
    { metric: 'Direct create+start p99', value: b?.p99, unit: 's' },
  ];
  const roundData = (r: Round) => ({
    round: r.round,
    direct: {
      totalSeconds: r.direct.totalSeconds,
      perObject: summarize(r.direct.perObjectSeconds),
      curves: r.direct.curves,
    },
    dockyard: {
      totalSeconds: r.dockyard.totalSeconds,
      perObject: summarize(r.dockyard.perObjectSeconds),
      curves: r.dockyard.curves,
    },
    dockyardMutatingCalls: toObject(r.side.mutatingCalls),
    dockyardReadCalls: toObject(r.side.readCalls),
    dockyardMutatingActions: toObject(r.side.mutatingActions),
    dockyardReconcilesPerObject: r.side.reconcilesPerObject,
    dockyardDockerSide: {
      lastStartedSeconds: r.side.dockerSideSeconds,
      applyToStarted: r.side.applyToRunning,
      curves: r.side.startedCurves,
    },
  });
  return {
    scenario: 'convergence',
    title: `Convergence overhead (${options.n} containers, ${options.nodes} nodes, concurrency ${options.concurrency}, ${rounds.length} rounds)`,
    parameters: {
      n: options.n,
      nodes: options.nodes,
      concurrency: options.concurrency,
      rounds: rounds.length,
    },
    rows,
    data: {
      // The median round's figures at the top level (convergence.svg draws them), every round below.
      ...roundData(m),
      medianRound: m.round,
      ratios: summary.ratios,
      medianRatio: summary.medianRatio,
      minRatio: summary.minRatio,
      maxRatio: summary.maxRatio,
      rounds: rounds.map(roundData),
    },
    notes: [
      `${rounds.length} alternating rounds (direct, Dockyard, direct, Dockyard, …); the target is judged on the ` +
        "median of the rounds' ratios. Between rounds Dockyard's DockerContainers are deleted and waited gone " +
        '(API server and Docker), and the controller left to go quiet.',
      rounds.length > 1
        ? `Rows below the spread, and convergence.svg, are from round ${m.round}, the round whose ratio is the median; ` +
          "every round's figures are in convergence.json (data.rounds)."
        : 'One round (--rounds=1): no spread to judge noise by.',
      'Per-object Dockyard latency runs from its create request to the first watch event showing Ready ' +
        '(the queue wait behind the other objects included); the direct figure is create+start of one container.',
      `Mutations cross-check: for ${options.n} containers expect ${2 * options.n} (create + start each) from both counts; ` +
        "the direct baseline's own creates and the clean-up between rounds happen outside the Dockyard window and are not counted.",
      `Both sides get the same parallelism: ${options.concurrency} controller workers vs ${options.concurrency} dockerode calls in flight.`,
    ],
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: (Date.now() - startedAt) / 1000,
  };
}
