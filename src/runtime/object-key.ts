// Keys are `namespace/name` for namespaced objects and `name` for cluster-scoped
// ones, like client-go's MetaNamespaceKeyFunc, so cache keys and queue keys agree.

import type { KubernetesObject } from '@kubernetes/client-node';

/** What a reconcile is asked to converge: one object, by name. */
export interface Request {
  namespace?: string;
  name: string;
}

export function requestKey(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

export function parseKey(key: string): Request {
  const slash = key.indexOf('/');
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The object's request, or undefined when it has no name (never in a well-formed API object). */
export function requestFor(obj: KubernetesObject): Request | undefined {
  const name = obj.metadata?.name;
  if (!name) return undefined;
  const namespace = obj.metadata?.namespace;
  return namespace ? { namespace, name } : { name };
}

export function objectKey(obj: KubernetesObject): string | undefined {
  const req = requestFor(obj);
  return req ? requestKey(req) : undefined;
}
