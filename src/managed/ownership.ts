import { OWNER_LABELS } from '../crds/kit.js';

/**
 * The policy the owner asked for when the object was created. Docker labels
 * cannot change, so this is only a floor: a later switch to Orphan is
 * recorded in the DockerHost's status.releasedOwners, which the sweep reads too.
 */
export const DELETION_POLICY_LABEL = 'dockyard.io/deletion-policy';

/**
 * Which cluster's controller created the object (`--cluster-id`): two
 * clusters, or a blue/green controller move, sharing one daemon each sweep
 * only their own objects.
 */
export const CLUSTER_LABEL = 'dockyard.io/cluster';

export interface OwnerRef {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface OwnerLabelOptions {
  /**
   * The `dockyard.io/spec-hash` label. Left out where it is added later from
   * the other create inputs (a container's recreate hash, see toCreateOptions).
   */
  specHash?: string;
  deletionPolicy: 'Delete' | 'Orphan';
  /** The controller's --cluster-id; left out only where none is known (tests of other labels). */
  clusterId?: string;
}

/** The labels every Docker object Dockyard creates carries. */
/** The owner a resource's Docker objects are labelled with. */
export function ownerRefOf(
  kind: string,
  obj: { metadata: { namespace?: string; name: string; uid?: string } },
): OwnerRef {
  return {
    kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    uid: obj.metadata.uid ?? '',
  };
}

export function ownerLabels(owner: OwnerRef, options: OwnerLabelOptions): Record<string, string> {
  const { specHash, deletionPolicy, clusterId } = options;
  return {
    [OWNER_LABELS.uid]: owner.uid,
    [OWNER_LABELS.namespace]: owner.namespace,
    [OWNER_LABELS.name]: owner.name,
    [OWNER_LABELS.kind]: owner.kind,
    ...(specHash !== undefined ? { [OWNER_LABELS.specHash]: specHash } : {}),
    [DELETION_POLICY_LABEL]: deletionPolicy,
    ...(clusterId ? { [CLUSTER_LABEL]: clusterId } : {}),
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

/** A namespace name (RFC 1123 label): only such a prefix can be another namespace's default name. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Pure: why an explicit Docker name (`spec.containerName`, `volumeName`,
 * `networkName`) is refused, or undefined. `<ns>.<rest>` is the default name
 * of a resource in namespace `<ns>`: another namespace taking it would claim
 * that tenant's name first (and make its resource stall in NameConflict). The
 * API server cannot decide this (CEL does not see metadata.namespace), so the
 * controller does. The message names only what this resource's owner wrote.
 */
export function explicitNameProblem(opts: {
  namespace: string;
  explicit: string | undefined;
  field: string;
}): string | undefined {
  const { namespace, explicit, field } = opts;
  if (explicit === undefined) return undefined;
  const dot = explicit.indexOf('.');
  if (dot < 0) return undefined;
  const prefix = explicit.slice(0, dot);
  if (prefix === namespace || !NAMESPACE_NAME.test(prefix)) return undefined;
  return (
    `${field} "${explicit}" has the form <namespace>.<name> that Dockyard's default names use, with a namespace ` +
    `other than this one (${namespace}); choose a name without a dot, or one starting with "${namespace}."`
  );
}

// The spec hash lives with the Docker layer, which labels objects with it.
export { canonicalJson, specHash } from '../docker/spec-hash.js';
