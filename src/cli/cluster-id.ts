// The controller's cluster identity (--cluster-id), labelled on every Docker
// object it creates (dockyard.io/cluster): two clusters, or a blue/green move
// of the controller, sharing one daemon each sweep only their own objects.
// Default: the UID of the kube-system namespace, which every cluster has and
// which lives as long as the cluster does (the identity Kubernetes tooling
// commonly uses for "this cluster").

import type { CoreV1Api } from '@kubernetes/client-node';

/** A Kubernetes label value: a UID fits, and so does a name an operator picks. */
const CLUSTER_ID = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const CLUSTER_ID_NAMESPACE = 'kube-system';

/** Why an explicit --cluster-id is refused, or undefined. */
export function clusterIdProblem(value: string): string | undefined {
  return CLUSTER_ID.test(value)
    ? undefined
    : '--cluster-id must be 1–63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit.';
}

export class ClusterIdUnavailable extends Error {
  override readonly name = 'ClusterIdUnavailable';
}

/**
 * The flag when given; otherwise the kube-system namespace's UID. Unreadable
 * and no flag: refuse to start rather than guess. A fallback (another
 * namespace's UID, a random one) would give the same cluster a second
 * identity after a transient error, and its earlier objects would look like
 * another cluster's: never swept again.
 */
export async function resolveClusterId(
  api: Pick<CoreV1Api, 'readNamespace'>,
  /** --cluster-id: used as given when set. */
  flag?: string,
): Promise<string> {
  if (flag !== undefined) return flag;
  let uid: string | undefined;
  try {
    uid = (await api.readNamespace({ name: CLUSTER_ID_NAMESPACE })).metadata?.uid;
  } catch (err) {
    throw new ClusterIdUnavailable(
      `cannot read the ${CLUSTER_ID_NAMESPACE} namespace for the cluster id (${err instanceof Error ? err.message : String(err)}); ` +
        'grant get on namespaces or set --cluster-id',
      { cause: err },
    );
  }
  if (!uid)
    throw new ClusterIdUnavailable(`the ${CLUSTER_ID_NAMESPACE} namespace has no UID; set --cluster-id`);
  return uid;
}
