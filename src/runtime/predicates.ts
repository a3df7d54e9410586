import type { KubernetesObject } from '@kubernetes/client-node';
import { jsonEqual } from './json-merge.js';

/**
 * Skips updates that only touched status (like controller-runtime's
 * GenerationChangedPredicate, plus labels, annotations, a removed finalizer
 * and deletion, which do not bump the generation). A controller's own status
 * write must not wake it again: anything whose status changes on every
 * observation would otherwise loop. An added finalizer does not wake it
 * either: it is nearly always our own, written by the reconcile that goes on
 * to act (waking for it doubled the reconciles of every new object), and no
 * reconcile decides anything from another's; a removed one may be ours, to
 * put back. Periodic resyncs (same resourceVersion) pass, so the relist
 * safety net still enqueues every key.
 */
export function specOrMetadataChanged(oldObj: KubernetesObject, newObj: KubernetesObject): boolean {
  const a = oldObj.metadata ?? {};
  const b = newObj.metadata ?? {};
  if (a.resourceVersion === b.resourceVersion) return true;
  return (
    a.generation !== b.generation ||
    !jsonEqual(a.labels ?? {}, b.labels ?? {}) ||
    !jsonEqual(a.annotations ?? {}, b.annotations ?? {}) ||
    finalizerRemoved(a.finalizers ?? [], b.finalizers ?? []) ||
    Boolean(a.deletionTimestamp) !== Boolean(b.deletionTimestamp)
  );
}

function finalizerRemoved(before: readonly string[], after: readonly string[]): boolean {
  return before.some((f) => !after.includes(f));
}
