// The scale scenario's figures: medians over rounds per fleet size, the
// headline size's table against the issue's targets, the scaling curve, and
// the cold restart. Pure: everything here is arithmetic over what the
// phases measured.

import type { BenchOptions } from '../support/options.js';
import type { Row, ScenarioResult } from '../support/report.js';
import { atMost } from '../support/report.js';
import type { SteadyMemory } from '../support/scale-controller.js';
import { HOLLOW_JITTER_MS, HOLLOW_LATENCY_MS, isUpkeepOperation } from '../support/scale-fleet.js';
import type { RestartRun } from '../support/scale-phases.js';
import type { FailedShardedRun, ShardedRun } from '../support/scale-shards.js';
import { median } from '../support/stats.js';
import type { SizeResult } from './scale.js';

/** The issue's targets. */
export const SCALE_RATIO_TARGET = 1.5;
export const RSS_PER_OBJECT_TARGET = 10 * 1024;
export const RSS_PER_HOST_TARGET = 200 * 1024;
export const STATUS_WRITES_PER_OBJECT_TARGET = 2;

/** One fleet size's figures: medians over its rounds, the ratio's spread. */
export interface SizeFigures {
  hosts: number;
  objects: number;
  dockerFloorSeconds: number;
  apiFloorSeconds: number;
  dockyardSeconds: number;
  /** Dockyard / max(Docker floor, API floor), per round. */
  ratios: number[];
  ratio: { median: number; min: number; max: number };
  perObjectP50Seconds: number | undefined;
  perObjectP99Seconds: number | undefined;
  cpuMsPerObject: number;
  /** (RSS converged − RSS idle with the hosts registered) / objects. */
  rssBytesPerObject: number;
  heapBytesPerObject: number;
  idleRssBytes: number;
  apiRequestsPerObject: number;
  apiWritesPerObject: number;
  statusWritesPerObject: number;
  dockerCallsPerObject: number;
  dockerMutatingPerObject: number;
  dockerReadsPerObject: number;
  /** The headline's Docker calls per object by operation, heartbeats apart (the last round's). */
  dockerCallsByOperation: string;
  dockerUpkeepCalls: number;
  dockyardLeftovers: number;
  apiFloorWithFinalizers: number;
  /** The bench's event-loop delay during the Dockyard runs: how late the hollow hosts could answer. */
  benchLagP99Ms: number;
  benchLagMaxMs: number;
}

const med = (values: readonly number[]) => median(values) as number;

/** Medians over a size's rounds (each round is one full set: Docker floor, API floor, Dockyard). */
export function sizeFigures(size: SizeResult): SizeFigures {
  const rounds = size.rounds;
  const n = size.objects;
  const ratios = rounds.map((r) => r.dockyard.seconds / Math.max(r.docker.seconds, r.api.seconds));
  const perRound = (f: (r: SizeResult['rounds'][number]) => number) => med(rounds.map(f));
  const optional = (f: (r: SizeResult['rounds'][number]) => number | undefined) => {
    const values = rounds.map(f).filter((v): v is number => v !== undefined);
    return values.length > 0 ? med(values) : undefined;
  };
  return {
    hosts: size.hosts,
    objects: n,
    dockerFloorSeconds: perRound((r) => r.docker.seconds),
    apiFloorSeconds: perRound((r) => r.api.seconds),
    dockyardSeconds: perRound((r) => r.dockyard.seconds),
    ratios,
    ratio: { median: med(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    perObjectP50Seconds: optional((r) => r.dockyard.perObject?.p50),
    perObjectP99Seconds: optional((r) => r.dockyard.perObject?.p99),
    cpuMsPerObject: perRound((r) => (r.dockyard.cpuSeconds * 1000) / n),
    rssBytesPerObject: perRound((r) => (r.dockyard.converged.rssBytes - r.dockyard.idle.rssBytes) / n),
    heapBytesPerObject: perRound(
      (r) => (r.dockyard.converged.heapUsedBytes - r.dockyard.idle.heapUsedBytes) / n,
    ),
    idleRssBytes: perRound((r) => r.dockyard.idle.rssBytes),
    apiRequestsPerObject: perRound((r) => r.dockyard.api.requests / n),
    apiWritesPerObject: perRound((r) => r.dockyard.api.writes / n),
    statusWritesPerObject: perRound((r) => r.dockyard.api.statusWrites / n),
    dockerCallsPerObject: perRound((r) => (r.dockyard.docker.mutating + r.dockyard.docker.reads) / n),
    dockerMutatingPerObject: perRound((r) => r.dockyard.docker.mutating / n),
    dockerReadsPerObject: perRound((r) => r.dockyard.docker.reads / n),
    dockerCallsByOperation: byOperation(rounds[rounds.length - 1]?.dockyard.docker.byOperation, n),
    dockerUpkeepCalls: perRound((r) => r.dockyard.docker.upkeep),
    dockyardLeftovers: Math.max(...rounds.map((r) => r.dockyard.leftovers.dockyard)),
    apiFloorWithFinalizers: Math.max(...rounds.map((r) => r.api.withFinalizers)),
    benchLagP99Ms: perRound((r) => r.dockyard.benchLoopLag.p99Ms),
    benchLagMaxMs: Math.max(...rounds.map((r) => r.dockyard.benchLoopLag.maxMs)),
  };
}

/** `GET /containers/{id}/json` 4.1, … — per object, most first, heartbeat calls left out. */
function byOperation(calls: ReadonlyMap<string, number> | undefined, objects: number): string {
  return [...(calls ?? [])]
    .filter(([op]) => !isUpkeepOperation(op))
    .sort((a, b) => b[1] - a[1])
    .map(([op, count]) => `\`${op}\` ${Number((count / objects).toPrecision(2))}`)
    .join(', ');
}

const kib = (bytes: number) => bytes / 1024;
const s2 = (x: number) => Number(x.toPrecision(3));

function headlineRows(f: SizeFigures, rounds: number, rssPerHost: number): Row[] {
  const of = `${f.objects} containers on ${f.hosts} hosts`;
  return [
    {
      metric: `Docker floor: ${of}, direct dockerode (median of ${rounds})`,
      value: f.dockerFloorSeconds,
      unit: 's',
    },
    {
      metric: `API floor: ${f.objects} DockerContainers created, no controller`,
      value: f.apiFloorSeconds,
      unit: 's',
    },
    { metric: `Dockyard apply → all ${f.objects} Ready`, value: f.dockyardSeconds, unit: 's' },
    {
      metric: `Ratio Dockyard / max(floors), median of ${rounds} rounds`,
      value: f.ratio.median,
      target: `≤ ${SCALE_RATIO_TARGET}`,
      pass: atMost(f.ratio.median, SCALE_RATIO_TARGET),
    },
    { metric: 'Ratio spread over the rounds (min–max)', value: `${s2(f.ratio.min)}–${s2(f.ratio.max)}` },
    { metric: 'Dockyard apply → Ready per object p50', value: f.perObjectP50Seconds, unit: 's' },
    { metric: 'Dockyard apply → Ready per object p99', value: f.perObjectP99Seconds, unit: 's' },
    { metric: 'Controller CPU per object (first create → queue idle)', value: f.cpuMsPerObject, unit: 'ms' },
    {
      metric: 'RSS per object ((converged − idle with the hosts registered) / objects)',
      value: kib(f.rssBytesPerObject),
      unit: 'KiB',
      target: `≤ ${kib(RSS_PER_OBJECT_TARGET)} KiB`,
      pass: atMost(f.rssBytesPerObject, RSS_PER_OBJECT_TARGET),
    },
    { metric: 'V8 heap used per object (same window)', value: kib(f.heapBytesPerObject), unit: 'KiB' },
    {
      metric: 'RSS per host ((idle with the hosts − idle with no hosts) / hosts)',
      value: kib(rssPerHost),
      unit: 'KiB',
      target: `≤ ${kib(RSS_PER_HOST_TARGET)} KiB`,
      pass: atMost(rssPerHost, RSS_PER_HOST_TARGET),
    },
    { metric: "API requests per object (the bench's creates left out)", value: f.apiRequestsPerObject },
    { metric: "API writes per object (the bench's creates left out)", value: f.apiWritesPerObject },
    {
      metric: 'Status writes per object (PATCH|PUT dockercontainers/status)',
      value: f.statusWritesPerObject,
      target: `≤ ${STATUS_WRITES_PER_OBJECT_TARGET}`,
      pass: atMost(f.statusWritesPerObject, STATUS_WRITES_PER_OBJECT_TARGET),
    },
    { metric: 'Docker calls per object (hollow hosts, heartbeats apart)', value: f.dockerCallsPerObject },
    { metric: 'Docker calls per object by operation', value: f.dockerCallsByOperation },
    {
      metric: 'Docker mutating calls per object (expect 2: create, start)',
      value: f.dockerMutatingPerObject,
    },
    {
      metric: 'Docker heartbeat calls during the Dockyard run (ping, info, version, events)',
      value: f.dockerUpkeepCalls,
    },
    {
      metric:
        "Bench event-loop delay during the Dockyard run, p99 / max (the hollow hosts' answers are late by up to this)",
      value: `${Math.round(f.benchLagP99Ms)} ms / ${Math.round(f.benchLagMaxMs)} ms`,
    },
    {
      metric: 'Dockyard containers left on the hosts once their objects were gone',
      value: f.dockyardLeftovers,
      target: '0',
      pass: f.dockyardLeftovers === 0,
    },
    {
      metric: 'API floor objects with a finalizer before their deletion',
      value: f.apiFloorWithFinalizers,
      target: '0',
      pass: f.apiFloorWithFinalizers === 0,
    },
  ];
}

function curveRows(figures: readonly SizeFigures[]): Row[] {
  return figures.flatMap((f) => [
    {
      metric: `Curve, ${f.hosts} hosts (${f.objects} objects): Dockyard apply → all Ready`,
      value: f.dockyardSeconds,
      unit: 's',
    },
    {
      metric: `Curve, ${f.hosts} hosts: Docker floor / API floor`,
      value: `${s2(f.dockerFloorSeconds)} s / ${s2(f.apiFloorSeconds)} s`,
    },
    {
      metric: `Curve, ${f.hosts} hosts: ratio median (min–max)`,
      value: `${s2(f.ratio.median)} (${s2(f.ratio.min)}–${s2(f.ratio.max)})`,
    },
  ]);
}

function restartRows(restart: RestartRun | undefined, objects: number): Row[] {
  if (!restart) return [{ metric: 'Cold restart', value: 'not run' }];
  const mutations = restart.docker.mutating;
  return [
    {
      metric: `Cold restart (SIGKILL) over ${objects} objects: spawn → /readyz`,
      value: restart.readyzSeconds,
      unit: 's',
    },
    { metric: 'Cold restart: spawn → every object verified', value: restart.verifiedSeconds, unit: 's' },
    {
      metric: 'Cold restart: Docker mutations on the hosts',
      value: mutations,
      target: '0',
      pass: mutations === 0,
    },
    { metric: 'Cold restart: Docker reads on the hosts (heartbeats apart)', value: restart.docker.reads },
    { metric: 'Cold restart: API writes', value: restart.api.writes },
    { metric: 'Cold restart: controller CPU until verified', value: restart.cpuSeconds, unit: 's' },
  ];
}

/**
 * The sharding runs against the headline's single process (its median
 * Dockyard time): the speed-up, each replica's memory, and the killed run's
 * audit (no duplicate, no orphan, nothing missing).
 */
export function shardingRows(runs: ReadonlyArray<ShardedRun | FailedShardedRun>, single: SizeFigures): Row[] {
  if (runs.length === 0) return [{ metric: 'Sharding', value: 'not run (--scale-shards=1)' }];
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return runs.flatMap((run): Row[] => {
    if ('failed' in run) {
      const what = `${run.replicas} sharded replicas${run.kill ? ', one to be killed' : ''}`;
      return [{ metric: `${what}: converged`, value: `no: ${run.failed}`, target: 'yes', pass: false }];
    }
    const what = `${run.replicas} sharded replicas${run.killedAtReady !== undefined ? `, one killed at ${run.killedAtReady} Ready` : ''}`;
    const clean = run.duplicates + run.orphans + run.missing === 0;
    return [
      { metric: `${what}: apply → all Ready`, value: run.seconds, unit: 's' },
      {
        metric: `${what}: speed-up over one process (${single.dockyardSeconds.toFixed(1)} s)`,
        value: Number((single.dockyardSeconds / run.seconds).toFixed(2)),
        unit: '×',
      },
      { metric: `${what}: RSS per replica`, value: run.rssBytes.map(mb).join(' / '), unit: 'MiB' },
      {
        metric: `${what}: CPU per replica`,
        value: run.cpuSeconds.map((c) => c.toFixed(1)).join(' / '),
        unit: 's',
      },
      {
        metric: `${what}: duplicate / orphan / missing containers`,
        value: `${run.duplicates} / ${run.orphans} / ${run.missing}`,
        target: '0 / 0 / 0',
        pass: clean,
      },
    ];
  });
}

/** Maps become plain objects in the JSON. */
const plain = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v)));

export function scaleResult(input: {
  options: BenchOptions;
  sizes: SizeResult[];
  noHosts: SteadyMemory;
  startedAt: number;
  /** The headline fleet over sharded replicas (none with --scale-shards=1). */
  sharding?: Array<ShardedRun | FailedShardedRun>;
}): ScenarioResult {
  const { options, sizes, noHosts } = input;
  const figures = sizes.map(sizeFigures);
  const headline = figures[figures.length - 1] as SizeFigures;
  const headlineSize = sizes[sizes.length - 1] as SizeResult;
  const rssPerHost = (headline.idleRssBytes - noHosts.rssBytes) / headline.hosts;
  const restart = headlineSize.rounds[0]?.dockyard.restart;
  return {
    scenario: 'scale',
    title: `Scale (${headline.hosts} hollow hosts × 10 containers, ${options.scaleRounds} rounds, per-host ${options.scalePerHost}, workers ${options.scaleWorkers})`,
    parameters: {
      scaleHosts: options.scaleHosts,
      scaleRounds: options.scaleRounds,
      scalePerHost: options.scalePerHost,
      scaleWorkers: options.scaleWorkers,
      scaleShards: options.scaleShards,
      containersPerHost: 10,
      hollowLatencyMs: HOLLOW_LATENCY_MS,
      hollowJitterMs: HOLLOW_JITTER_MS,
    },
    rows: [
      ...headlineRows(headline, options.scaleRounds, rssPerHost),
      ...curveRows(figures),
      ...restartRows(restart, headline.objects),
      ...shardingRows(input.sharding ?? [], headline),
    ],
    data: {
      curve: figures.map((f) => ({
        hosts: f.hosts,
        objects: f.objects,
        dockyardSeconds: f.dockyardSeconds,
        dockerFloorSeconds: f.dockerFloorSeconds,
        apiFloorSeconds: f.apiFloorSeconds,
      })),
      figures,
      noHostsMemory: noHosts,
      rssPerHostBytes: rssPerHost,
      sizes: plain(sizes),
      sharding: input.sharding ?? [],
    },
    notes: [
      `Hollow hosts: in-memory Engine API servers (bench/hollow) at ${HOLLOW_LATENCY_MS} ± ${HOLLOW_JITTER_MS} ms per request, all in the bench's own process, which also runs the Docker floor's dockerode client and the watches: on a small machine they share its cores with kube-apiserver, etcd and the controller.`,
      `Rounds alternate: even rounds Docker floor → API floor → Dockyard, odd rounds Dockyard → API floor → Docker floor; the target is judged on the median ratio. Each phase starts with empty hosts and no DockerContainers; the Docker floor and the API floor run with no controller; each Dockyard run gets a fresh controller (--max-concurrent-reconciles=${options.scaleWorkers} --max-concurrent-reconciles-per-host=${options.scalePerHost}) waited until it reconciled every DockerHost and its DockerContainer queue is idle.`,
      'RSS per object = (median RSS after convergence, DockerContainer queue idle − median RSS of the same controller idle with the hosts registered and no containers) / objects. RSS per host = (that idle RSS − the RSS of a controller with no DockerHost at all) / hosts.',
      "API figures are apiserver_request_total deltas from before the first create to the queue idle, minus the bench's own creates and kube-apiserver's Lease renewals; they include the bench's watch and metric scrapes (a handful).",
      "Docker calls are counted by the hollow hosts themselves (per route); ping, version, info and event streams are the DockerHost heartbeat and are reported apart. Cold restart: the killed controller is replaced at once; mutations are the hosts' mutating requests from the kill until every object was verified (reconcile count ≥ objects and the DockerContainer queue idle).",
    ],
    startedAt: new Date(input.startedAt).toISOString(),
    durationSeconds: (Date.now() - input.startedAt) / 1000,
  };
}
