// Map functions turn an object seen by an event source into the requests to
// reconcile (controller-runtime's handler.EnqueueRequestForObject,
// EnqueueRequestForOwner and EnqueueRequestsFromMapFunc). They must be cheap
// and synchronous: they run inside informer event handlers.

import type { KubernetesObject } from '@kubernetes/client-node';
import { requestFor, type Request } from './object-key.js';

export type MapFunc<T> = (obj: T) => readonly Request[];

/** Reconcile the object itself. */
export function enqueueForObject<T extends KubernetesObject>(): MapFunc<T> {
  return (obj) => {
    const req = requestFor(obj);
    return req ? [req] : [];
  };
}

export interface OwnerOptions {
  /** Only match owner references whose apiVersion has this group (e.g. `dockyard.io`). */
  group?: string;
  /** Only follow the managing controller reference (`controller: true`). Default false. */
  onlyController?: boolean;
  /** The owner kind is cluster-scoped: requests carry no namespace. Default false. */
  clusterScopedOwner?: boolean;
}

/** Reconcile the owners of kind `kind` named in the object's metadata.ownerReferences. */
export function enqueueForOwner<T extends KubernetesObject>(
  kind: string,
  options: OwnerOptions = {},
): MapFunc<T> {
  return (obj) => {
    const refs = obj.metadata?.ownerReferences ?? [];
    const namespace = options.clusterScopedOwner ? undefined : obj.metadata?.namespace;
    const out: Request[] = [];
    for (const ref of refs) {
      if (ref.kind !== kind || !ref.name) continue;
      if (options.onlyController && ref.controller !== true) continue;
      if (options.group !== undefined && groupOf(ref.apiVersion) !== options.group) continue;
      out.push(namespace ? { namespace, name: ref.name } : { name: ref.name });
    }
    return out;
  };
}

/** Reconcile whatever `fn` says (e.g. every Container on the DockerHost that changed). */
export function enqueueMapped<T>(fn: (obj: T) => readonly Request[]): MapFunc<T> {
  return fn;
}

function groupOf(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
