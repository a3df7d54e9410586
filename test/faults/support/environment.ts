// What every controller-process fault scenario starts from: its own control
// plane with the CRDs, two Docker-in-Docker nodes with the workload image,
// and a DockerHost for each (registered Ready by a short-lived controller).

import type Dockerode from 'dockerode';
import { installCrds } from '../../../src/crds/install.js';
import type { ControlPlane } from '../../../src/localenv/control-plane.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../../support/control-plane.js';
import { Kube, registerLabHosts } from '../../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../../support/lab.js';
import { killAllTestProcesses } from '../../support/test-process.js';
import { startControllerProcess, workersStarted, CONTROLLER_START_TIMEOUT_MS } from './controller-process.js';
import { bothOrNeither } from '../../support/both-or-neither.js';

export const FAULT_ENV_START_TIMEOUT_MS =
  CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS + CONTROLLER_START_TIMEOUT_MS + 60_000;

export interface FaultEnvironment {
  cp: ControlPlane;
  lab: Lab;
  kube: Kube;
  /** DockerHost name → that node's daemon, for the invariant check. */
  nodes: Map<string, Dockerode>;
  stop(): Promise<void>;
}

export const NODE_NAMES = ['n1', 'n2'] as const;

export async function startFaultEnvironment(
  namespaces: readonly string[],
  opts: { registerHosts?: boolean } = {},
): Promise<FaultEnvironment> {
  const [cp, lab] = await bothOrNeither(
    startControlPlane(),
    startLab({ nodes: NODE_NAMES.map((name) => ({ name })) }),
  );
  const stop = async () => {
    await killAllTestProcesses();
    await Promise.all([lab.stop(), cp.stop()]);
  };
  try {
    await Promise.all([...lab.nodes.values()].map((n) => n.loadImage(lab.hostDocker, lab.workloadImage)));
    const kube = new Kube(cp);
    await installCrds(cp.kubeConfig());
    for (const ns of namespaces) await kube.namespace(ns);
    const nodes = new Map([...lab.nodes].map(([name, node]) => [name, node.client()] as const));
    const env = { cp, lab, kube, nodes, stop };
    if (opts.registerHosts ?? true) await registerHosts(env);
    return env;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A DockerHost per node, Ready: hosts become Ready only through a controller, so one runs for this and is killed. */
export async function registerHosts(env: Pick<FaultEnvironment, 'cp' | 'kube' | 'lab'>): Promise<void> {
  const registrar = startControllerProcess(env.cp, { name: 'host registrar' });
  try {
    await registrar.waitForLog(workersStarted, CONTROLLER_START_TIMEOUT_MS, 'start workers');
    await registerLabHosts(env.kube, env.lab);
  } finally {
    await registrar.kill();
  }
}
