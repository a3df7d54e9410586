// Names a custom resource object for CustomObjectsApi calls.

import type { KubernetesObject } from '@kubernetes/client-node';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
}

export interface ObjectRef extends ResourceType {
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

export function refFor(resource: ResourceType, obj: KubernetesObject): ObjectRef {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`object of ${resource.plural}.${resource.group} has no name`);
  const namespace = obj.metadata?.namespace;
  return { ...resource, name, ...(namespace ? { namespace } : {}) };
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.plural}.${ref.group} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
