import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { ResourceType } from '../runtime/object-ref.js';

export type OwnerListApi = Pick<CustomObjectsApi, 'listNamespacedCustomObject'>;

/**
 * The owner as the API server has it now, or null when it does not exist. A
 * list by name (an unversioned list is a quorum read, as fresh as a get; the
 * RBAC grants list, not get, on Dockyard's kinds). Used where a cache that
 * lags must never look like a deletion: the orphan sweep, adoption.
 */
export async function readOwnerLive(
  api: OwnerListApi,
  resource: ResourceType,
  namespace: string,
  name: string,
): Promise<{ uid?: string } | null> {
  const list = (await api.listNamespacedCustomObject({
    ...resource,
    namespace,
    fieldSelector: `metadata.name=${name}`,
  })) as { items?: Array<{ metadata?: { name?: string; uid?: string } }> };
  const found = list.items?.find((o) => o.metadata?.name === name);
  if (!found) return null;
  return found.metadata?.uid ? { uid: found.metadata.uid } : {};
}
