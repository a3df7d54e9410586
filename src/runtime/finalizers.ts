// Finalizers are added and removed with a JSON patch whose first operation
// tests metadata.resourceVersion: the write applies only to the exact object
// version we decided on, so a concurrent change (another finalizer, a delete)
// is never overwritten. A failed test is reported as a 409 conflict, which the
// controller retries with a fresh read.

import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { statusCodeOf } from './api-errors.js';
import { describeRef, refFor, type ResourceType } from './object-ref.js';

export type FinalizerPatchApi = Pick<
  CustomObjectsApi,
  'patchNamespacedCustomObject' | 'patchClusterCustomObject'
>;

export type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** The JSON patch setting the finalizer list to `next`, valid only at `resourceVersion`. */
export function finalizerPatch(resourceVersion: string, next: readonly string[]): JsonPatchOp[] {
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
    // `add` on an existing member replaces it, and creates it when absent: one op for both cases.
    { op: 'add', path: '/metadata/finalizers', value: [...next] },
  ];
}

/** The finalizer list after adding `finalizer`, or undefined when nothing would change. */
export function withFinalizer(
  current: readonly string[] | undefined,
  finalizer: string,
): string[] | undefined {
  const list = current ?? [];
  return list.includes(finalizer) ? undefined : [...list, finalizer];
}

/** The finalizer list after removing `finalizer`, or undefined when nothing would change. */
export function withoutFinalizer(
  current: readonly string[] | undefined,
  finalizer: string,
): string[] | undefined {
  const list = current ?? [];
  return list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined;
}

export interface FinalizerWrite {
  resource: ResourceType;
  /** The object as read from the cache: its resourceVersion is the write's precondition. */
  object: KubernetesObject;
  finalizer: string;
  fieldManager: string;
}

/** Adds `finalizer` to `object` (as read from the cache). Returns whether a write was made. */
export async function addFinalizer(api: FinalizerPatchApi, write: FinalizerWrite): Promise<boolean> {
  return (await addFinalizerVersion(api, write)) !== undefined;
}

/** Like addFinalizer; returns the resourceVersion the write made, undefined when none was needed. */
export function addFinalizerVersion(
  api: FinalizerPatchApi,
  write: FinalizerWrite,
): Promise<string | undefined> {
  return writeFinalizers(api, write, withFinalizer(write.object.metadata?.finalizers, write.finalizer));
}

/** Removes `finalizer` from `object` (as read from the cache). Returns whether a write was made. */
export async function removeFinalizer(api: FinalizerPatchApi, write: FinalizerWrite): Promise<boolean> {
  const written = await writeFinalizers(
    api,
    write,
    withoutFinalizer(write.object.metadata?.finalizers, write.finalizer),
  );
  return written !== undefined;
}

/** The resourceVersion the write made ('' when the answer had none), undefined when nothing was written. */
async function writeFinalizers(
  api: FinalizerPatchApi,
  { resource, object: obj, fieldManager }: FinalizerWrite,
  next: string[] | undefined,
): Promise<string | undefined> {
  if (!next) return undefined;
  const ref = refFor(resource, obj);
  const resourceVersion = obj.metadata?.resourceVersion;
  if (!resourceVersion)
    throw new Error(`${describeRef(ref)} has no resourceVersion; read it from the API first`);
  const body = finalizerPatch(resourceVersion, next);
  const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  const { group, version, plural, name, namespace } = ref;
  let written: unknown;
  try {
    written = namespace
      ? await api.patchNamespacedCustomObject(
          { group, version, plural, namespace, name, body, fieldManager },
          options,
        )
      : await api.patchClusterCustomObject({ group, version, plural, name, body, fieldManager }, options);
  } catch (err) {
    // The API server answers a failed JSON patch `test` with 422; for us it means "stale object".
    if (err instanceof ApiException && statusCodeOf(err) === 422) {
      throw new ApiException(
        409,
        `${describeRef(ref)} changed since resourceVersion ${resourceVersion}: ${err.message}`,
        err.body as unknown,
        err.headers,
      );
    }
    throw err;
  }
  return (written as KubernetesObject | undefined)?.metadata?.resourceVersion ?? '';
}
