// `npm run bench`: Dockyard against the real local environment (kube-apiserver
// + etcd, Docker-in-Docker nodes, the built controller as its own process).
// Not part of `npm test`. See bench/README.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agent } from './scenarios/agent.js';
import { convergence } from './scenarios/convergence.js';
import { dashboard } from './scenarios/dashboard.js';
import { drift } from './scenarios/drift.js';
import { idle } from './scenarios/idle.js';
import { memory } from './scenarios/memory.js';
import { noisy } from './scenarios/noisy.js';
import { restart } from './scenarios/restart.js';
import { rollout } from './scenarios/rollout.js';
import { signatures } from './scenarios/signatures.js';
import { Cleanup } from './support/cleanup.js';
import { prepareImages } from './support/env.js';
import {
  HELP,
  HelpRequested,
  parseBenchArgs,
  type BenchOptions,
  type ScenarioName,
} from './support/options.js';
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
const GROUPS: Array<{ name: string; scenarios: ScenarioName[] }> = [
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
];

const RUNNERS: Record<ScenarioName, (s: Session) => Promise<ScenarioResult>> = {
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

async function runGroup(
  group: (typeof GROUPS)[number],
  options: BenchOptions,
  images: Awaited<ReturnType<typeof prepareImages>>,
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
      },
    );
    for (const name of wanted) {
      log(`== ${name}`);
      try {
        const result = await RUNNERS[name](session);
        results.push(result);
        const machine = machineFacts();
        writeScenarioJson(options.out, result, machine);
        if (name === 'convergence')
          writeFileSync(join(options.out, 'convergence.svg'), convergenceChart(result));
        console.log(`\n${markdownTable(result)}\n`);
      } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        log(`!! ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  } catch (err) {
    failures.push(`${group.name} environment: ${err instanceof Error ? err.message : String(err)}`);
    log(
      `!! environment for ${group.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
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
    const images = await prepareImages(log);
    // Registered first, so it runs after the nodes and control planes are gone;
    // stops the host daemon only if this run started it.
    cleanup.add('host dockerd', () => images.hostDocker.stop());
    for (const group of GROUPS) await runGroup(group, options, images, cleanup, results, failures);
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
