// Rollout: a DockerService of N replicas over the nodes (Replicated,
// StopFirst, maxUnavailable P, maxSurge 0) gets a template change (one env
// var); timed from the patch until status says Complete with N updated, while
// Docker is asked every 100 ms how many replicas run. The baseline does the
// same update with plain dockerode, P replicas at a time (stop + remove the
// old container, create + start the new one), on containers of its own. In
// --rounds alternating rounds (direct, Dockyard, direct, …): the service is
// created once and each Dockyard round patches it to the next revision.

import type Dockerode from 'dockerode';
import type { DockerService } from '../../src/crds/dockerservice.js';
import { OWNER_LABELS } from '../../src/crds/kit.js';
import { ignoreNotFound } from '../../src/localenv/host-docker.js';
import { waitFor } from '../../src/localenv/process.js';
import { mutatingEvents, toObject } from '../support/metrics.js';
import { mapLimit, sleep } from '../support/pool.js';
import { waitUntilQuiet } from '../support/quiet.js';
import { inStep, stepLabel, withProgress } from '../support/deadline.js';
import { atMost, formatValue, type Row, type ScenarioResult } from '../support/report.js';
import { spreadText, summarizeRounds } from '../support/rounds.js';
import type { Session } from '../support/session.js';
import { counterDelta, total } from '../support/stats.js';
import { ensureNamespace, placements, type Placement } from './convergence.js';

export const ROLLOUT_NAMESPACE = 'bench-rollout';
const SERVICE = 'roll';
const REVISION_ENV = 'BENCH_REVISION';
const DIRECT_LABEL = 'dockyard.bench';
const DIRECT_VALUE = 'rollout-direct';
/** How often Docker is asked how many replicas run (the issue's 100 ms). */
export const SAMPLE_INTERVAL_MS = 100;

/**
 * A sleeper without a healthcheck that exits at once on SIGTERM (busybox
 * `sleep` as PID 1 would ignore it and every stop would wait the grace
 * period), so both sides measure orchestration, not a stop timeout.
 */
export const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 86400 & wait'];

export interface RolloutSize {
  replicas: number;
  parallelism: number;
}

/** The service under test at one revision (pure). */
export function serviceSpec(size: RolloutSize, image: string, revision: number): Record<string, unknown> {
  return {
    hostSelector: { matchExpressions: [{ key: 'dockyard.io/bench-node', operator: 'Exists' }] },
    mode: 'Replicated',
    replicas: size.replicas,
    updateStrategy: {
      order: 'StopFirst',
      maxUnavailable: size.parallelism,
      maxSurge: 0,
      minReadySeconds: 0,
    },
    template: {
      spec: { image, command: SLEEPER, env: [{ name: REVISION_ENV, value: String(revision) }] },
    },
  };
}

/** Whether the service reports revision-complete: every replica updated and Available, Ready=True. */
export function rolloutComplete(svc: DockerService, replicas: number, notRevision?: string): boolean {
  const s = svc.status;
  return (
    s !== undefined &&
    s.observedGeneration === svc.metadata.generation &&
    s.phase === 'Complete' &&
    s.updateRevision !== undefined &&
    s.updateRevision !== notRevision &&
    s.currentRevision === s.updateRevision &&
    s.updatedReplicas === replicas &&
    s.availableReplicas === replicas &&
    s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
  );
}

/** Running containers per sample: [seconds since t0, count]. */
export type RunningSamples = Array<[number, number]>;

/** The lowest count at or after `fromSeconds` and at or before `toSeconds` (undefined: no sample there). */
export function minimumBetween(
  samples: RunningSamples,
  fromSeconds: number,
  toSeconds: number,
): number | undefined {
  const inside = samples.filter(([t]) => t >= fromSeconds && t <= toSeconds).map(([, n]) => n);
  return inside.length > 0 ? Math.min(...inside) : undefined;
}

/** The longest time between two consecutive samples, in seconds (sampling honesty). */
export function largestGap(samples: RunningSamples): number | undefined {
  let gap: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    const d = (samples[i] as [number, number])[0] - (samples[i - 1] as [number, number])[0];
    gap = gap === undefined ? d : Math.max(gap, d);
  }
  return gap;
}

/**
 * Asks every node every SAMPLE_INTERVAL_MS how many containers with `label`
 * run. A node that does not answer within a second makes that sample missing
 * (not zero), so a slow list never fakes an availability drop.
 */
export class RunningSampler {
  readonly samples: RunningSamples = [];
  private active = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly clients: readonly Dockerode[],
    private readonly label: string,
    private readonly t0: number,
  ) {}

  start(): this {
    this.active = true;
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<RunningSamples> {
    this.active = false;
    await this.loop;
    return this.samples;
  }

  private async count(docker: Dockerode): Promise<number> {
    const list = docker.listContainers({ filters: { label: [this.label], status: ['running'] } });
    const timeout = sleep(1_000).then(() => Promise.reject(new Error('list timed out')));
    return (await Promise.race([list, timeout])).length;
  }

  private async run(): Promise<void> {
    while (this.active) {
      const asked = performance.now();
      try {
        const counts = await Promise.all(this.clients.map((c) => this.count(c)));
        this.samples.push([(asked - this.t0) / 1000, counts.reduce((a, b) => a + b, 0)]);
      } catch {
        // a missing sample, not a zero: see the class comment
      }
      await sleep(Math.max(0, SAMPLE_INTERVAL_MS - (performance.now() - asked)));
    }
  }
}

async function getService(session: Session): Promise<DockerService | undefined> {
  return (await session.env.kube.get('DockerService', ROLLOUT_NAMESPACE, SERVICE)) as unknown as
    DockerService | undefined;
}

/** Polls the service every SAMPLE_INTERVAL_MS until it is complete at a revision other than `notRevision`. */
async function waitComplete(
  session: Session,
  size: RolloutSize,
  opts: { notRevision?: string; timeoutMs: number; what: string },
): Promise<DockerService> {
  let last: DockerService | undefined;
  try {
    return await withProgress(
      {
        label: stepLabel(`${SERVICE} replicas`),
        total: size.replicas,
        verb: 'updated',
        log: session.log,
        count: () => last?.status?.updatedReplicas ?? 0,
        detail: () =>
          `${last?.status?.availableReplicas ?? 0} available, phase ${String(last?.status?.phase)}`,
      },
      () =>
        waitFor(
          async () => {
            last = await getService(session);
            return last && rolloutComplete(last, size.replicas, opts.notRevision) ? last : undefined;
          },
          { timeoutMs: opts.timeoutMs, intervalMs: SAMPLE_INTERVAL_MS, what: opts.what },
        ),
    );
  } catch (err) {
    const s = last?.status;
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}; last status: phase ${String(s?.phase)}, ` +
        `updated ${String(s?.updatedReplicas)}, available ${String(s?.availableReplicas)}, ` +
        `message ${JSON.stringify(s?.rollout?.message)}`,
      { cause: err },
    );
  }
}

interface DirectItem extends Placement {
  docker: Dockerode;
}

async function createDirect(item: DirectItem, name: string, image: string, revision: number) {
  const container = await item.docker.createContainer({
    name,
    Image: image,
    Cmd: SLEEPER,
    Env: [`${REVISION_ENV}=${revision}`],
    Labels: { [DIRECT_LABEL]: DIRECT_VALUE },
  });
  await container.start();
}

/** Removes every container of the direct baseline from every node. */
async function removeDirect(clients: readonly Dockerode[]): Promise<void> {
  for (const docker of clients) {
    const list = await docker.listContainers({
      all: true,
      filters: { label: [`${DIRECT_LABEL}=${DIRECT_VALUE}`] },
    });
    await mapLimit(list, 8, (c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch((err: unknown) => ignoreNotFound(err)),
    );
  }
}

export interface DirectRollout {
  seconds: number;
  samples: RunningSamples;
  minimumRunning: number | undefined;
}

/**
 * The baseline: N containers at revision `from` (set up untimed), then each
 * one replaced by its revision from+1 container, P replacements in flight.
 */
async function runDirectRollout(session: Session, size: RolloutSize, from: number): Promise<DirectRollout> {
  const { env, log } = session;
  const clients = env.nodes.map((n) => env.client(n.name));
  const byNode = new Map(env.nodes.map((n, i) => [n.name, clients[i] as Dockerode] as const));
  const items: DirectItem[] = placements(
    'rollout-direct',
    size.replicas,
    env.nodes.map((n) => n.name),
  ).map((p) => ({ ...p, docker: byNode.get(p.node) as Dockerode }));
  const label = stepLabel('direct containers');
  await removeDirect(clients);
  try {
    await withProgress({ label, total: items.length, verb: 'set up', log }, (progress) =>
      mapLimit(items, 8, async (item) => {
        await createDirect(item, `${item.name}-${from}`, env.workloadImage, from);
        progress.tick();
      }),
    );
    await sleep(1_000);
    const t0 = performance.now();
    const sampler = new RunningSampler(clients, `${DIRECT_LABEL}=${DIRECT_VALUE}`, t0).start();
    let seconds: number;
    let samples: RunningSamples;
    try {
      await withProgress({ label, total: items.length, verb: 'replaced', log }, (progress) =>
        mapLimit(items, size.parallelism, async (item) => {
          const old = item.docker.getContainer(`${item.name}-${from}`);
          await old.stop({ t: 10 });
          await old.remove();
          await createDirect(item, `${item.name}-${from + 1}`, env.workloadImage, from + 1);
          progress.tick();
        }),
      );
      seconds = (performance.now() - t0) / 1000;
      await sleep(3 * SAMPLE_INTERVAL_MS);
    } finally {
      samples = await sampler.stop();
    }
    return { seconds, samples, minimumRunning: minimumBetween(samples, 0, seconds) };
  } finally {
    await removeDirect(clients);
  }
}

interface DockyardRollout {
  seconds: number;
  samples: RunningSamples;
  minimumRunning: number | undefined;
  /** When Docker started the last new replica (docker events), seconds after the patch. */
  lastStartSeconds: number | undefined;
  mutatingActions: Map<string, number>;
  revisions: { from: string; to: string };
}

/** Events of every node summed: a snapshot of the mutating "type action" counts. */
const eventTotals = (session: Session) => {
  const sum = new Map<string, number>();
  for (const e of session.events)
    for (const [k, v] of mutatingEvents(e.snapshot())) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
};

const rolloutTimeoutMs = (size: RolloutSize) => Math.max(300_000, size.replicas * 5_000);

/** The service created and waited Complete at revision 1 (untimed setup); its seconds and revision. */
async function createService(
  session: Session,
  size: RolloutSize,
): Promise<{ initialSeconds: number; revision: string }> {
  const { env, log } = session;
  const created = performance.now();
  await env.kube.create('DockerService', ROLLOUT_NAMESPACE, SERVICE, serviceSpec(size, env.workloadImage, 1));
  const first = await waitComplete(session, size, {
    timeoutMs: rolloutTimeoutMs(size),
    what: `${SERVICE} to be Complete at revision 1`,
  });
  const initialSeconds = (performance.now() - created) / 1000;
  const revision = first.status?.updateRevision ?? '';
  log(`[rollout] revision 1 (${revision.slice(0, 10)}) Complete in ${initialSeconds.toFixed(1)} s`);
  return { initialSeconds, revision };
}

/** The service, Complete at `fromRevision`, patched to template revision `to` and timed to Complete. */
async function runDockyardRollout(
  session: Session,
  size: RolloutSize,
  fromRevision: string,
  to: number,
): Promise<DockyardRollout> {
  const { env } = session;
  await waitUntilQuiet(session.controller, 300_000);
  const eventsBefore = eventTotals(session);
  const t0 = performance.now();
  const sampler = new RunningSampler(
    env.nodes.map((n) => env.client(n.name)),
    `${OWNER_LABELS.namespace}=${ROLLOUT_NAMESPACE}`,
    t0,
  ).start();
  let done: DockerService;
  let seconds: number;
  let samples: RunningSamples;
  try {
    await env.kube.patch('DockerService', ROLLOUT_NAMESPACE, SERVICE, {
      spec: { template: serviceSpec(size, env.workloadImage, to).template },
    });
    done = await waitComplete(session, size, {
      notRevision: fromRevision,
      timeoutMs: rolloutTimeoutMs(size),
      what: `${SERVICE} to be Complete at revision ${to}`,
    });
    seconds = (performance.now() - t0) / 1000;
    await sleep(3 * SAMPLE_INTERVAL_MS);
  } finally {
    samples = await sampler.stop();
  }
  const lastStart = Math.max(
    ...session.events.flatMap((e) =>
      [...e.containerStartedAt]
        .filter(([key, at]) => key.startsWith(`${ROLLOUT_NAMESPACE}/`) && at > t0)
        .map(([, at]) => at),
    ),
  );
  return {
    seconds,
    samples,
    minimumRunning: minimumBetween(samples, 0, seconds),
    lastStartSeconds: Number.isFinite(lastStart) ? (lastStart - t0) / 1000 : undefined,
    mutatingActions: counterDelta(eventsBefore, eventTotals(session)),
    revisions: { from: fromRevision, to: done.status?.updateRevision ?? '' },
  };
}

/** Deletes the service and waits (bounded) until Docker runs none of its replicas. */
async function removeService(session: Session, replicas: number): Promise<void> {
  const { env, log } = session;
  if (!(await getService(session))) return;
  await env.kube.delete('DockerService', ROLLOUT_NAMESPACE, SERVICE);
  const label = `${OWNER_LABELS.namespace}=${ROLLOUT_NAMESPACE}`;
  let left = replicas;
  await withProgress(
    {
      label: stepLabel(`${SERVICE} replicas`),
      total: replicas,
      verb: 'removed',
      log,
      count: () => Math.max(0, replicas - left),
    },
    () =>
      waitFor(
        async () => {
          const counts = await Promise.all(
            env.nodes.map(
              async (n) =>
                (await env.client(n.name).listContainers({ all: true, filters: { label: [label] } })).length,
            ),
          );
          left = counts.reduce((a, b) => a + b, 0);
          return left === 0;
        },
        { timeoutMs: 180_000, intervalMs: 1_000, what: `the replicas of ${SERVICE} to be removed` },
      ),
  ).catch((err: unknown) => log(`[rollout] clean-up: ${String(err)}; ${left} left`));
}

interface RolloutRound {
  /** 1-based; the round updates revision round → round + 1. */
  round: number;
  direct: DirectRollout;
  dockyard: DockyardRollout;
}

const fewest = (values: ReadonlyArray<number | undefined>) => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
};

function rows(size: RolloutSize, initialSeconds: number, rounds: readonly RolloutRound[]): Row[] {
  const floor = size.replicas - size.parallelism;
  const summary = summarizeRounds(
    rounds.map((r) => ({ directSeconds: r.direct.seconds, dockyardSeconds: r.dockyard.seconds })),
  );
  const m = rounds[summary.medianRound ?? rounds.length - 1] as RolloutRound;
  const from = rounds.length > 1 ? ` (round ${m.round})` : '';
  const dockyardMinimum = fewest(rounds.map((r) => r.dockyard.minimumRunning));
  const allSamples = rounds.map((r) => r.dockyard.samples);
  const gaps = allSamples.map((samples) => largestGap(samples) ?? 0);
  const mostActions = Math.max(...rounds.map((r) => total(r.dockyard.mutatingActions)));
  return [
    {
      metric: 'Dockyard: create → Complete at revision 1 (setup)',
      value: initialSeconds,
      unit: 's',
    },
    ...rounds.map((r, i) => ({
      metric: `Round ${r.round}: direct / Dockyard / ratio`,
      value:
        `${formatValue(r.direct.seconds)} s / ${formatValue(r.dockyard.seconds)} s / ` +
        formatValue(summary.ratios[i]),
    })),
    {
      metric: `Rollout-time ratio (Dockyard / direct), median of ${rounds.length} round${rounds.length > 1 ? 's' : ''}`,
      value: summary.medianRatio,
    },
    { metric: 'Rollout-time ratio spread (min–max over the rounds)', value: spreadText(summary) },
    { metric: `Dockyard: patch → Complete, all updated${from}`, value: m.dockyard.seconds, unit: 's' },
    {
      metric: `Dockyard: patch → last new replica started (docker events${rounds.length > 1 ? `, round ${m.round}` : ''})`,
      value: m.dockyard.lastStartSeconds,
      unit: 's',
    },
    {
      metric: `Direct dockerode: replace all, ${size.parallelism} in flight${from}`,
      value: m.direct.seconds,
      unit: 's',
    },
    {
      metric: 'Dockyard: fewest replicas running during the rollouts (Docker, every 100 ms)',
      value: dockyardMinimum,
      target: `≥ ${floor} (N − maxUnavailable)`,
      pass: dockyardMinimum === undefined ? undefined : dockyardMinimum >= floor,
    },
    {
      metric: 'Direct: fewest containers running during its updates',
      value: fewest(rounds.map((r) => r.direct.minimumRunning)),
    },
    {
      metric: 'Dockyard: samples / largest gap between samples',
      value: `${allSamples.reduce((n, a) => n + a.length, 0)} / ${(Math.max(...gaps) * 1000).toFixed(0)} ms`,
    },
    {
      metric: 'Dockyard: Docker mutating actions per rollout, most of any round (docker events)',
      value: mostActions,
      target: `≤ ${5 * size.replicas} (stop/kill, destroy, create, start per replica)`,
      pass: atMost(mostActions, 5 * size.replicas),
    },
  ];
}

export async function rollout(session: Session): Promise<ScenarioResult> {
  const { options, log } = session;
  const startedAt = Date.now();
  const size: RolloutSize = { replicas: options.rolloutReplicas, parallelism: options.rolloutParallelism };
  await ensureNamespace(session, ROLLOUT_NAMESPACE);
  await waitUntilQuiet(session.controller, 300_000);

  log(
    `[rollout] Dockyard: DockerService of ${size.replicas}, maxUnavailable ${size.parallelism}, maxSurge 0 ` +
      '(created once, then one template change per round)',
  );
  const rounds: RolloutRound[] = [];
  let initialSeconds: number;
  try {
    const setup = await inStep('setup', () => createService(session, size));
    initialSeconds = setup.initialSeconds;
    let revision = setup.revision;
    // Direct, Dockyard, direct, Dockyard, …: round r updates revision r → r + 1 on both sides.
    for (let r = 1; r <= options.rounds; r++) {
      const of = `round ${r}/${options.rounds}`;
      const direct = await inStep(`${of} direct`, () => {
        log(
          `[rollout] ${of}: direct dockerode, ${size.replicas} containers replaced, ${size.parallelism} at a time`,
        );
        return runDirectRollout(session, size, r);
      });
      const dockyard = await inStep(`${of} Dockyard`, () => {
        log(`[rollout] ${of}: Dockyard, revision ${r} → ${r + 1}`);
        return runDockyardRollout(session, size, revision, r + 1);
      });
      revision = dockyard.revisions.to;
      rounds.push({ round: r, direct, dockyard });
      log(
        `[rollout] ${of}: direct ${direct.seconds.toFixed(1)} s (fewest running ${String(direct.minimumRunning)}), ` +
          `Dockyard ${dockyard.seconds.toFixed(1)} s (fewest running ${String(dockyard.minimumRunning)})`,
      );
    }
  } finally {
    await inStep('clean-up', () => removeService(session, size.replicas));
  }
  const summary = summarizeRounds(
    rounds.map((r) => ({ directSeconds: r.direct.seconds, dockyardSeconds: r.dockyard.seconds })),
  );
  const m = rounds[summary.medianRound ?? rounds.length - 1] as RolloutRound;
  const roundData = (r: RolloutRound) => ({
    round: r.round,
    revisions: r.dockyard.revisions,
    dockyard: {
      seconds: r.dockyard.seconds,
      lastStartSeconds: r.dockyard.lastStartSeconds,
      minimumRunning: r.dockyard.minimumRunning,
      mutatingActions: toObject(r.dockyard.mutatingActions),
      runningSamples: r.dockyard.samples,
    },
    direct: {
      seconds: r.direct.seconds,
      minimumRunning: r.direct.minimumRunning,
      runningSamples: r.direct.samples,
    },
  });
  return {
    scenario: 'rollout',
    title:
      `Rollout (${size.replicas} replicas, ${options.nodes} nodes, StopFirst, maxUnavailable ` +
      `${size.parallelism}, maxSurge 0, ${rounds.length} rounds)`,
    parameters: {
      replicas: size.replicas,
      parallelism: size.parallelism,
      nodes: options.nodes,
      rounds: rounds.length,
      controllerWorkers: session.controller.settings.workers,
    },
    rows: rows(size, initialSeconds, rounds),
    data: {
      initialSeconds,
      // The median round at the top level, every round below.
      ...roundData(m),
      medianRound: m.round,
      ratios: summary.ratios,
      medianRatio: summary.medianRatio,
      rounds: rounds.map(roundData),
    },
    notes: [
      `${rounds.length} alternating rounds (direct, Dockyard, direct, …); round r updates revision r → r + 1 on both ` +
        'sides. The service is created once (setup, untimed) and stays, so the direct rounds run beside its N idle ' +
        'replicas; the direct containers are set up untimed before each direct round and removed after it.',
      rounds.length > 1
        ? `Single-round rows are from round ${m.round}, the round whose ratio is the median; the fewest running ` +
          'and the mutating actions cover every round.'
        : 'One round (--rounds=1): no spread to judge noise by.',
      'The change is one env var in the template: every replica is replaced (StopFirst: the old one is removed ' +
        'before its replacement starts on the same host). Dockyard time runs from the patch to the first status ' +
        '(polled every 100 ms) with phase Complete, currentRevision = updateRevision, N updated and Available, Ready=True.',
      'Availability is what Docker says: running containers of the namespace on every node, listed every 100 ms ' +
        '(a list that takes over 1 s is a missing sample, not a zero). Running is not yet Available, so this is ' +
        "an upper bound of the service's own availableReplicas; the floor it must hold is N − maxUnavailable.",
      `Same parallelism on both sides: maxUnavailable ${size.parallelism} vs ${size.parallelism} direct ` +
        `stop+remove+create+start sequences in flight; the controller runs with --max-concurrent-reconciles ` +
        `${session.controller.settings.workers} (at least ${size.parallelism}, so its DockerContainer workers are not the limit).`,
      'The direct baseline uses containers of its own (another name prefix and label): the floor, not a competing ' +
        'product (no health gating, no status). The ratio is informational.',
    ],
    startedAt: new Date(startedAt).toISOString(),
    durationSeconds: (Date.now() - startedAt) / 1000,
  };
}
