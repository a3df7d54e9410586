import Dockerode from 'dockerode';
import { Network, type StartedNetwork } from 'testcontainers';
import { inject } from 'vitest';
import { DockerNode } from '../../src/localenv/docker-node.js';
import { Registry, type SeededRepository } from '../../src/localenv/registry.js';
import { agentMounts } from './edge-agent.js';

/** Node start-up (containers, dockerd inside) plus registry seeding. */
export const LAB_START_TIMEOUT_MS = 180_000;

export interface LabOptions {
  /** Every node unreachable (an edge box behind its agent), whatever `nodes` says. */
  allUnreachable?: boolean;
  /** unreachable: an edge box with no published port, reached only through `dockyard agent` (edge-agent.ts). */
  nodes: Array<{ name: string; tls?: boolean; unreachable?: boolean }>;
  /** A seeded registry reachable from every node: htpasswd auth, or `anonymous` (pulls need no credentials). */
  registry?: boolean | 'anonymous';
}

export interface Lab {
  hostDocker: Dockerode;
  network: StartedNetwork;
  registry?: Registry;
  seeded?: SeededRepository;
  workloadImage: string;
  nodes: Map<string, DockerNode>;
  node(name: string): DockerNode;
  stop(): Promise<void>;
}

const log = (m: string) => {
  if (process.env.DOCKYARD_TEST_VERBOSE) console.log(`[lab] ${m}`);
};

/**
 * Docker "machines" for one test file: Docker-in-Docker nodes on a private
 * network, optionally with the authenticated registry (seeded with the
 * workload image under two tags) reachable from every node.
 */
export async function startLab(opts: LabOptions): Promise<Lab> {
  const hostDocker = new Dockerode({ socketPath: new URL(inject('dockerHost')).pathname });
  const image = inject('nodeImage');
  const workloadImage = inject('workloadImage');
  const network = await new Network().start();
  const nodes = new Map<string, DockerNode>();
  let registry: Registry | undefined;
  const stop = async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await registry?.stop();
    await network.stop();
  };
  try {
    let seeded: SeededRepository | undefined;
    if (opts.registry) {
      registry = await new Registry({
        network,
        image,
        log,
        anonymous: opts.registry === 'anonymous',
      }).start();
      seeded = await registry.seedWorkloadImage(hostDocker, workloadImage);
    }
    for (const spec of opts.nodes) {
      nodes.set(
        spec.name,
        new DockerNode({
          name: spec.name,
          tls: spec.tls ?? false,
          network,
          image,
          log,
          ...(registry ? { registry } : {}),
          ...(spec.unreachable || opts.allUnreachable ? { unreachable: { mounts: agentMounts() } } : {}),
        }),
      );
    }
    await Promise.all([...nodes.values()].map((n) => n.start()));
    return {
      hostDocker,
      network,
      ...(registry ? { registry } : {}),
      ...(seeded ? { seeded } : {}),
      workloadImage,
      nodes,
      node: (name) => {
        const n = nodes.get(name);
        if (!n) throw new Error(`no lab node ${name}`);
        return n;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
