import type { KubernetesObject } from '@kubernetes/client-node';
import { jsonEqual } from './json-merge.js';

/**
 * Skips updates that only touched status (like controller-runtime's
 * GenerationChangedPredicate, plus labels, annotations, finalizers and
 * deletion, which do not bump the generation). A controller's own status
 * write must not wake it again: anything whose status changes on every
 * observation would otherwise loop. Periodic resyncs (same resourceVersion)
 * pass, so the relist safety net still enqueues every key.
 */
export function specOrMetadataChanged(oldObj: KubernetesObject, newObj: KubernetesObject): boolean {
  const a = oldObj.metadata ?? {};
  const b = newObj.metadata ?? {};
  if (a.resourceVersion === b.resourceVersion) return true;
  return (
    a.generation !== b.generation ||
    !jsonEqual(a.labels ?? {}, b.labels ?? {}) ||
    !jsonEqual(a.annotations ?? {}, b.annotations ?? {}) ||
    !jsonEqual(a.finalizers ?? [], b.finalizers ?? []) ||
    Boolean(a.deletionTimestamp) !== Boolean(b.deletionTimestamp)
  );
}
