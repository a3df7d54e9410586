// The few facts about the process that flag defaults and the kubeconfig
// choice depend on, read in one place so the decisions stay pure.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Kubernetes mounts a pod's ServiceAccount token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface CliEnvironment {
  stdoutIsTTY: boolean;
  /** The pod's namespace (from the ServiceAccount mount) when running in a pod. */
  podNamespace: string | undefined;
  /** $KUBECONFIG, when set and not empty. */
  kubeconfigEnv: string | undefined;
  /** Running in a pod with a mounted ServiceAccount token. */
  inCluster: boolean;
  /** ~/.kube/config, when it exists. */
  homeKubeconfig: string | undefined;
}

export function processEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const home = join(homedir(), '.kube', 'config');
  return {
    stdoutIsTTY: process.stdout.isTTY === true,
    podNamespace: readPodNamespace(),
    kubeconfigEnv: env.KUBECONFIG ? env.KUBECONFIG : undefined,
    inCluster: Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(join(SERVICE_ACCOUNT_DIR, 'token')),
    homeKubeconfig: existsSync(home) ? home : undefined,
  };
}

function readPodNamespace(): string | undefined {
  try {
    const namespace = readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim();
    return namespace || undefined;
  } catch {
    return undefined; // not in a pod
  }
}
