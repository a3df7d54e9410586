// Scale: Dockyard's DockerContainer controller over a fleet of hollow Docker
// hosts (bench/hollow: in-memory Engine API servers at 100 ± 20 ms, in the
// bench's process), 10 containers per host, against two floors measured in
// the same run on the same machine: the Docker floor (the same containers
// created and started straight through dockerode, the same per-host
// concurrency, every host at once) and the API floor (the same objects
// created with no controller running). Per fleet size, --scale-rounds rounds
// in alternating order; the largest size is the headline, and after its first
// round's convergence the controller is killed and a new one verifies the
// objects (the first round, so with --profile the later rounds' controllers
// end gracefully and write their CPU profiles; a killed one writes none). Needs a control plane only (bench/support/control-plane-session.ts).

import { join } from 'node:path';
import type { Log } from '../support/cleanup.js';
import type { ControlPlaneSession } from '../support/control-plane-session.js';
import type { ControllerSettings } from '../support/controller.js';
import { scaleItems } from '../support/scale-api.js';
import { steadyMemory, type SteadyMemory } from '../support/scale-controller.js';
import { registerHollowHosts, startScaleFleet, type ScaleFleet } from '../support/scale-fleet.js';
import {
  apiFloor,
  dockerFloor,
  dockyardRun,
  type ApiFloorRun,
  type DockerFloorRun,
  type DockyardRun,
  type ScaleContext,
} from '../support/scale-phases.js';
import type { ScenarioResult } from '../support/report.js';
import { shardedRun, type FailedShardedRun, type ShardedRun } from '../support/scale-shards.js';
import { scaleResult } from './scale-report.js';

export const SCALE_NAMESPACE = 'bench-scale';
/** The fleet: 10 DockerContainers per host. */
export const CONTAINERS_PER_HOST = 10;

export type ScalePhase = 'docker' | 'api' | 'dockyard';

/**
 * Even rounds floors first, odd rounds Dockyard first (the API floor in the
 * middle, so it needs no controller stopped or started around it): whatever
 * drifts on the machine during a run hits both sides alike.
 */
export function roundOrder(round: number): ScalePhase[] {
  return round % 2 === 0 ? ['docker', 'api', 'dockyard'] : ['dockyard', 'api', 'docker'];
}

export interface RoundResult {
  round: number;
  order: ScalePhase[];
  docker: DockerFloorRun;
  api: ApiFloorRun;
  dockyard: DockyardRun;
}

export interface SizeResult {
  hosts: number;
  objects: number;
  /** DockerHosts created (the ones smaller sizes had not) and waited until Ready. */
  registerSeconds: number;
  rounds: RoundResult[];
}

/** Bound of every wait of a phase: generous, the bench must fail on a stall, not on a slow machine. */
export const phaseTimeoutMs = (objects: number) => 180_000 + objects * 60;

async function runRound(ctx: ScaleContext, round: number, label: string, restart: boolean) {
  const runs: Partial<Omit<RoundResult, 'round' | 'order'>> = {};
  const order = roundOrder(round);
  for (const phase of order) {
    ctx.session.log(
      `${label}: ${phase === 'docker' ? 'Docker floor' : phase === 'api' ? 'API floor' : 'Dockyard'}`,
    );
    if (phase === 'docker') runs.docker = await dockerFloor(ctx, `${label} Docker floor`);
    else if (phase === 'api') runs.api = await apiFloor(ctx, `${label} API floor`);
    else runs.dockyard = await dockyardRun(ctx, `${label} Dockyard`, { restart });
  }
  return { round, order, ...(runs as Omit<RoundResult, 'round' | 'order'>) };
}

/**
 * The DockerHosts this size adds, created and waited until Ready by a
 * controller started for it (and stopped after: every timed phase starts
 * with no controller, or with a fresh one).
 */
async function registerSize(ctx: ScaleContext, settings: Partial<ControllerSettings>): Promise<number> {
  const t0 = performance.now();
  const controller = await ctx.session.startController(settings);
  try {
    await registerHollowHosts(ctx.session.kube, ctx.hosts, ctx.timeoutMs, ctx.session.log);
    // With --profile: what a controller holds for its hosts alone (no containers yet).
    if (settings.profileDir)
      ctx.session.log(`[scale] ${ctx.hosts.length} hosts: heap snapshot ${await controller.heapSnapshot()}`);
  } finally {
    await controller.stop();
  }
  return (performance.now() - t0) / 1000;
}

/** What every phase of one fleet size works with. */
function contextFor(
  session: ControlPlaneSession,
  fleet: ScaleFleet,
  hostCount: number,
  controllerSettings: Partial<ControllerSettings>,
): ScaleContext {
  const hosts = fleet.hosts.slice(0, hostCount);
  const items = scaleItems(
    hosts.map((h) => h.name),
    CONTAINERS_PER_HOST,
  );
  return {
    session,
    fleet,
    namespace: SCALE_NAMESPACE,
    hosts,
    items,
    perHost: session.options.scalePerHost,
    controllerSettings,
    timeoutMs: phaseTimeoutMs(items.length),
  };
}

async function runSize(
  session: ControlPlaneSession,
  fleet: ScaleFleet,
  hostCount: number,
  settings: { base: Partial<ControllerSettings>; timed: Partial<ControllerSettings> },
  headline: boolean,
): Promise<SizeResult> {
  const { options, log } = session;
  const ctx = contextFor(session, fleet, hostCount, settings.timed);
  const items = ctx.items;
  log(`[scale] ${hostCount} hosts: registering DockerHosts`);
  const registerSeconds = await registerSize(ctx, settings.base);
  const rounds: RoundResult[] = [];
  for (let r = 0; r < options.scaleRounds; r++) {
    const label = `[scale] ${hostCount} hosts, round ${r + 1}/${options.scaleRounds}`;
    rounds.push(await runRound(ctx, r, label, headline && r === 0));
  }
  return { hosts: hostCount, objects: items.length, registerSeconds, rounds };
}

/** RSS of a settled controller with no DockerHost at all: the base of the per-host figure. */
async function noHostsMemory(
  session: ControlPlaneSession,
  settings: Partial<ControllerSettings>,
  log: Log,
): Promise<SteadyMemory> {
  log('[scale] controller with no DockerHosts: reading its memory');
  const controller = await session.startController(settings);
  try {
    return await steadyMemory(controller);
  } finally {
    await controller.stop();
  }
}

/**
 * The headline fleet over --scale-shards sharded replicas: undisturbed, then
 * with one replica killed at half Ready (none with --scale-shards=1).
 */
async function shardingRuns(ctx: ScaleContext): Promise<Array<ShardedRun | FailedShardedRun>> {
  const replicas = ctx.session.options.scaleShards;
  if (replicas < 2) return [];
  const runs: Array<ShardedRun | FailedShardedRun> = [];
  for (const kill of [false, true]) {
    const label = `[scale] ${ctx.hosts.length} hosts over ${replicas} sharded replicas${kill ? ', one killed' : ''}`;
    ctx.session.log(label);
    try {
      runs.push(await shardedRun(ctx, label, { replicas, kill }));
    } catch (err) {
      // Reported as a failed row beside the headline's figures, which stand on their own.
      // Its objects may be left half done: no further sharding run on top of them.
      const failed = err instanceof Error ? err.message : String(err);
      ctx.session.log(`${label}: failed: ${failed}`);
      runs.push({ replicas, kill, failed });
      break;
    }
  }
  return runs;
}

export async function scale(session: ControlPlaneSession): Promise<ScenarioResult> {
  const { options, log, cleanup, kube } = session;
  const startedAt = Date.now();
  const largest = Math.max(...options.scaleHosts);
  const base: Partial<ControllerSettings> = {
    workers: options.scaleWorkers,
    perHostWorkers: options.scalePerHost,
  };
  const profileDir = options.profile ? join(options.out, 'profiles') : undefined;
  const fleet = await startScaleFleet(largest, cleanup, log);
  try {
    await kube.namespace(SCALE_NAMESPACE);
    const noHosts = await noHostsMemory(session, base, log);
    const sizes: SizeResult[] = [];
    for (const hosts of options.scaleHosts) {
      const headline = hosts === largest;
      // The headline's Dockyard runs are the ones worth a CPU profile (--profile).
      const timed = headline && profileDir ? { ...base, profileDir } : base;
      // The headline's registering controller writes a heap snapshot of its hosts alone (--profile).
      const register = headline && profileDir ? { ...base, profileDir } : base;
      sizes.push(await runSize(session, fleet, hosts, { base: register, timed }, headline));
    }
    const sharding = await shardingRuns(contextFor(session, fleet, largest, base));
    return scaleResult({ options, sizes, noHosts, startedAt, sharding });
  } finally {
    await fleet.stop();
  }
}
