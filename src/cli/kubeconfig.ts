// Which cluster credentials to use, in controller-runtime's order
// (ctrl.GetConfig): --kubeconfig, then $KUBECONFIG, then the pod's
// ServiceAccount, then ~/.kube/config. In a pod the ServiceAccount wins over
// a stray ~/.kube/config baked into an image, so RBAC is what the chart grants.

import { KubeConfig } from '@kubernetes/client-node';
import type { CliEnvironment } from './environment.js';
import { reuseConnections } from './kube-connection-reuse.js';

export type KubeConfigSource =
  | { kind: 'flag'; path: string }
  | { kind: 'env'; paths: string }
  | { kind: 'in-cluster' }
  | { kind: 'home'; path: string };

export function kubeConfigSource(
  flag: string | undefined,
  env: Pick<CliEnvironment, 'kubeconfigEnv' | 'inCluster' | 'homeKubeconfig'>,
): KubeConfigSource {
  if (flag) return { kind: 'flag', path: flag };
  if (env.kubeconfigEnv) return { kind: 'env', paths: env.kubeconfigEnv };
  if (env.inCluster) return { kind: 'in-cluster' };
  if (env.homeKubeconfig) return { kind: 'home', path: env.homeKubeconfig };
  throw new Error(
    'no cluster configuration: pass --kubeconfig, set KUBECONFIG, or run in a pod with a ServiceAccount',
  );
}

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  switch (source.kind) {
    case 'flag':
    case 'home':
      kc.loadFromFile(source.path);
      break;
    case 'env':
      // client-node reads $KUBECONFIG itself, merging a colon-separated list like kubectl.
      kc.loadFromDefault();
      break;
    case 'in-cluster':
      // Reads the token file on every request, so rotated ServiceAccount tokens are picked up.
      kc.loadFromCluster();
      break;
  }
  // One keep-alive connection pool instead of a TLS handshake per request.
  return reuseConnections(kc);
}

/** For the startup log line: where the credentials came from, never what they are. */
export function describeSource(source: KubeConfigSource): string {
  switch (source.kind) {
    case 'flag':
      return `--kubeconfig ${source.path}`;
    case 'env':
      return `KUBECONFIG ${source.paths}`;
    case 'in-cluster':
      return 'in-cluster ServiceAccount';
    case 'home':
      return source.path;
  }
}
