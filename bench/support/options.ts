// `npm run bench -- --flag=value …`: pure parsing of the benchmark's flags.

import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'convergence',
  'drift',
  'idle',
  'memory',
  'restart',
  'noisy',
  'rollout',
  'dashboard',
  'agent',
  'signatures',
  'latency',
  'scale',
  'compose-parity',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Scenarios on hollow Docker hosts: a control plane only, no Docker daemon or nodes (bench/run.ts). */
export const CONTROL_PLANE_SCENARIOS = ['scale'] as const satisfies readonly ScenarioName[];
export type ControlPlaneScenarioName = (typeof CONTROL_PLANE_SCENARIOS)[number];
/** Scenarios that bring up their own environment (a test file run at full scale, bench/scenarios/compose-parity.ts). */
export const STANDALONE_SCENARIOS = ['compose-parity'] as const satisfies readonly ScenarioName[];
export type StandaloneScenarioName = (typeof STANDALONE_SCENARIOS)[number];
export type NodeScenarioName = Exclude<ScenarioName, ControlPlaneScenarioName | StandaloneScenarioName>;

/** The controller's own default (--max-concurrent-reconciles, src/cli/controller-options.ts). */
export const CONTROLLER_DEFAULT_WORKERS = 4;

/** DockerService spec.replicas' maximum (src/crds/dockerservice.ts). */
const MAX_SERVICE_REPLICAS = 1000;

export interface BenchOptions {
  scenarios: ScenarioName[];
  /** Containers in the convergence and noisy-neighbour scenarios (spread over the nodes). */
  n: number;
  nodes: number;
  /**
   * Workers on both sides: the controller's --max-concurrent-reconciles and
   * the direct dockerode baseline's number of create+start calls in flight.
   */
  concurrency: number;
  /**
   * Alternating rounds (direct, then Dockyard) in convergence and rollout;
   * the Dockyard / direct ratio is judged on the rounds' median.
   */
  rounds: number;
  drift: number;
  /** Drift samples in poll-only mode (each waits up to a poll interval, so fewer by default). */
  driftPollOnly: number;
  /** --sync-period of the poll-only drift run. */
  pollSyncPeriod: string;
  idleSeconds: number;
  memorySteps: number[];
  restartObjects: number;
  noisyFault: 'pause' | 'halt';
  /** Replicas of the rollout scenario's DockerService. */
  rolloutReplicas: number;
  /**
   * The rollout's maxUnavailable (StopFirst, maxSurge 0): replicas replaced at
   * once, and the direct baseline's stop+remove+create+start sequences in flight.
   */
  rolloutParallelism: number;
  /** Containers the agent scenario converges, directly and then through agents. */
  agentN: number;
  /** Seconds the agents' idle CPU and RSS are sampled. */
  agentIdleSeconds: number;
  /** DockerVolumes the dashboard scenario renders (grown to when fewer exist). */
  dashboardObjects: number;
  /** Tabs open at once in the dashboard scenario's watch count. */
  dashboardTabs: number;
  /** Status → browser samples (one new DockerVolume each). */
  dashboardLatencySamples: number;
  /** Distinct signed images whose admission is timed cold, then cached, in the bench process. */
  signatureImages: number;
  /** DockerContainers of one signed image, through the controller (one verification expected). */
  signatureContainers: number;
  /** Single-apply samples on an idle controller and one real node, each side (latency scenario). */
  latencySamples: number;
  /** Hollow fleet sizes of the scale scenario, ascending; the largest is the headline run. */
  scaleHosts: number[];
  /** Rounds of floors and Dockyard run, in alternating order, per fleet size. */
  scaleRounds: number;
  /** Per-host concurrency: the controller's --max-concurrent-reconciles-per-host and the Docker floor's. */
  scalePerHost: number;
  /** The scale controller's --max-concurrent-reconciles (over all hosts). */
  scaleWorkers: number;
  /** Sharded replicas (--shards, one shard each) of the headline size's sharding runs; 1: none. */
  scaleShards: number;
  profile: boolean;
  out: string;
  /** The built controller entry point (another build for before/after comparisons). */
  controller: string;
}

function positiveInt(flag: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min)
    throw new Error(`--${flag} wants a whole number ≥ ${min}, got ${value}`);
  return n;
}

/** Hollow hosts per scale run (a hollow host holds one listening socket; 5,000 stay inside ulimit -n). */
const MAX_SCALE_HOSTS = 5000;

/** --scale-hosts=10,100,1000: distinct sizes, ascending (the last is the headline run). */
function scaleHosts(value: string | undefined): number[] {
  const sizes = (value ?? '10,100,1000').split(',').map((s) => {
    const n = Number(s.trim());
    if (!/^\d+$/.test(s.trim()) || n < 1 || n > MAX_SCALE_HOSTS)
      throw new Error(`--scale-hosts wants whole numbers 1..${MAX_SCALE_HOSTS}, got ${s}`);
    return n;
  });
  return [...new Set(sizes)].sort((a, b) => a - b);
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      scenarios: { type: 'string' },
      n: { type: 'string' },
      nodes: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      drift: { type: 'string' },
      'drift-poll-only': { type: 'string' },
      'poll-sync-period': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'memory-steps': { type: 'string' },
      'restart-objects': { type: 'string' },
      'noisy-fault': { type: 'string' },
      'rollout-replicas': { type: 'string' },
      'rollout-parallelism': { type: 'string' },
      'agent-n': { type: 'string' },
      'agent-idle-seconds': { type: 'string' },
      'dashboard-objects': { type: 'string' },
      'dashboard-tabs': { type: 'string' },
      'dashboard-latency-samples': { type: 'string' },
      'signature-images': { type: 'string' },
      'signature-containers': { type: 'string' },
      'latency-samples': { type: 'string' },
      'scale-hosts': { type: 'string' },
      'scale-rounds': { type: 'string' },
      'scale-per-host': { type: 'string' },
      'scale-workers': { type: 'string' },
      'scale-shards': { type: 'string' },
      profile: { type: 'boolean' },
      out: { type: 'string' },
      controller: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new HelpRequested();
  const scenarios = (values.scenarios ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) {
      throw new Error(`unknown scenario ${s}; choose from ${SCENARIOS.join(', ')}`);
    }
  }
  const memorySteps = (values['memory-steps'] ?? '0,1000,5000').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--memory-steps wants whole numbers, got ${s}`);
    return n;
  });
  const noisyFault = values['noisy-fault'] ?? 'pause';
  if (noisyFault !== 'pause' && noisyFault !== 'halt') throw new Error('--noisy-fault is pause or halt');
  const nodes = positiveInt('nodes', values.nodes, 2, 2);
  const drift = positiveInt('drift', values.drift, 50);
  const rolloutReplicas = positiveInt('rollout-replicas', values['rollout-replicas'], 100, 2);
  if (rolloutReplicas > MAX_SERVICE_REPLICAS)
    throw new Error(`--rollout-replicas is at most ${MAX_SERVICE_REPLICAS} (DockerService spec.replicas)`);
  // 10 % of the replicas by default: 100 → 10, as the example.
  const rolloutParallelism = positiveInt(
    'rollout-parallelism',
    values['rollout-parallelism'],
    Math.max(1, Math.floor(rolloutReplicas / 10)),
  );
  if (rolloutParallelism >= rolloutReplicas)
    throw new Error(
      '--rollout-parallelism must be below --rollout-replicas (the availability floor is N − P)',
    );
  return {
    scenarios: scenarios as ScenarioName[],
    n: positiveInt('n', values.n, 200, 2),
    nodes,
    concurrency: positiveInt('concurrency', values.concurrency, CONTROLLER_DEFAULT_WORKERS),
    rounds: positiveInt('rounds', values.rounds, 3),
    drift,
    driftPollOnly: positiveInt('drift-poll-only', values['drift-poll-only'], Math.min(drift, 20)),
    pollSyncPeriod: values['poll-sync-period'] ?? '5s',
    idleSeconds: positiveInt('idle-seconds', values['idle-seconds'], 120),
    memorySteps: [...new Set([0, ...memorySteps])].sort((a, b) => a - b),
    restartObjects: positiveInt('restart-objects', values['restart-objects'], 5000),
    noisyFault,
    rolloutReplicas,
    rolloutParallelism,
    agentN: positiveInt('agent-n', values['agent-n'], 100, 2),
    agentIdleSeconds: positiveInt('agent-idle-seconds', values['agent-idle-seconds'], 30),
    dashboardObjects: positiveInt('dashboard-objects', values['dashboard-objects'], 5000),
    dashboardTabs: positiveInt('dashboard-tabs', values['dashboard-tabs'], 20, 2),
    dashboardLatencySamples: positiveInt(
      'dashboard-latency-samples',
      values['dashboard-latency-samples'],
      20,
    ),
    signatureImages: positiveInt('signature-images', values['signature-images'], 20),
    signatureContainers: positiveInt('signature-containers', values['signature-containers'], 1000, 2),
    latencySamples: positiveInt('latency-samples', values['latency-samples'], 50),
    scaleHosts: scaleHosts(values['scale-hosts']),
    scaleRounds: positiveInt('scale-rounds', values['scale-rounds'], 3),
    scalePerHost: positiveInt('scale-per-host', values['scale-per-host'], 4),
    scaleWorkers: positiveInt('scale-workers', values['scale-workers'], 2000),
    scaleShards: positiveInt('scale-shards', values['scale-shards'], 3),
    profile: values.profile ?? false,
    out: values.out ?? 'bench/results',
    controller: values.controller ?? 'dist/main.js',
  };
}

export class HelpRequested extends Error {}

export const HELP = `npm run bench -- [flags]

  --scenarios=LIST        ${SCENARIOS.join(',')} (default: all)
  --n=200                 containers for convergence and noisy (spread evenly over the nodes)
  --nodes=2               Docker-in-Docker nodes
  --concurrency=${CONTROLLER_DEFAULT_WORKERS}           controller --max-concurrent-reconciles AND direct-dockerode calls in flight
                          (default: the controller's own default, so both sides get the same parallelism)
  --rounds=3              alternating direct/Dockyard rounds in convergence and rollout (ratio judged on the median)
  --drift=50              containers removed out of band (event-stream run)
  --drift-poll-only=20    containers removed in the poll-only run (default min(drift, 20))
  --poll-sync-period=5s   --sync-period of the poll-only run
  --idle-seconds=120      idle window after convergence
  --memory-steps=0,1000,5000  DockerVolume counts at which the controller's RSS is read
  --restart-objects=5000  converged DockerVolumes the restarted controller must verify
  --noisy-fault=pause     how the neighbour is made bad: pause (hangs) or halt (refuses)
  --rollout-replicas=100  replicas of the rollout scenario's DockerService (spread over the nodes)
  --rollout-parallelism=P its maxUnavailable with StopFirst and maxSurge 0 (default: 10 % of the
                          replicas) AND the direct baseline's stop+remove+create+start sequences in flight
  --agent-n=100           containers the agent scenario converges directly, then through agents
  --agent-idle-seconds=30 how long the agents' idle CPU and RSS are sampled
  --dashboard-objects=5000  DockerVolumes the dashboard renders (grown to when fewer exist)
  --dashboard-tabs=20     tabs open at once when the dashboard's API server watches are counted
  --dashboard-latency-samples=20  new DockerVolumes timed from Ready status to the browser showing it
  --signature-images=20   distinct signed images whose admission is timed cold, then cached (1,000 admissions)
  --signature-containers=1000  DockerContainers of one signed image (one signature verification expected)
  --latency-samples=50    single DockerContainer applies → Ready (and direct create+start) on an idle controller
  --scale-hosts=10,100,1000  hollow Docker hosts per scale run, 10 containers each (the largest is the headline)
  --scale-rounds=3        rounds of Docker floor, API floor and Dockyard run, alternating order (median reported)
  --scale-per-host=4      per-host concurrency: controller --max-concurrent-reconciles-per-host AND the Docker floor's
  --scale-workers=2000    the scale controller's --max-concurrent-reconciles (over all hosts)
  --scale-shards=3        the headline size again over this many sharded replicas (--shards, separate
                          processes), once undisturbed and once with one replica killed mid-run; 1: skip
  --profile               CPU-profile the controller in the convergence scenario (and the scale headline runs)
  --out=bench/results     where JSON, summary.md, convergence.svg and profiles go
  --controller=dist/main.js   the built controller to run (e.g. another build, for before/after)
`;
