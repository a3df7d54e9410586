// Status writes: only to the /status subresource, only when the status
// actually changed (no-op writes would bump resourceVersion and wake every
// watcher), as a JSON merge patch, naming our field manager.

import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { createMergePatch, jsonEqual } from './json-merge.js';
import type { ObjectRef } from './object-ref.js';

export type StatusPatchApi = Pick<
  CustomObjectsApi,
  'patchNamespacedCustomObjectStatus' | 'patchClusterCustomObjectStatus'
>;

/** Deep comparison ignoring key order (and undefined-valued keys, which JSON drops). */
export function statusChanged(oldStatus: unknown, newStatus: unknown): boolean {
  return !jsonEqual(oldStatus ?? {}, newStatus ?? {});
}

/**
 * The merge patch body that turns `oldStatus` into `newStatus`, removals as
 * null. With `resourceVersion`, the patch carries it as an optimistic lock
 * (controller-runtime's MergeFromWithOptimisticLock): the API server refuses
 * it with 409 when the object changed since it was read, so a status computed
 * from a stale cache (e.g. one that does not yet hold the hosts an earlier
 * write recorded) can never overwrite a newer one; the caller retries.
 */
export function statusPatchBody(
  oldStatus: unknown,
  newStatus: unknown,
  resourceVersion?: string,
): { status: unknown; metadata?: { resourceVersion: string } } {
  return {
    ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
    status: createMergePatch(oldStatus ?? {}, newStatus ?? {}),
  };
}

export interface StatusPatch {
  /** The object whose /status subresource is written. */
  ref: ObjectRef;
  /** The status as read from the cache. */
  current: unknown;
  /** The status this reconcile computed. */
  desired: unknown;
  fieldManager: string;
  /** The resourceVersion the status was computed from: refuse the write if the object moved on. */
  resourceVersion?: string;
}

/**
 * Patches `ref`'s status from `current` (as read from the cache) to
 * `desired` when they differ. Returns whether a request was sent.
 */
export async function patchStatus(api: StatusPatchApi, patch: StatusPatch): Promise<boolean> {
  const { ref, current, desired, fieldManager, resourceVersion } = patch;
  if (!statusChanged(current, desired)) return false;
  const body = statusPatchBody(current, desired, resourceVersion);
  // CustomObjectsApi defaults to JSON Patch; a merge patch needs the header set explicitly.
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const { group, version, plural, name, namespace } = ref;
  if (namespace) {
    await api.patchNamespacedCustomObjectStatus(
      { group, version, plural, namespace, name, body, fieldManager },
      options,
    );
  } else {
    await api.patchClusterCustomObjectStatus({ group, version, plural, name, body, fieldManager }, options);
  }
  return true;
}
