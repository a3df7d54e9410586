// The real local environment for the benchmark, the way test/global-setup.ts
// and test/support/lab.ts build it for the tests (bench cannot use vitest's
// inject): host Docker daemon, cached images, a control plane, Docker-in-
// Docker nodes with the workload image loaded, and the CRDs installed.

import Dockerode from 'dockerode';
import { Network, type StartedNetwork } from 'testcontainers';
import { installCrds } from '../../src/crds/install.js';
import { ControlPlane } from '../../src/localenv/control-plane.js';
import { ensureControlPlaneBinaries } from '../../src/localenv/controlplane-binaries.js';
import { DockerNode } from '../../src/localenv/docker-node.js';
import { HostDocker } from '../../src/localenv/host-docker.js';
import { ensureNodeImage, ensureWorkloadImage } from '../../src/localenv/images.js';
import { Registry } from '../../src/localenv/registry.js';
import { isReady, Kube } from '../../test/support/kube.js';
import type { Cleanup } from './cleanup.js';
import { deadlineDocker, withApiDeadlines } from './clients.js';
import { DOCKER_CALL_MS, withDeadline } from './deadline.js';

export interface BenchEnv {
  cp: ControlPlane;
  /** Every call (its methods, `kube.api`, `kube.core`) under a deadline (bench/support/clients.ts). */
  kube: Kube;
  hostDocker: Dockerode;
  network: StartedNetwork;
  nodes: DockerNode[];
  /** The named node's daemon, every call under a deadline (bench/support/clients.ts). */
  client(node: string): Dockerode;
  workloadImage: string;
  /** A registry on the bench network, reachable from the host and every node at `registry.address`. */
  registry?: Registry;
  /** Stops nodes, registry, network and control plane (not the shared host daemon). Idempotent. */
  stop(): Promise<void>;
}

export type Log = (message: string) => void;

/** Host daemon and cached images, once per run. */
export interface BenchImages {
  hostDocker: HostDocker;
  workloadImage: string;
  nodeImage: string;
}

export async function prepareImages(log: Log): Promise<BenchImages> {
  await ensureControlPlaneBinaries(log);
  const hostDocker = await HostDocker.ensure({ log });
  const docker = hostDocker.client();
  const workloadImage = await ensureWorkloadImage(docker, log);
  const nodeImage = await ensureNodeImage(docker, log);
  return { hostDocker, workloadImage, nodeImage };
}

export interface BenchEnvOptions {
  agentMounts?: Array<{ source: string; target: string }>;
  /**
   * Start a registry (distribution, in a container on the bench network)
   * before the nodes and forward it into each of them; `anonymous` serves
   * without auth, for DockerContainers whose spec.image presents no credentials.
   */
  registry?: { anonymous: boolean };
}

/**
 * A fresh control plane and `nodeCount` DinD nodes named n1, n2, … with the
 * workload image present (so convergence measures create+start, not pulls),
 * and a registry when asked for. Registered with `cleanup` before anything
 * starts, so Ctrl-C mid-start still removes what did start.
 */
export async function startBenchEnv(
  images: BenchImages,
  nodeCount: number,
  cleanup: Cleanup,
  log: Log,
  opts: BenchEnvOptions = {},
): Promise<BenchEnv> {
  const hostDocker = images.hostDocker.client();
  const cp = new ControlPlane({ log });
  const nodes: DockerNode[] = [];
  let network: StartedNetwork | undefined;
  let registry: Registry | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    log(`stopping the environment (nodes, ${registry ? 'registry, ' : ''}network, control plane)`);
    await Promise.all([
      ...nodes.map((n) => n.stop().catch((err: unknown) => log(`stopping node ${n.name}: ${String(err)}`))),
      registry?.stop().catch((err: unknown) => log(`stopping the registry: ${String(err)}`)),
      cp.stop().catch((err: unknown) => log(`stopping the control plane: ${String(err)}`)),
    ]);
    await network?.stop().catch((err: unknown) => log(`removing the network: ${String(err)}`));
  };
  const unregister = cleanup.add('environment', stop);
  try {
    network = await new Network().start();
    if (opts.registry)
      registry = new Registry({
        network,
        image: images.nodeImage,
        anonymous: opts.registry.anonymous,
        log,
      });
    for (let i = 1; i <= nodeCount; i++) {
      nodes.push(
        new DockerNode({
          name: `n${i}`,
          network,
          image: images.nodeImage,
          log,
          ...(opts.agentMounts ? { agentMounts: opts.agentMounts } : {}),
          ...(registry ? { registry } : {}),
        }),
      );
    }
    // A node forwards to the registry's port, known once the registry is up.
    const startNodes = async () => {
      await registry?.start();
      await Promise.all(nodes.map((n) => n.start()));
    };
    await Promise.all([cp.start(), startNodes()]);
    await Promise.all(nodes.map((n) => n.loadImage(hostDocker, images.workloadImage)));
    await installCrds(cp.kubeConfig());
    const kube = withApiDeadlines(new Kube(cp));
    const clients = new Map(nodes.map((n) => [n.name, deadlineDocker(n.client(), n.name)] as const));
    return {
      cp,
      kube,
      hostDocker,
      network,
      nodes,
      client(node: string) {
        const client = clients.get(node);
        if (!client) throw new Error(`no bench node ${node}`);
        return client;
      },
      workloadImage: images.workloadImage,
      ...(registry ? { registry } : {}),
      stop: async () => {
        unregister();
        await stop();
      },
    };
  } catch (err) {
    unregister();
    await stop();
    throw err;
  }
}

/** DockerHosts for every node (insecure TCP, as in the tests), waited until Ready; a controller must run. */
export async function registerHosts(env: BenchEnv, heartbeatIntervalSeconds = 10): Promise<void> {
  for (const node of env.nodes) {
    if (await env.kube.get('DockerHost', undefined, node.name)) continue;
    await env.kube.create(
      'DockerHost',
      undefined,
      node.name,
      { endpoint: node.endpoint, insecure: true, heartbeatIntervalSeconds },
      { labels: { 'dockyard.io/bench-node': node.name } },
    );
  }
  await Promise.all(
    env.nodes.map((n) => env.kube.waitFor('DockerHost', undefined, n.name, isReady, 'Ready', 120_000)),
  );
}

/** A DockerNode operation on the host daemon (pause, halt, exec in the node…) under a Docker call deadline. */
export function nodeCall<T>(
  node: DockerNode,
  call: string,
  work: () => Promise<T>,
  ms = DOCKER_CALL_MS,
): Promise<T> {
  return withDeadline(work(), { host: `host daemon (node ${node.name})`, call, ms });
}
