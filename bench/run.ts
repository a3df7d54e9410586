// `npm run bench`: Dockyard against the real local environment (kube-apiserver
// + etcd, Docker-in-Docker nodes, the built controller as its own process).
// Not part of `npm test`. See bench/README.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agent } from './scenarios/agent.js';
import { composeParity } from './scenarios/compose-parity.js';
import { convergence } from './scenarios/convergence.js';
import { dashboard } from './scenarios/dashboard.js';
import { drift } from './scenarios/drift.js';
import { idle } from './scenarios/idle.js';
import { latency } from './scenarios/latency.js';
import { memory } from './scenarios/memory.js';
import { noisy } from './scenarios/noisy.js';
import { restart } from './scenarios/restart.js';
import { rollout } from './scenarios/rollout.js';
import { scale } from './scenarios/scale.js';
import { SCALE_RATIO_TARGET } from './scenarios/scale-report.js';
import { signatures } from './scenarios/signatures.js';
import { Cleanup } from './support/cleanup.js';
import { inStep } from './support/deadline.js';
import { openControlPlaneSession, type ControlPlaneSession } from './support/control-plane-session.js';
import { prepareImages, type BenchImages } from './support/env.js';
import {
  HELP,
  HelpRequested,
  parseBenchArgs,
  type BenchOptions,
  type ControlPlaneScenarioName,
  type NodeScenarioName,
  type StandaloneScenarioName,
  type ScenarioName,
} from './support/options.js';
import { scaleChart } from './support/scale-chart.js';
import { ensureControlPlaneBinaries } from '../src/localenv/controlplane-binaries.js';
import {
  machineFacts,
  markdownTable,
  writeScenarioJson,
  writeSummary,
  type ScenarioResult,
} from './support/report.js';
import { openSession, type Session } from './support/session.js';
import { renderLineChart, type Series } from './support/svg.js';

const log = (m: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${m}`);

/** Scenarios that share one environment, in the order they run in it. */
const GROUPS: Array<
  | { name: string; scenarios: NodeScenarioName[]; controlPlaneOnly?: false }
  | { name: string; scenarios: ControlPlaneScenarioName[]; controlPlaneOnly: true }
  | { name: string; scenarios: StandaloneScenarioName[]; standalone: true }
> = [
  // idle directly after convergence (the "after convergence"); drift last: it restarts the controller.
  { name: 'containers', scenarios: ['convergence', 'idle', 'drift'] },
  // restart goes over the volumes memory created; the dashboard shows them afterwards.
  { name: 'volumes', scenarios: ['memory', 'restart', 'dashboard'] },
  // pauses a node: its own environment so nothing else sees the fault.
  { name: 'noisy', scenarios: ['noisy'] },
  // a DockerService replacing every replica: its own environment, no other objects around.
  { name: 'rollout', scenarios: ['rollout'] },
  // the same nodes reached directly, then through edge agents: nodes that can run an agent.
  { name: 'agent', scenarios: ['agent'] },
  // image signatures: an anonymous registry the nodes pull from, hosts with an imagePolicy.
  { name: 'signatures', scenarios: ['signatures'] },
  // one apply at a time on an idle controller and ONE real node: its own single-node environment.
  { name: 'latency', scenarios: ['latency'] },
  // hollow Docker hosts in this process: a control plane only, no Docker daemon or nodes.
  { name: 'scale', scenarios: ['scale'], controlPlaneOnly: true },
  // a test file at full scale: it starts its own environment, as in `npm test`.
  { name: 'compose-parity', scenarios: ['compose-parity'], standalone: true },
];

const CONTROL_PLANE_RUNNERS: Record<
  ControlPlaneScenarioName,
  (s: ControlPlaneSession) => Promise<ScenarioResult>
> = { scale };

const RUNNERS: Record<NodeScenarioName, (s: Session) => Promise<ScenarioResult>> = {
  convergence,
  idle,
  drift,
  memory,
  restart,
  noisy,
  rollout,
  dashboard,
  agent,
  signatures,
  latency,
};

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function convergenceChart(result: ScenarioResult): string {
  const data = result.data as Record<
    'direct' | 'dockyard' | 'dockyardDockerSide',
    { curves: Record<string, Array<[number, number]>> }
  >;
  const series: Series[] = [];
  const nodes = Object.keys(data.dockyard.curves).sort();
  nodes.forEach((node, i) => {
    const color = COLORS[i % COLORS.length] as string;
    series.push({ name: `Dockyard, ${node}`, color, points: data.dockyard.curves[node] ?? [] });
    series.push({
      name: `direct dockerode, ${node}`,
      color,
      dashed: true,
      points: data.direct.curves[node] ?? [],
    });
    series.push({
      name: `Dockyard started (Docker), ${node}`,
      color,
      dotted: true,
      points: data.dockyardDockerSide.curves[node] ?? [],
    });
  });
  return renderLineChart({
    title: result.title,
    xLabel: 'seconds since the first create',
    yLabel: 'containers running / Ready',
    series,
  });
}

/** Runs one scenario; records its result (JSON, chart, table) or its failure. */
async function runScenario(
  name: ScenarioName,
  run: () => Promise<ScenarioResult>,
  options: BenchOptions,
  results: ScenarioResult[],
  failures: string[],
): Promise<void> {
  log(`== ${name}`);
  try {
    // Every deadline inside names the scenario (and the step within it) it fired in.
    const result = await inStep(name, run);
    results.push(result);
    writeScenarioJson(options.out, result, machineFacts());
    if (name === 'convergence') writeFileSync(join(options.out, 'convergence.svg'), convergenceChart(result));
    if (name === 'scale')
      writeFileSync(join(options.out, 'scale.svg'), scaleChart(result, SCALE_RATIO_TARGET));
    console.log(`\n${markdownTable(result)}\n`);
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    log(`!! ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

/** A group on hollow hosts: one control plane, no Docker (bench/support/control-plane-session.ts). */
async function runControlPlaneGroup(
  group: { name: string; scenarios: ControlPlaneScenarioName[] },
  options: BenchOptions,
  cleanup: Cleanup,
  results: ScenarioResult[],
  failures: string[],
): Promise<void> {
  const wanted = group.scenarios.filter((s) => options.scenarios.includes(s));
  let session: ControlPlaneSession | undefined;
  try {
    await ensureControlPlaneBinaries(log);
    const opened = await openControlPlaneSession(group.name, options, cleanup, log);
    session = opened;
    for (const name of wanted)
      await runScenario(name, () => CONTROL_PLANE_RUNNERS[name](opened), options, results, failures);
  } catch (err) {
    environmentFailed(group.name, err, failures);
  } finally {
    await session?.close();
  }
}

async function runGroup(
  group: { name: string; scenarios: NodeScenarioName[] },
  options: BenchOptions,
  images: BenchImages,
  cleanup: Cleanup,
  results: ScenarioResult[],
  failures: string[],
): Promise<void> {
  const wanted = group.scenarios.filter((s) => options.scenarios.includes(s));
  if (wanted.length === 0) return;
  const profileDir =
    options.profile && wanted.includes('convergence') ? join(options.out, 'profiles') : undefined;
  let session: Session | undefined;
  try {
    session = await openSession(
      group.name,
      images,
      options,
      cleanup,
      log,
      {
        ...(profileDir ? { profileDir } : {}),
        // Forced GC + live heap for the memory figures.
        ...(wanted.includes('memory') ? { inspect: true } : {}),
        // The rollout replaces P replicas at once; with fewer DockerContainer
        // workers than P the controller, not the strategy, would set the pace.
        ...(wanted.includes('rollout')
          ? { workers: Math.max(options.concurrency, options.rolloutParallelism) }
          : {}),
      },
      {
        agents: wanted.includes('agent'),
        // DockerContainers' spec.image presents no credentials: the registry serves anyone.
        ...(wanted.includes('signatures') ? { registry: { anonymous: true } } : {}),
        // one apply on one node: a second node would only add a daemon to the machine.
        ...(wanted.includes('latency') ? { nodes: 1 } : {}),
      },
    );
    const opened = session;
    for (const name of wanted)
      await runScenario(name, () => RUNNERS[name](opened), options, results, failures);
  } catch (err) {
    environmentFailed(group.name, err, failures);
  } finally {
    await session?.close();
    if (profileDir)
      log(
        `CPU profiles in ${profileDir} (summarise with: npx tsx bench/support/profile-summary.ts FILE --own)`,
      );
  }
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(HELP);
      return 0;
    }
    console.error(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }
  mkdirSync(join(options.out, 'logs'), { recursive: true });
  const cleanup = new Cleanup(log);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up (controller, nodes, control plane)…`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  log(`bench: ${JSON.stringify(options)}`);
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  try {
    // The host Docker daemon and images only when a group with Docker nodes
    // runs: `--scenarios=scale` needs a control plane only, and must not
    // start (or stop) the machine's one host dockerd.
    let images: BenchImages | undefined;
    for (const group of GROUPS) {
      if (!group.scenarios.some((s) => options.scenarios.includes(s))) continue;
      if ('standalone' in group) {
        await runScenario('compose-parity', () => composeParity(log), options, results, failures);
        continue;
      }
      if (group.controlPlaneOnly) {
        await runControlPlaneGroup(group, options, cleanup, results, failures);
        continue;
      }
      if (!images) {
        images = await prepareImages(log);
        const prepared = images;
        // Registered before any node group's environment, so it runs after the
        // nodes and control planes are gone; stops the host daemon only if this run started it.
        cleanup.add('host dockerd', () => prepared.hostDocker.stop());
      }
      await runGroup(group, options, images, cleanup, results, failures);
    }
  } finally {
    await cleanup.runAll();
  }
  const order = GROUPS.flatMap((g) => g.scenarios);
  results.sort(
    (a, b) => order.indexOf(a.scenario as ScenarioName) - order.indexOf(b.scenario as ScenarioName),
  );
  const summary = writeSummary(options.out, results, machineFacts());
  log(
    `wrote ${summary} (${results.length} scenarios) in ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  );
  for (const f of failures) log(`FAILED ${f}`);
  return failures.length > 0 ? 1 : 0;
}

// Exit explicitly: everything the run started is already cleaned up, and a
// client library's idle keep-alive socket or timer must not hold the process.
process.exit(await main());

/** A group's environment could not be set up: its scenarios fail, named, and the rest go on. */
function environmentFailed(group: string, err: unknown, failures: string[]): void {
  failures.push(`${group} environment: ${err instanceof Error ? err.message : String(err)}`);
  log(
    `!! environment for ${group} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
}
