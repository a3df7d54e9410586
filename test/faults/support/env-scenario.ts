// What the environment-fault scenarios share: a private control plane and
// Docker-in-Docker nodes (started in parallel), a workload of volumes,
// networks and containers on one host, and per-phase timings printed so the
// suite's wall time stays visible in CI logs.

import type Dockerode from 'dockerode';
import type { DestinationStream } from 'pino';
import { installCrds } from '../../../src/crds/install.js';
import type { ControlPlane } from '../../../src/localenv/control-plane.js';
import { waitFor } from '../../../src/localenv/process.js';
import { startControlPlane } from '../../support/control-plane.js';
import { Kube } from '../../support/kube.js';
import { startLab, type Lab } from '../../support/lab.js';
import type { InvariantInput } from './invariants.js';
import { bothOrNeither } from '../../support/both-or-neither.js';

/** Control plane and lab start together; both can take a minute on a busy 2-core machine. */
export const ENV_START_TIMEOUT_MS = 300_000;

export interface FaultEnv {
  cp: ControlPlane;
  lab: Lab;
  kube: Kube;
  /** DockerHost name → a fresh client for that node (the endpoint survives halt/resume). */
  clients(): Map<string, Dockerode>;
  stop(): Promise<void>;
}

export async function startFaultEnv(opts: { nodes: string[]; watchCache?: boolean }): Promise<FaultEnv> {
  const [cp, lab] = await bothOrNeither(
    startControlPlane(opts.watchCache !== undefined ? { watchCache: opts.watchCache } : {}),
    startLab({ nodes: opts.nodes.map((name) => ({ name })) }),
  );
  await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, lab.workloadImage)));
  await installCrds(cp.kubeConfig());
  return {
    cp,
    lab,
    kube: new Kube(cp),
    clients: () => new Map([...lab.nodes].map(([name, node]) => [name, node.client()])),
    stop: async () => {
      await Promise.all([lab.stop(), cp.stop()]);
    },
  };
}

/** Resource names of one workload set, for asserting on them afterwards. */
export interface Workload {
  namespace: string;
  volumes: string[];
  networks: string[];
  containers: string[];
}

/**
 * `count` containers on `host`, each with its own volume (deletionPolicy
 * Delete, so deletes really remove data and must wait for the node) and one
 * of `networks` shared networks: 2×count + networks objects. Created one
 * after another without waiting, so the controllers are busy reconciling
 * while the fault hits.
 */
export async function createWorkload(
  kube: Kube,
  opts: { namespace: string; host: string; image: string; count: number; networks: number; prefix?: string },
): Promise<Workload> {
  const p = opts.prefix ?? '';
  const w: Workload = { namespace: opts.namespace, volumes: [], networks: [], containers: [] };
  const place = { hostName: opts.host };
  for (let n = 0; n < opts.networks; n++) {
    const name = `${p}net${n}`;
    await kube.create('DockerNetwork', opts.namespace, name, { ...place, deletionPolicy: 'Delete' });
    w.networks.push(name);
  }
  for (let i = 0; i < opts.count; i++) {
    const vol = `${p}vol${i}`;
    const ctr = `${p}ctr${i}`;
    await kube.create('DockerVolume', opts.namespace, vol, { ...place, deletionPolicy: 'Delete' });
    await kube.create('DockerContainer', opts.namespace, ctr, {
      ...place,
      image: opts.image,
      command: ['sleep', '36000'],
      mounts: [{ type: 'volume', volume: vol, target: '/data' }],
      networks: [{ name: w.networks[i % Math.max(1, w.networks.length)] ?? '' }].filter((n) => n.name),
      deletionPolicy: 'Delete',
    });
    w.volumes.push(vol);
    w.containers.push(ctr);
  }
  return w;
}

/** Starts deleting (the finalizer keeps each object until the controller confirms removal on its host). */
export async function deleteWorkload(
  kube: Kube,
  w: Workload,
  which: (name: string) => boolean,
): Promise<Workload> {
  const gone: Workload = { namespace: w.namespace, volumes: [], networks: [], containers: [] };
  for (const c of w.containers.filter(which)) {
    await kube.delete('DockerContainer', w.namespace, c);
    gone.containers.push(c);
  }
  for (const v of w.volumes.filter(which)) {
    await kube.delete('DockerVolume', w.namespace, v);
    gone.volumes.push(v);
  }
  return gone;
}

/** Bounded wait until every deleted resource is gone from the API (its finalizer released). */
export async function waitForDeleted(kube: Kube, w: Workload, timeoutMs: number): Promise<void> {
  const pending = async () => {
    const left: string[] = [];
    for (const c of w.containers) if (await kube.get('DockerContainer', w.namespace, c)) left.push(c);
    for (const v of w.volumes) if (await kube.get('DockerVolume', w.namespace, v)) left.push(v);
    return left;
  };
  let left: string[] = [];
  try {
    await waitFor(
      async () => {
        left = await pending();
        return left.length === 0;
      },
      { timeoutMs, intervalMs: 1_000, what: 'deleted resources to be gone' },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; still present: ${left.join(', ')}`, { cause: err });
  }
}

/** Docker names of a namespace's volumes/containers, as the product names them. */
export { dockerName } from '../../../src/managed/ownership.js';

/** The invariant input of a scenario (every node, its namespaces, the workload image for data markers). */
export function invariantInput(
  env: FaultEnv,
  namespaces: string[],
  extra: Partial<InvariantInput> = {},
): InvariantInput {
  return { kube: env.kube, nodes: env.clients(), namespaces, markerImage: env.lab.workloadImage, ...extra };
}

/** Wall time per phase, printed (vitest shows console output) so CI logs keep the figures. */
export class PhaseClock {
  private readonly started = performance.now();
  private last = this.started;
  readonly phases: Array<{ phase: string; seconds: number }> = [];

  constructor(private readonly scenario: string) {}

  mark(phase: string): void {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    this.phases.push({ phase, seconds });
    console.log(`[faults] ${this.scenario}: ${phase} ${seconds.toFixed(1)} s`);
  }

  total(): number {
    const seconds = (performance.now() - this.started) / 1000;
    console.log(`[faults] ${this.scenario}: total ${seconds.toFixed(1)} s`);
    return seconds;
  }
}

/**
 * Where the in-process controllers log during a fault: the reconcile errors a
 * fault causes are expected and would bury the test output, so the last lines
 * are kept in memory (print them when a scenario fails) instead of printed.
 */
export function controllerLogSink(keep = 2_000): { destination: DestinationStream; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    destination: {
      write: (line: string) => {
        lines.push(line.trimEnd());
        if (lines.length > keep) lines.shift();
      },
    },
  };
}
