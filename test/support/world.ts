import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from './control-plane.js';
import { startDockyard, type RunningDockyard } from './dockyard.js';
import { Kube, registerLabHosts } from './kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab, type LabOptions } from './lab.js';
import { rm } from 'node:fs/promises';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { agentEndpointFor, labGateway, registerAgentHosts } from './edge-agent.js';
import { bothOrNeither } from './both-or-neither.js';

/** For beforeAll: the control plane and the lab start side by side. */
export const WORLD_START_TIMEOUT_MS = CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS;

/** The node of startSingleNodeWorld, registered as the DockerHost of the same name. */
export const WORLD_NODE = 'n1';

export interface WorldOptions {
  lab: LabOptions;
  /** Load the lab's workload image on every node, for containers that name it directly. */
  loadWorkloadImage?: boolean;
  /** Namespaces created before the hosts are registered. */
  namespaces: string[];
  /** For startDockyard, now and on restartDockyard(). */
  dockyard?: DockyardOptions;
  /** Extra labels of each node's DockerHost, by node name. */
  hostLabels?: Record<string, Record<string, string>>;
  /**
   * How Dockyard reaches the nodes: directly (their published port), or
   * through `dockyard agent` inside each node (no published port). Default:
   * $DOCKYARD_TEST_CONNECTION, else direct; the integration-agent project
   * runs a subset of these files with agent.
   */
  connection?: 'direct' | 'agent';
}

type DockyardOptions = Parameters<typeof startDockyard>[1];

export interface World {
  cp: ControlPlane;
  lab: Lab;
  kube: Kube;
  /** The lab's workload image (on the nodes when `loadWorkloadImage`). */
  image: string;
  /** The controllers as they run now; restartDockyard() replaces them. */
  readonly dockyard: RunningDockyard;
  /** Stops the controllers and starts fresh ones (a leader change: empty memory, cold caches). */
  restartDockyard(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What an integration file about Dockyard's kinds runs against: a private
 * control plane and lab started side by side, Dockyard's controllers in
 * process, the namespaces, and every lab node registered as a Ready
 * DockerHost. What started is stopped again when a later step fails.
 */
export async function startWorld(opts: WorldOptions): Promise<World> {
  const connection =
    opts.connection ?? (process.env.DOCKYARD_TEST_CONNECTION === 'agent' ? 'agent' : 'direct');
  const labOptions = connection === 'agent' ? { ...opts.lab, allUnreachable: true } : opts.lab;
  const [cp, lab] = await bothOrNeither(startControlPlane(), startLab(labOptions));
  let dockyard: RunningDockyard | undefined;
  let agentEndpoint: AgentEndpointSettings | undefined;
  const stop = async () => {
    await dockyard?.stop();
    await Promise.all([lab.stop(), cp.stop()]);
    if (agentEndpoint) await rm(agentEndpoint.socketDir, { recursive: true, force: true });
  };
  try {
    const kube = new Kube(cp);
    const image = lab.workloadImage;
    agentEndpoint =
      connection === 'agent'
        ? await agentEndpointFor({
            gateway: await labGateway(lab.hostDocker, lab.network),
            namespace: 'default',
          })
        : undefined;
    const dockyardOptions = { ...opts.dockyard, ...(agentEndpoint ? { agentEndpoint } : {}) };
    if (opts.loadWorkloadImage && !agentEndpoint)
      await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, image)));
    dockyard = await startDockyard(cp, dockyardOptions);
    for (const ns of opts.namespaces) await kube.namespace(ns);
    // Waits until every lab host is Ready.
    await registerLabHosts(kube, lab, opts.hostLabels);
    if (agentEndpoint)
      await registerAgentHosts({ kube, lab, endpoint: agentEndpoint, labels: opts.hostLabels ?? {} });
    // Through the tunnels once the agents are up.
    if (opts.loadWorkloadImage && agentEndpoint)
      await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, image)));
    return {
      cp,
      lab,
      kube,
      image,
      get dockyard() {
        if (!dockyard) throw new Error('Dockyard is not running');
        return dockyard;
      },
      restartDockyard: async () => {
        await dockyard?.stop();
        dockyard = undefined;
        dockyard = await startDockyard(cp, dockyardOptions);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** startWorld with one lab node (`n1`, no registry) that has the workload image. */
export async function startSingleNodeWorld(
  opts: Pick<WorldOptions, 'namespaces' | 'dockyard'>,
): Promise<World> {
  return startWorld({ ...opts, lab: { nodes: [{ name: WORLD_NODE }] }, loadWorkloadImage: true });
}
