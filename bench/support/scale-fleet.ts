// The scale scenario's hollow Docker hosts (bench/hollow: in-memory Engine
// API servers, all in the bench's process) and their DockerHosts: started
// once at the largest size, registered size by size, emptied between phases,
// and their own request counts read as Docker calls.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WORKLOAD_IMAGE } from '../../src/localenv/images.js';
import { isReady, type DockyardObject, type Kube } from '../../test/support/kube.js';
import { startHollowHosts, type HollowFleet, type HollowHost } from '../hollow/index.js';
import type { Cleanup, Log } from './cleanup.js';
import { withProgress } from './deadline.js';
import { isMutatingOperation } from './metrics.js';
import { mapLimit, sleep } from './pool.js';
import { counterDelta, total } from './stats.js';

/** A far-away edge host, as the issue describes it: 100 ms ± 20 ms before every answer. */
export const HOLLOW_LATENCY_MS = 100;
export const HOLLOW_JITTER_MS = 20;
/** Label on every DockerHost the scenario creates, to list them apart. */
export const SCALE_HOST_LABEL = 'dockyard.io/bench-scale';
/** DockerHosts created at once: 1,000 creates in one burst gain nothing and hide which one failed. */
const HOST_CREATES_IN_FLIGHT = 32;
/** Daemon-level calls every host gets whatever runs on it (heartbeat, facts, event stream). */
const UPKEEP = new Set(['GET /_ping', 'HEAD /_ping', 'GET /version', 'GET /info', 'GET /events']);

export const hollowHostName = (i: number) => `hollow-${String(i).padStart(4, '0')}`;

export interface ScaleFleet {
  hosts: HollowHost[];
  fleet: HollowFleet;
  stop(): Promise<void>;
}

/**
 * `count` hollow hosts with the workload image seeded. Stops wait no grace
 * period (maxGraceMs 0): deletions between rounds are not measured, and
 * busybox sleep's ignored SIGTERM would otherwise cost 10 s per container.
 */
export async function startScaleFleet(count: number, cleanup: Cleanup, log: Log): Promise<ScaleFleet> {
  log(`[scale] starting ${count} hollow Docker hosts (${HOLLOW_LATENCY_MS} ± ${HOLLOW_JITTER_MS} ms)`);
  const started = await startHollowHosts(count, (i) => ({
    name: hollowHostName(i),
    latencyMs: HOLLOW_LATENCY_MS,
    jitterMs: HOLLOW_JITTER_MS,
    images: [WORKLOAD_IMAGE],
    stop: { maxGraceMs: 0 },
  }));
  const unregister = cleanup.add('hollow hosts', () => started.stop());
  return {
    hosts: started.hosts,
    fleet: started.fleet,
    stop: async () => {
      unregister();
      await started.stop();
    },
  };
}

/** The scenario's DockerHosts as the API server has them now. */
export async function listScaleHosts(kube: Kube): Promise<DockyardObject[]> {
  return kube.list('DockerHost', undefined, `${SCALE_HOST_LABEL}=true`);
}

/**
 * A DockerHost per hollow host that has none yet (insecure TCP, default
 * security policy: a `sleep` container needs nothing more), created
 * HOST_CREATES_IN_FLIGHT at a time, then waited until every one is Ready.
 * A controller must be running.
 */
export async function registerHollowHosts(
  kube: Kube,
  hosts: readonly HollowHost[],
  timeoutMs: number,
  log: Log,
): Promise<void> {
  const existing = new Set((await listScaleHosts(kube)).map((h) => h.metadata.name));
  const missing = hosts.filter((h) => !existing.has(h.name));
  await withProgress({ label: `[scale] DockerHosts`, total: missing.length, verb: 'created', log }, (p) =>
    mapLimit(missing, HOST_CREATES_IN_FLIGHT, async (h) => {
      await kube.create(
        'DockerHost',
        undefined,
        h.name,
        { endpoint: h.endpoint, insecure: true },
        { labels: { [SCALE_HOST_LABEL]: 'true' } },
      );
      p.tick();
    }),
  );
  await waitHostsReady(kube, hosts, timeoutMs, log);
}

/** Polls the DockerHost list (one LIST, not 1,000 GETs) until every named host is Ready. */
export async function waitHostsReady(
  kube: Kube,
  hosts: readonly HollowHost[],
  timeoutMs: number,
  log: Log,
): Promise<void> {
  const wanted = new Set(hosts.map((h) => h.name));
  let ready = 0;
  const deadline = performance.now() + timeoutMs;
  await withProgress(
    { label: `[scale] DockerHosts`, total: wanted.size, verb: 'Ready', log, count: () => ready },
    async () => {
      for (;;) {
        const listed = await listScaleHosts(kube);
        ready = listed.filter((h) => wanted.has(h.metadata.name) && isReady(h)).length;
        if (ready === wanted.size) return;
        if (performance.now() > deadline)
          throw new Error(
            `[scale] registering DockerHosts: ${ready}/${wanted.size} Ready after ${timeoutMs / 1000} s`,
          );
        await sleep(1_000);
      }
    },
  );
}

/** What emptying the hosts removed: the controller's containers should be gone already. */
export interface Emptied {
  /** Containers with Dockyard's owner labels (left behind by a deletion). */
  dockyard: number;
  /** The bench's own (the Docker floor's). */
  other: number;
}

/**
 * Empties every host in memory, so the next phase starts from nothing. Only
 * for containers no controller is about to look at: the floor's, or a
 * Dockyard leftover after its DockerContainer is gone (counted, and reported).
 */
export function emptyHosts(hosts: readonly HollowHost[]): Emptied {
  const emptied: Emptied = { dockyard: 0, other: 0 };
  for (const h of hosts) {
    for (const c of h.state.containers.values())
      if (c.config.Labels['dockyard.io/name'] !== undefined) emptied.dockyard++;
      else emptied.other++;
    h.state.containers.clear();
  }
  return emptied;
}

/** Docker calls the hosts received in a window, split the way the issue counts them. */
export interface DockerCalls {
  mutating: number;
  reads: number;
  /** Ping, version, info, event streams: the DockerHost controller's heartbeat, not per object. */
  upkeep: number;
  byOperation: Map<string, number>;
}

/** A DockerHost heartbeat's call (ping, version, info, the event stream), not an object's. */
export const isUpkeepOperation = (op: string): boolean => UPKEEP.has(op);

export function dockerCalls(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): DockerCalls {
  const byOperation = counterDelta(before, after);
  const calls: DockerCalls = { mutating: 0, reads: 0, upkeep: 0, byOperation };
  for (const [op, n] of byOperation) {
    if (UPKEEP.has(op)) calls.upkeep += n;
    else if (isMutatingOperation(op)) calls.mutating += n;
    else calls.reads += n;
  }
  return calls;
}

/** Total calls of a window (all kinds). */
export const allCalls = (calls: DockerCalls) => total(calls.byOperation);

/** How late this process's event loop ran during a phase, in ms. */
export interface LoopLag {
  p99Ms: number;
  maxMs: number;
}

/**
 * Starts watching this process's event-loop delay. The hollow hosts answer
 * from this loop: when it lags, every host answers late, and a controller
 * that judges daemons by their answer time sees slow daemons that are really
 * a busy bench. Reported beside each phase so the two can be told apart.
 */
export function watchLoopLag(): { stop(): LoopLag } {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
    },
  };
}
