// Explicit adoption (issue #12 item 4), after crossplane's external-name:
// a resource names its Docker object and, with spec.adoptionPolicy
// IfOrphaned, asks to take it over when it exists but was not created for
// it. Never implicitly, and never from a live owner: an object whose
// Dockyard owner still exists, that another cluster created, or that another
// resource adopted first stays a NameConflict. Docker labels cannot change,
// so a volume or network adopted in place is claimed in its DockerHost's
// status.adoptedObjects (written under the host's resourceVersion: one
// claimant wins), and the uid its labels name is recorded as released, so
// the orphan sweep keeps it whatever deletion policy those labels say.

import type { AdoptedObject, DockerHost } from '../crds/dockerhost.js';
import { MAX_ADOPTED_OBJECTS } from '../crds/dockerhost.js';
import { OWNER_LABELS, type AdoptionPolicy } from '../crds/kit.js';
import { updateHostStatus, readHostLive, type HostStatusApi } from './host-status-update.js';
import { CLUSTER_LABEL, type OwnerRef } from './ownership.js';
import { withRelease } from './released-owners.js';

export type AdoptableType = 'volume' | 'network' | 'container';

/** Why an existing object is not taken over; each becomes a NameConflict message. */
export type AdoptionRefusal =
  'notAsked' | 'unlabelledNotAllowed' | 'otherNamespace' | 'ownerLives' | 'otherCluster' | 'adoptedByAnother';

export type AdoptionDecision =
  | { action: 'ours'; adopted: boolean }
  | { action: 'adopt' }
  | { action: 'refuse'; why: AdoptionRefusal }
  | { action: 'confirmClaimant' }
  | { action: 'confirmLabelledOwner' };

export interface AdoptionFacts {
  labels: Readonly<Record<string, string>>;
  owner: OwnerRef;
  policy: AdoptionPolicy;
  clusterId: string | undefined;
  /**
   * Dev mode (`dockyard dev --adopt-previous`): an object labelled for this
   * very resource (same kind, namespace and name) by a previous environment
   * is taken back whatever cluster id it carries, even without IfOrphaned.
   */
  adoptPrevious: boolean;
  /** The DockerHost's securityPolicySettings.allowAdoptingUnlabelled. */
  allowUnlabelled: boolean;
  /** This object's entry in the host's status.adoptedObjects, if any. */
  claim: AdoptedObject | undefined;
  /** Whether the claim's resource still exists (live read); undefined: not read yet. */
  claimantLives?: boolean;
  /** Whether the owner the labels name still exists (live read); undefined: not read yet. */
  labelledOwnerLives?: boolean;
}

/** Pure: whose the object is, and whether this resource may take it over. */
export function decideAdoption(f: AdoptionFacts): AdoptionDecision {
  const uid = f.labels[OWNER_LABELS.uid];
  if (uid !== undefined && uid === f.owner.uid) return { action: 'ours', adopted: false };
  if (f.claim?.uid === f.owner.uid) return { action: 'ours', adopted: true };
  if (f.claim) {
    if (f.claimantLives === undefined) return { action: 'confirmClaimant' };
    if (f.claimantLives) return { action: 'refuse', why: 'adoptedByAnother' };
  }
  const previous = f.adoptPrevious && labelledForThisResource(f.labels, f.owner);
  if (f.policy !== 'IfOrphaned' && !previous) return { action: 'refuse', why: 'notAsked' };
  if (uid === undefined)
    return f.allowUnlabelled ? { action: 'adopt' } : { action: 'refuse', why: 'unlabelledNotAllowed' };
  // Another tenant's orphan holds that tenant's data: only its own namespace takes it back.
  if (f.labels[OWNER_LABELS.namespace] !== f.owner.namespace)
    return { action: 'refuse', why: 'otherNamespace' };
  const cluster = f.labels[CLUSTER_LABEL];
  if (cluster !== undefined && cluster !== f.clusterId)
    return previous ? { action: 'adopt' } : { action: 'refuse', why: 'otherCluster' };
  if (f.labelledOwnerLives === undefined) return { action: 'confirmLabelledOwner' };
  return f.labelledOwnerLives ? { action: 'refuse', why: 'ownerLives' } : { action: 'adopt' };
}

function labelledForThisResource(labels: Readonly<Record<string, string>>, owner: OwnerRef): boolean {
  return (
    labels[OWNER_LABELS.kind] === owner.kind &&
    labels[OWNER_LABELS.namespace] === owner.namespace &&
    labels[OWNER_LABELS.name] === owner.name
  );
}

/** Said to the tenant that asked: never names another tenant's namespace or objects. */
export const REFUSAL_MESSAGES: Record<Exclude<AdoptionRefusal, 'notAsked'>, string> = {
  unlabelledNotAllowed:
    'Dockyard did not create it, and the DockerHost does not allow adopting such objects (securityPolicySettings.allowAdoptingUnlabelled)',
  otherNamespace: 'Dockyard created it for another namespace',
  ownerLives: 'another Dockyard resource owns it and still exists',
  otherCluster: 'another cluster’s Dockyard created it',
  adoptedByAnother: 'another Dockyard resource adopted it first',
};

/** The end of a NameConflict message: how to adopt, or why adopting is refused. */
export function adoptionAdvice(refusal: AdoptionRefusal | undefined): string {
  if (refusal === undefined || refusal === 'notAsked')
    return ', or take it over with spec.adoptionPolicy: IfOrphaned if no live resource owns it.';
  return `. It cannot be adopted: ${REFUSAL_MESSAGES[refusal]}.`;
}

/** Pure: this object's claim on a host, if any. */
export function claimOf(
  host: Pick<DockerHost, 'status'> | undefined,
  type: AdoptableType,
  dockerName: string,
): AdoptedObject | undefined {
  return host?.status?.adoptedObjects?.find((a) => a.type === type && a.dockerName === dockerName);
}

/** Pure: whether `owner` holds the claim on the object (the cached host is enough: claims only change by us). */
export function claimedBy(
  host: Pick<DockerHost, 'status'> | undefined,
  type: AdoptableType,
  dockerName: string,
  owner: Pick<OwnerRef, 'uid'>,
): boolean {
  return claimOf(host, type, dockerName)?.uid === owner.uid;
}

export interface AdoptionRequest {
  type: AdoptableType;
  dockerName: string;
  labels: Readonly<Record<string, string>>;
  policy: AdoptionPolicy;
}

export type AdoptionResult =
  | { owns: 'ours'; adopted: 'no' | 'before' | 'now' }
  | { owns: 'foreign' | 'otherOwner'; refusal: AdoptionRefusal };

/** What deciding needs from outside: live reads and the host status writer. */
export interface AdoptionDeps {
  api: HostStatusApi;
  fieldManager: string;
  /** The resource of this kind with that namespace/name as the API server has it now; null when none. */
  liveOwner: (namespace: string, name: string) => Promise<{ uid?: string } | null>;
  clusterId: string | undefined;
  adoptPrevious: boolean;
  now: () => Date;
}

async function lives(
  deps: AdoptionDeps,
  who: { namespace?: string; name?: string; uid?: string },
): Promise<boolean> {
  // In doubt (a label missing), someone lives: nothing is taken.
  if (!who.namespace || !who.name || !who.uid) return true;
  const found = await deps.liveOwner(who.namespace, who.name);
  return found !== null && found.uid === who.uid;
}

/**
 * Whose the object `req` names is, from the host as the API server has it
 * now, taking it over when this resource may. A volume or network adopted
 * now is claimed in the host's status before it counts as ours; a container
 * needs no claim (it is recreated with this resource's labels).
 */
export async function resolveAdoption(
  deps: AdoptionDeps,
  host: string,
  owner: OwnerRef,
  req: AdoptionRequest,
): Promise<AdoptionResult> {
  const current = await readHostLive(deps.api, host);
  if (!current) return { owns: refusedOwnership(req.labels), refusal: 'notAsked' };
  const facts: AdoptionFacts = {
    labels: req.labels,
    owner,
    policy: req.policy,
    clusterId: deps.clusterId,
    adoptPrevious: deps.adoptPrevious,
    allowUnlabelled: current?.spec.securityPolicySettings?.allowAdoptingUnlabelled === true,
    claim: claimOf(current, req.type, req.dockerName),
  };
  for (;;) {
    const d = decideAdoption(facts);
    if (d.action === 'confirmClaimant') facts.claimantLives = await lives(deps, facts.claim ?? {});
    else if (d.action === 'confirmLabelledOwner')
      facts.labelledOwnerLives = await lives(deps, {
        namespace: req.labels[OWNER_LABELS.namespace],
        name: req.labels[OWNER_LABELS.name],
        uid: req.labels[OWNER_LABELS.uid],
      });
    else if (d.action === 'ours') return { owns: 'ours', adopted: d.adopted ? 'before' : 'no' };
    else if (d.action === 'refuse') return { owns: refusedOwnership(req.labels), refusal: d.why };
    else return claim(deps, host, owner, req, facts.claim);
  }
}

function refusedOwnership(labels: Readonly<Record<string, string>>): 'foreign' | 'otherOwner' {
  return labels[OWNER_LABELS.uid] === undefined ? 'foreign' : 'otherOwner';
}

/**
 * Claims the object for `owner` on a fresh read, unless another claim than
 * the stale one judged (`replacing`) appeared meanwhile; records the uid its
 * labels name as released so the sweep keeps it.
 */
async function claim(
  deps: AdoptionDeps,
  host: string,
  owner: OwnerRef,
  req: AdoptionRequest,
  replacing: AdoptedObject | undefined,
): Promise<AdoptionResult> {
  if (req.type === 'container') return { owns: 'ours', adopted: 'now' };
  const now = deps
    .now()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  let lost = false;
  const written = await updateHostStatus({
    api: deps.api,
    hostName: host,
    fieldManager: deps.fieldManager,
    change: (status) => {
      const existing = claimOf({ status }, req.type, req.dockerName);
      if (existing?.uid === owner.uid) return undefined;
      if (existing && existing.uid !== replacing?.uid) {
        lost = true;
        return undefined;
      }
      return claimFields(status, { req, owner, now });
    },
  });
  if (!written || lost) return { owns: refusedOwnership(req.labels), refusal: 'adoptedByAnother' };
  return { owns: 'ours', adopted: 'now' };
}

export class AdoptionListFull extends Error {
  override readonly name = 'AdoptionListFull';
}

/** Pure: the status fields that claim `req` for `owner` (and release the uid its labels name). */
export function claimFields(
  status: DockerHost['status'],
  c: { req: AdoptionRequest; owner: OwnerRef; now: string },
): Partial<NonNullable<DockerHost['status']>> {
  const { req, owner, now } = c;
  const others = (status?.adoptedObjects ?? []).filter(
    (a) => !(a.type === req.type && a.dockerName === req.dockerName),
  );
  if (others.length >= MAX_ADOPTED_OBJECTS)
    throw new AdoptionListFull(`the DockerHost already records ${MAX_ADOPTED_OBJECTS} adopted objects`);
  const entry: AdoptedObject = {
    type: req.type === 'volume' ? 'volume' : 'network',
    dockerName: req.dockerName,
    uid: owner.uid,
    kind: owner.kind,
    namespace: owner.namespace,
    name: owner.name,
    adoptedAt: now,
  };
  const labelledUid = req.labels[OWNER_LABELS.uid];
  const released =
    labelledUid === undefined
      ? undefined
      : withRelease(status?.releasedOwners, {
          uid: labelledUid,
          kind: req.labels[OWNER_LABELS.kind] ?? owner.kind,
          namespace: req.labels[OWNER_LABELS.namespace] ?? '',
          name: req.labels[OWNER_LABELS.name] ?? '',
          releasedAt: now,
        });
  if (released === 'full') throw new AdoptionListFull('the DockerHost’s releasedOwners list is full');
  return { adoptedObjects: [...others, entry], ...(released ? { releasedOwners: released } : {}) };
}

/** Pure: the adoptedObjects list without `uid`'s claims; undefined when it holds none. */
export function withoutClaims(
  list: readonly AdoptedObject[] | undefined,
  uid: string,
): AdoptedObject[] | undefined {
  if (!list?.some((a) => a.uid === uid)) return undefined;
  return list.filter((a) => a.uid !== uid);
}

/** Drops `uid`'s claims on `host` when it lets go of the host (deleted, moved, drained). */
export async function dropClaims(
  deps: Pick<AdoptionDeps, 'api' | 'fieldManager'>,
  host: string,
  uid: string,
): Promise<void> {
  await updateHostStatus({
    api: deps.api,
    hostName: host,
    fieldManager: deps.fieldManager,
    change: (status) => {
      const next = withoutClaims(status?.adoptedObjects, uid);
      return next ? { adoptedObjects: next } : undefined;
    },
  });
}
