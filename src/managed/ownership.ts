import { OWNER_LABELS } from '../crds/kit.js';

/** Recorded on every Docker object so the orphan sweep knows what its owner asked for. */
export const DELETION_POLICY_LABEL = 'dockyard.io/deletion-policy';

export interface OwnerRef {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** The labels every Docker object Dockyard creates carries. */
export function ownerLabels(
  owner: OwnerRef,
  specHash: string,
  deletionPolicy: 'Delete' | 'Orphan',
): Record<string, string> {
  return {
    [OWNER_LABELS.uid]: owner.uid,
    [OWNER_LABELS.namespace]: owner.namespace,
    [OWNER_LABELS.name]: owner.name,
    [OWNER_LABELS.kind]: owner.kind,
    [OWNER_LABELS.specHash]: specHash,
    [DELETION_POLICY_LABEL]: deletionPolicy,
  };
}

export type Ownership = 'ours' | 'foreign' | 'otherOwner';

/**
 * Whose object is this? `ours` when it carries our owner's uid; `otherOwner`
 * when another Dockyard resource owns it (same name, e.g. a recreated
 * resource with a new uid, or two resources naming the same Docker object);
 * `foreign` when it lacks Dockyard's labels: never touched.
 */
export function ownership(
  labels: Record<string, string> | undefined | null,
  owner: Pick<OwnerRef, 'uid'>,
): Ownership {
  const uid = labels?.[OWNER_LABELS.uid];
  if (uid === undefined) return 'foreign';
  return uid === owner.uid ? 'ours' : 'otherOwner';
}

/**
 * Deterministic Docker names (`namespace.name` unless the spec names it): a
 * restart between Docker's reply and the status write finds the object by
 * name and adopts it instead of creating a duplicate.
 */
export function dockerName(namespace: string, name: string, explicit?: string): string {
  return explicit ?? `${namespace}.${name}`;
}

// The spec hash lives with the Docker layer, which labels objects with it.
export { canonicalJson, specHash } from '../docker/spec-hash.js';
