// The controller as the scale scenario runs it: started against hollow
// hosts and waited until it has taken them over, its memory read when
// settled, its DockerContainer work waited out (the DockerHost heartbeats of
// 1,000 hosts never stop, so "the whole controller is quiet" never comes),
// and the cold restart over converged objects.

import type { Sample } from '../../test/support/prometheus.js';
import type { HollowHost } from '../hollow/index.js';
import type { Log } from './cleanup.js';
import type { ControlPlaneSession } from './control-plane-session.js';
import type { ControllerProcess, ControllerSettings } from './controller.js';
import { withProgress } from './deadline.js';
import { counterSum } from './metrics.js';
import { sleep } from './pool.js';
import { waitHostsReady } from './scale-fleet.js';
import { median } from './stats.js';

const CONTAINER_CONTROLLER = 'dockercontainer';
const HOST_CONTROLLER = 'dockerhost';
/** RSS is read this many times, 1 s apart, and the median kept (V8 heaps breathe). */
const MEMORY_READS = 5;

/** Keys queued or being reconciled by the DockerContainer controller (the heartbeats of DockerHosts excluded). */
export function containerWork(samples: readonly Sample[]): number {
  let busy = 0;
  for (const s of samples) {
    const ours = s.labels.controller === CONTAINER_CONTROLLER || s.labels.name === CONTAINER_CONTROLLER;
    if (ours && (s.name === 'workqueue_depth' || s.name === 'controller_runtime_active_workers'))
      busy += s.value;
  }
  return busy;
}

export const reconcilesOf = (samples: readonly Sample[], controller: string) =>
  counterSum(samples, 'controller_runtime_reconcile_total', { controller });

/**
 * Polls the controller until `done(samples)`; progress shows `count(samples)`
 * of `total`. Each scrape has its own deadline (ControllerProcess.metrics).
 */
export async function waitOnController(
  controller: ControllerProcess,
  opts: {
    label: string;
    verb: string;
    total: number;
    count: (s: readonly Sample[]) => number;
    done: (s: readonly Sample[]) => boolean;
    timeoutMs: number;
    log: Log;
    intervalMs?: number;
  },
): Promise<void> {
  let last = 0;
  const deadline = performance.now() + opts.timeoutMs;
  await withProgress({ ...opts, count: () => last }, async () => {
    for (;;) {
      if (!controller.isRunning) throw new Error(`${opts.label}: the controller exited`);
      const samples = await controller.metrics();
      last = opts.count(samples);
      if (opts.done(samples)) return;
      if (performance.now() > deadline)
        throw new Error(`${opts.label}: ${last}/${opts.total} ${opts.verb} after ${opts.timeoutMs / 1000} s`);
      await sleep(opts.intervalMs ?? 250);
    }
  });
}

/**
 * Until the DockerContainer controller has nothing queued or running on
 * `reads` scrapes in a row (3 by default: one empty scrape can fall between
 * a reconcile's end and the requeue of its own status write's event).
 */
export async function waitContainersIdle(
  controller: ControllerProcess,
  label: string,
  timeoutMs: number,
  log: Log,
  reads = 3,
): Promise<void> {
  let idleReads = 0;
  await waitOnController(controller, {
    label: `${label}: DockerContainer queue`,
    verb: 'idle scrapes',
    total: reads,
    count: () => idleReads,
    done: (s) => {
      idleReads = containerWork(s) === 0 ? idleReads + 1 : 0;
      return idleReads >= reads;
    },
    timeoutMs,
    log,
    intervalMs: 300,
  });
}

/**
 * A fresh controller that has taken over the registered hosts: each
 * DockerHost reconciled by this process, all Ready, no DockerContainer work.
 */
export async function startSettledController(
  session: ControlPlaneSession,
  settings: Partial<ControllerSettings>,
  hosts: readonly HollowHost[],
  label: string,
  timeoutMs: number,
): Promise<ControllerProcess> {
  const controller = await session.startController(settings);
  try {
    await waitOnController(controller, {
      label: `${label}: DockerHosts`,
      verb: 'reconciled by the new controller',
      total: hosts.length,
      count: (s) => reconcilesOf(s, HOST_CONTROLLER),
      done: (s) => reconcilesOf(s, HOST_CONTROLLER) >= hosts.length,
      timeoutMs,
      log: session.log,
    });
    await waitHostsReady(session.kube, hosts, timeoutMs, session.log);
    await waitContainersIdle(controller, label, timeoutMs, session.log);
    return controller;
  } catch (err) {
    await controller.stop();
    throw err;
  }
}

export interface SteadyMemory {
  /** Median VmRSS of MEMORY_READS reads. */
  rssBytes: number;
  /** Lowest nodejs_heap_size_used_bytes of the same reads: closest to what is live. */
  heapUsedBytes: number;
}

export async function steadyMemory(controller: ControllerProcess): Promise<SteadyMemory> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < MEMORY_READS; i++) {
    if (i > 0) await sleep(1_000);
    rss.push(controller.rssBytes());
    heap.push(counterSum(await controller.metrics(), 'nodejs_heap_size_used_bytes'));
  }
  return { rssBytes: median(rss) as number, heapUsedBytes: Math.min(...heap) };
}
