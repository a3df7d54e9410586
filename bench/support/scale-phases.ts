// The three timed phases of one scale round and the cold restart:
//   Docker floor   the same containers created and started straight through
//                  dockerode on the same hollow hosts, the same per-host
//                  concurrency, every host at once; no controller running;
//   API floor      the same DockerContainer objects created in the API server
//                  with no controller running, then deleted;
//   Dockyard       the objects applied to a settled controller, timed until a
//                  watch shows every one Ready; then deleted through it.
// Every phase starts with empty hosts and no DockerContainers, and leaves
// them so.

import Dockerode from 'dockerode';
import { WORKLOAD_IMAGE } from '../../src/localenv/images.js';
import type { Sample } from '../../test/support/prometheus.js';
import type { HollowHost } from '../hollow/index.js';
import { deadlineDocker } from './clients.js';
import type { ControlPlaneSession } from './control-plane-session.js';
import type { ControllerProcess, ControllerSettings } from './controller.js';
import { inStep, withProgress } from './deadline.js';
import { mapLimit } from './pool.js';
import { ReadyTracker } from './ready-tracker.js';
import {
  apiRequestsBetween,
  applyWithProgress,
  countWithFinalizers,
  deleteContainers,
  type ApiRequests,
  type ScaleItem,
} from './scale-api.js';
import {
  reconcilesOf,
  startSettledController,
  steadyMemory,
  waitContainersIdle,
  waitOnController,
  type SteadyMemory,
} from './scale-controller.js';
import {
  dockerCalls,
  emptyHosts,
  watchLoopLag,
  type DockerCalls,
  type Emptied,
  type LoopLag,
  type ScaleFleet,
} from './scale-fleet.js';
import { cumulative, summarize, type Summary } from './stats.js';

const names = (items: readonly ScaleItem[]) => items.map((item) => item.name);

/** What every phase of one fleet size works with. */
export interface ScaleContext {
  session: ControlPlaneSession;
  fleet: ScaleFleet;
  namespace: string;
  /** The size's hosts (the first N of the fleet) and its objects. */
  hosts: HollowHost[];
  items: ScaleItem[];
  /** Per-host concurrency of the Docker floor and of the controller's lanes. */
  perHost: number;
  controllerSettings: Partial<ControllerSettings>;
  /** Bound of every wait of a phase (apply → Ready, deletions, settling). */
  timeoutMs: number;
}

export interface DockerFloorRun {
  seconds: number;
  /** The bench's own event-loop delay while it ran (the hollow hosts answer from that loop). */
  benchLoopLag: LoopLag;
  calls: DockerCalls;
  perObject: Summary | undefined;
}

/** Docker floor: create + start per container, `perHost` in flight on each host, all hosts at once. */
export async function dockerFloor(ctx: ScaleContext, label: string): Promise<DockerFloorRun> {
  const byHost = new Map<string, ScaleItem[]>();
  for (const item of ctx.items) byHost.set(item.host, [...(byHost.get(item.host) ?? []), item]);
  const before = ctx.fleet.fleet.requestTotals();
  const took: number[] = [];
  const lag = watchLoopLag();
  const t0 = performance.now();
  await inStep(label, () =>
    withProgress({ label, total: ctx.items.length, verb: 'started', log: ctx.session.log }, (p) =>
      Promise.all(
        ctx.hosts.map((host) => {
          const docker = deadlineDocker(
            new Dockerode({ host: '127.0.0.1', port: host.port, protocol: 'http' }),
            host.name,
          );
          return mapLimit(byHost.get(host.name) ?? [], ctx.perHost, async (item) => {
            const started = performance.now();
            const container = await docker.createContainer({
              name: `floor-${item.name}`,
              Image: WORKLOAD_IMAGE,
              Cmd: ['sleep', '86400'],
              Labels: { 'dockyard.bench': 'floor' },
            });
            await container.start();
            took.push((performance.now() - started) / 1000);
            p.tick();
          });
        }),
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const benchLoopLag = lag.stop();
  const calls = dockerCalls(before, ctx.fleet.fleet.requestTotals());
  emptyHosts(ctx.hosts); // the bench's own containers: gone without a request
  return { seconds, benchLoopLag, calls, perObject: summarize(took) };
}

export interface ApiFloorRun {
  seconds: number;
  /** Objects that had a finalizer before the deletion (must be 0: no controller ran). */
  withFinalizers: number;
  api: ApiRequests;
}

/** API floor: the DockerContainers created with no controller running; then deleted (nothing holds them). */
export async function apiFloor(ctx: ScaleContext, label: string): Promise<ApiFloorRun> {
  const { session, namespace, items } = ctx;
  return inStep(label, async () => {
    const before = await session.apiServerMetrics();
    const t0 = performance.now();
    await applyWithProgress(session.kube, namespace, items, label, session.log);
    const seconds = (performance.now() - t0) / 1000;
    const after = await session.apiServerMetrics();
    const withFinalizers = await countWithFinalizers(session.kube, namespace);
    await deleteContainers(session.kube, namespace, names(items), {
      label: `${label}: deleting`,
      timeoutMs: ctx.timeoutMs,
      log: session.log,
    });
    return { seconds, withFinalizers, api: apiRequestsBetween(before, after, items.length) };
  });
}

export interface DockyardRun {
  /** First create → the last object seen Ready. */
  seconds: number;
  /** First create → the last create answered. */
  applySeconds: number;
  /** Per object: its create request → first seen Ready. */
  perObject: Summary | undefined;
  /** Seconds since the first create → objects Ready. */
  curve: Array<[number, number]>;
  /** Controller CPU from the first create until its DockerContainer queue was idle again. */
  cpuSeconds: number;
  /** The bench's own event-loop delay from the first create until all Ready (the hollow hosts' loop). */
  benchLoopLag: LoopLag;
  idle: SteadyMemory;
  converged: SteadyMemory;
  api: ApiRequests;
  docker: DockerCalls;
  /** DockerContainer reconciles, apply → idle. */
  reconciles: number;
  /** What was left on the hosts once every DockerContainer was gone (expect 0 Dockyard containers). */
  leftovers: Emptied;
  cleanupSeconds: number;
  restart?: RestartRun;
}

interface Snapshot {
  api: Sample[];
  hollow: Map<string, number>;
  controller: Sample[];
  cpuSeconds: number;
}

async function snapshot(ctx: ScaleContext, controller: ControllerProcess): Promise<Snapshot> {
  return {
    api: await ctx.session.apiServerMetrics(),
    hollow: ctx.fleet.fleet.requestTotals(),
    controller: await controller.metrics(),
    cpuSeconds: controller.cpuSeconds(),
  };
}

/** Applies every object to a running, settled controller and waits until all are Ready. */
async function applyUntilReady(
  ctx: ScaleContext,
  label: string,
): Promise<{
  t0: number;
  applySeconds: number;
  appliedAt: Map<string, number>;
  readyAt: Map<string, number>;
  benchLoopLag: LoopLag;
}> {
  const { session, namespace, items } = ctx;
  // Its list and watch connects have their own deadlines; its wait fails on a
  // stall (no object Ready for 120 s) naming objects that are not Ready.
  const tracker = await new ReadyTracker(session.cp.kubeConfig(), 'DockerContainer', namespace).start();
  const lag = watchLoopLag();
  try {
    const t0 = performance.now();
    const appliedAt = await applyWithProgress(session.kube, namespace, items, `${label} apply`, session.log);
    const applySeconds = (performance.now() - t0) / 1000;
    await tracker.waitAllReady(
      items.map((item) => item.name),
      Math.max(1, ctx.timeoutMs - applySeconds * 1000),
      `${items.length} DockerContainers in ${namespace} to be Ready`,
      { log: session.log, label },
    );
    return { t0, applySeconds, appliedAt, readyAt: new Map(tracker.readyAt), benchLoopLag: lag.stop() };
  } finally {
    lag.stop();
    tracker.stop();
  }
}

/** Dockyard: a settled controller, the apply timed until all Ready, figures read, objects deleted through it. */
export async function dockyardRun(
  ctx: ScaleContext,
  label: string,
  opts: { restart: boolean },
): Promise<DockyardRun> {
  const { session } = ctx;
  let controller = await startSettledController(
    session,
    ctx.controllerSettings,
    ctx.hosts,
    label,
    ctx.timeoutMs,
  );
  try {
    return await inStep(label, async () => {
      const idle = await steadyMemory(controller);
      const before = await snapshot(ctx, controller);
      const applied = await applyUntilReady(ctx, label);
      await waitContainersIdle(controller, label, ctx.timeoutMs, session.log);
      const after = await snapshot(ctx, controller);
      const converged = await steadyMemory(controller);
      const run = dockyardFigures(ctx, applied, before, after, { idle, converged });
      // With --profile, what the converged controller holds (after its figures: a snapshot grows RSS).
      if (opts.restart && ctx.controllerSettings.profileDir)
        session.log(`${label}: heap snapshot ${await controller.heapSnapshot()}`);
      if (opts.restart) {
        // A SIGKILLed process writes no CPU profile: the profiled one stops
        // cleanly, and an unprofiled one over the converged objects is the one killed.
        if (ctx.controllerSettings.profileDir) controller = await replaceProfiled(ctx, controller, label);
        const restarted = await coldRestart(ctx, controller, `${label} restart`);
        controller = restarted.controller;
        run.restart = restarted.run;
      }
      const t = performance.now();
      await deleteContainers(session.kube, ctx.namespace, names(ctx.items), {
        label: `${label}: deleting`,
        timeoutMs: ctx.timeoutMs,
        log: session.log,
      });
      run.leftovers = emptyHosts(ctx.hosts);
      run.cleanupSeconds = (performance.now() - t) / 1000;
      return run;
    });
  } finally {
    await controller.stop();
  }
}

function dockyardFigures(
  ctx: ScaleContext,
  applied: Awaited<ReturnType<typeof applyUntilReady>>,
  before: Snapshot,
  after: Snapshot,
  memory: { idle: SteadyMemory; converged: SteadyMemory },
): DockyardRun {
  const readyTimes = ctx.items.map((item) => (applied.readyAt.get(item.name) as number) - applied.t0);
  const perObject = ctx.items.map(
    (item) => (applied.readyAt.get(item.name) as number) - (applied.appliedAt.get(item.name) as number),
  );
  return {
    seconds: Math.max(...readyTimes) / 1000,
    applySeconds: applied.applySeconds,
    perObject: summarize(perObject.map((ms) => ms / 1000)),
    curve: cumulative(readyTimes.map((ms) => ms / 1000)),
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    benchLoopLag: applied.benchLoopLag,
    ...memory,
    api: apiRequestsBetween(before.api, after.api, ctx.items.length),
    docker: dockerCalls(before.hollow, after.hollow),
    reconciles:
      reconcilesOf(after.controller, 'dockercontainer') - reconcilesOf(before.controller, 'dockercontainer'),
    leftovers: { dockyard: 0, other: 0 },
    cleanupSeconds: 0,
  };
}

/** Stops the profiled controller (its CPU profile is written on exit); returns an unprofiled one, verified and idle. */
async function replaceProfiled(
  ctx: ScaleContext,
  profiled: ControllerProcess,
  label: string,
): Promise<ControllerProcess> {
  const { session } = ctx;
  await profiled.stop();
  session.log(`${label}: CPU profile of the run written to ${ctx.controllerSettings.profileDir ?? ''}`);
  const { profileDir: _written, ...unprofiled } = ctx.controllerSettings;
  const controller = await session.startController(unprofiled);
  await waitVerified(ctx, controller, `${label} (unprofiled controller for the restart)`);
  return controller;
}

/** Until `controller` has reconciled every object once and its DockerContainer queue is idle. */
async function waitVerified(ctx: ScaleContext, controller: ControllerProcess, label: string): Promise<void> {
  const { session, items } = ctx;
  await waitOnController(controller, {
    label,
    verb: 'verified (dockercontainer reconciles)',
    total: items.length,
    count: (s) => reconcilesOf(s, 'dockercontainer'),
    done: (s) => reconcilesOf(s, 'dockercontainer') >= items.length,
    timeoutMs: ctx.timeoutMs,
    log: session.log,
  });
  // One idle scrape, as the restart scenario judges it (waitUntilQuiet with 1 read).
  await waitContainersIdle(controller, label, ctx.timeoutMs, session.log, 1);
}

export interface RestartRun {
  /** Spawn → /readyz. */
  readyzSeconds: number;
  /** Spawn → every object reconciled once by the new process and its DockerContainer queue idle. */
  verifiedSeconds: number;
  /** Docker calls the hosts received from the kill until verified (mutating ones: target 0). */
  docker: DockerCalls;
  /** API requests in the same window (no bench creates in it). */
  api: ApiRequests;
  cpuSeconds: number;
  rssBytes: number;
}

/**
 * SIGKILL (a crash, nothing flushed) and a new process over the converged
 * objects; "verified" as the restart scenario judges it: the new process's
 * controller_runtime_reconcile_total{controller="dockercontainer"} reached
 * the object count, then its DockerContainer queue is idle.
 */
async function coldRestart(
  ctx: ScaleContext,
  old: ControllerProcess,
  label: string,
): Promise<{ controller: ControllerProcess; run: RestartRun }> {
  const { session, items } = ctx;
  const hollowBefore = ctx.fleet.fleet.requestTotals();
  const apiBefore = await session.apiServerMetrics();
  await old.kill();
  session.log(`${label}: controller killed (SIGKILL); starting a new one over ${items.length} objects`);
  const controller = await session.startController(ctx.controllerSettings);
  const readyzSeconds = (performance.now() - controller.startedAt) / 1000;
  await waitVerified(ctx, controller, label);
  const verifiedSeconds = (performance.now() - controller.startedAt) / 1000;
  const run: RestartRun = {
    readyzSeconds,
    verifiedSeconds,
    docker: dockerCalls(hollowBefore, ctx.fleet.fleet.requestTotals()),
    api: apiRequestsBetween(apiBefore, await session.apiServerMetrics(), 0),
    cpuSeconds: controller.cpuSeconds(),
    rssBytes: controller.rssBytes(),
  };
  return { controller, run };
}
