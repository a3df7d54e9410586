import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { OWNER_LABELS } from '../crds/kit.js';
import { FILES_HASH_LABEL, FILES_REPOSITORY } from '../docker/files-image.js';
import { statusOf } from '../docker/status-code.js';
import type { ManagedMetrics } from './managed-metrics.js';
import { CLUSTER_LABEL, DELETION_POLICY_LABEL } from './ownership.js';
import {
  prunedReleases,
  readHostLive,
  updateReleasedOwners,
  type HostStatusApi,
  type ReleasedOwner,
} from './released-owners.js';

/** A Docker object carrying Dockyard's owner labels. */
export interface LabelledObject {
  type: 'container' | 'network' | 'volume' | 'image';
  /** ID or name to remove it by; an image's ID (removed by its files tag, see removeFilesImage). */
  ref: string;
  labels: Record<string, string>;
  /** An image's repository tags: a files image is swept only while it has a dockyard-files tag. */
  tags?: readonly string[];
}

/** What listLabelled lists: every type the sweep knows except images (listFilesImages). */
export type ListedObject = LabelledObject & { type: Exclude<LabelledObject['type'], 'image'> };

/**
 * A DockerContainer's files image (files-image.ts): the files-hash label and
 * a tag in the files repository. Any other image with owner labels (a user's
 * `docker commit` of a Dockyard container, an image built from one) is not
 * the sweep's to remove.
 */
function isFilesImage(o: LabelledObject): boolean {
  return (
    o.labels[FILES_HASH_LABEL] !== undefined &&
    (o.tags ?? []).some((t) => t.startsWith(`${FILES_REPOSITORY}/`))
  );
}

export type OwnerLookup = (kind: string, namespace: string, name: string) => { uid?: string } | undefined;

/** `kind/namespace/name`: the key of live owner reads. */
export const ownerKey = (kind: string, namespace: string, name: string): string =>
  `${kind}/${namespace}/${name}`;

/** What the sweep knows when it decides; the later facts are read only for objects that need them. */
export interface SweepFacts {
  /** This controller's --cluster-id: only objects labelled with it are ever removed. */
  clusterId: string;
  watchedKinds: ReadonlySet<string>;
  inScope: (namespace: string) => boolean;
  /** The informer caches. */
  cached: OwnerLookup;
  /**
   * The API server's answer for owners the cache lacks (by ownerKey): the
   * owner found, or null when it does not exist. Absent: not read yet.
   */
  live?: ReadonlyMap<string, { uid?: string } | null>;
  /** Owner uids the host's status.releasedOwners lists. Absent: not read yet. */
  released?: ReadonlySet<string>;
}

/** Why an object is kept, removed, or needs a live read before it can be decided. */
export type SweepCode =
  | 'noClusterLabel'
  | 'otherCluster'
  | 'notWatched'
  | 'ownerCached'
  | 'policyKeeps'
  | 'confirmOwner'
  | 'ownerLive'
  | 'confirmRelease'
  | 'released'
  | 'ownerGone'
  | 'notFilesImage'
  | 'filesImageOwnerGone';

export interface SweepDecision {
  object: LabelledObject;
  /** confirm: the cache says gone; read the owner and the host's releases live, then decide again. */
  action: 'remove' | 'keep' | 'confirm';
  code: SweepCode;
  why: string;
}

/**
 * Pure: which labelled objects lost their owner and may go, in priority
 * order. An object is removed only when it carries this cluster's id, its
 * owner kind is watched here and its namespace in scope, the owner is gone
 * from the cache AND from the API server (a cold cache or a new leader must
 * never look like a deletion), the policy recorded at create time is Delete,
 * and the owner did not release it later (status.releasedOwners of the
 * host: deletionPolicy switched to Orphan before the delete, or a move off
 * the host under Orphan). Anything in doubt is kept.
 *
 * A files image holds no data of its own: what a deletion policy or a
 * release keeps is the container built from it, and Docker refuses (409) to
 * remove an image a container still uses. So a files image goes once its
 * owner is confirmed gone, whatever policy its labels recorded, and stays
 * while an orphaned container (running or not) uses it.
 */
export function decideOrphans(objects: readonly LabelledObject[], facts: SweepFacts): SweepDecision[] {
  return objects.map((object) => {
    const d = (action: SweepDecision['action'], code: SweepCode, why: string): SweepDecision => ({
      object,
      action,
      code,
      why,
    });
    if (object.type === 'image' && !isFilesImage(object))
      return d('keep', 'notFilesImage', 'not a files image (no files-hash label or dockyard-files tag)');
    const l = object.labels;
    const kind = l[OWNER_LABELS.kind] ?? '';
    const ns = l[OWNER_LABELS.namespace] ?? '';
    const name = l[OWNER_LABELS.name] ?? '';
    const uid = l[OWNER_LABELS.uid];
    const cluster = l[CLUSTER_LABEL];
    if (cluster === undefined)
      return d('keep', 'noClusterLabel', 'no cluster id label (created before cluster ids): never swept');
    if (cluster !== facts.clusterId) return d('keep', 'otherCluster', `created by cluster ${cluster}`);
    if (!facts.watchedKinds.has(kind) || !facts.inScope(ns))
      return d('keep', 'notWatched', 'owner kind or namespace not watched here');
    const cached = facts.cached(kind, ns, name);
    if (cached && cached.uid === uid) return d('keep', 'ownerCached', 'owner exists');
    const policy = l[DELETION_POLICY_LABEL];
    const image = object.type === 'image';
    if (!image && policy !== 'Delete')
      return d(
        'keep',
        'policyKeeps',
        `owner ${ns}/${name} is gone; deletion policy ${policy ?? 'unrecorded'} keeps it`,
      );
    const live = facts.live?.get(ownerKey(kind, ns, name));
    if (live === undefined)
      return d('confirm', 'confirmOwner', 'owner missing from the cache: ask the API server');
    if (live !== null && live.uid === uid) return d('keep', 'ownerLive', 'owner exists (the cache lags)');
    if (image)
      return d('remove', 'filesImageOwnerGone', `owner ${kind} ${ns}/${name} (uid ${uid}) no longer exists`);
    if (facts.released === undefined)
      return d('confirm', 'confirmRelease', "owner gone: read the host's released owners");
    if (uid !== undefined && facts.released.has(uid))
      return d('keep', 'released', `owner ${kind} ${ns}/${name} released it (deletionPolicy Orphan)`);
    return d('remove', 'ownerGone', `owner ${kind} ${ns}/${name} (uid ${uid}) no longer exists`);
  });
}

/** Lists a host's labelled containers, networks and volumes. */
export async function listLabelled(api: Dockerode): Promise<ListedObject[]> {
  const filters = { label: [OWNER_LABELS.uid] };
  const [containers, networks, volumes] = await Promise.all([
    api.listContainers({ all: true, filters }),
    api.listNetworks({ filters }),
    api.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c): ListedObject => ({ type: 'container', ref: c.Id, labels: c.Labels ?? {} })),
    ...networks.map((n): ListedObject => ({ type: 'network', ref: n.Id, labels: n.Labels ?? {} })),
    ...(volumes.Volumes ?? []).map((v): ListedObject => ({
      type: 'volume',
      ref: v.Name,
      labels: (v.Labels as Record<string, string> | null) ?? {},
    })),
  ];
}

/** A host's images with owner labels and the files-hash label (decideOrphans checks the tag). */
export async function listFilesImages(api: Dockerode): Promise<LabelledObject[]> {
  const images = await api.listImages({ filters: { label: [OWNER_LABELS.uid, FILES_HASH_LABEL] } });
  return images.map((i) => ({ type: 'image', ref: i.Id, labels: i.Labels ?? {}, tags: i.RepoTags ?? [] }));
}

/**
 * Removes a files image by its dockyard-files tag, never forced: Docker then
 * refuses (409) while any container, running or not, uses it, before it
 * untags anything. A tag that points to another image than the one listed
 * (a new owner of the same name built the same files since) is left alone.
 */
async function removeFilesImage(api: Dockerode, o: LabelledObject): Promise<'removed' | 'moved'> {
  let removed = false;
  for (const tag of (o.tags ?? []).filter((t) => t.startsWith(`${FILES_REPOSITORY}/`))) {
    const now = await api.getImage(tag).inspect();
    if (now.Id !== o.ref) continue;
    await api.getImage(tag).remove();
    removed = true;
  }
  return removed ? 'removed' : 'moved';
}

/**
 * Removes one object: 'inUse' when Docker refuses (409), which the next
 * sweep tries again; 'moved' when a files tag names another image by now.
 */
async function remove(api: Dockerode, o: LabelledObject): Promise<'removed' | 'inUse' | 'moved'> {
  try {
    if (o.type === 'container') await api.getContainer(o.ref).remove({ force: true });
    else if (o.type === 'network') await api.getNetwork(o.ref).remove();
    else if (o.type === 'volume') await api.getVolume(o.ref).remove();
    else return await removeFilesImage(api, o);
    return 'removed';
  } catch (err) {
    const code = statusOf(err);
    if (code === 404) return 'removed'; // gone already
    if (code === 409) return 'inUse'; // the next sweep tries again once the user of it is gone
    throw err;
  }
}

export interface SweepDeps {
  hosts: () => Array<{ name: string; api: Dockerode; releasedOwners?: readonly ReleasedOwner[] }>;
  clusterId: string;
  lookup: OwnerLookup;
  /** The owner as the API server has it now (null: it does not exist); never a cache. */
  liveOwner: (kind: string, namespace: string, name: string) => Promise<{ uid?: string } | null>;
  /** Reads and writes DockerHost status.releasedOwners. */
  hostStatus: HostStatusApi;
  fieldManager: string;
  watchedKinds: ReadonlySet<string>;
  inScope: (namespace: string) => boolean;
  metrics: ManagedMetrics;
  logger: Logger;
  /** Hosts whose objects without a cluster id were already logged (once per host and process). */
  loggedUnlabelled?: Set<string>;
  now?: () => Date;
}

/** Decides one host's objects: from the cache first, then live reads for those the cache says are gone. */
async function decideHost(
  deps: SweepDeps,
  host: { name: string },
  objects: readonly LabelledObject[],
): Promise<SweepDecision[]> {
  const facts: SweepFacts = {
    clusterId: deps.clusterId,
    watchedKinds: deps.watchedKinds,
    inScope: deps.inScope,
    cached: deps.lookup,
  };
  const first = decideOrphans(objects, facts);
  const doubtful = first.filter((d) => d.action === 'confirm');
  if (doubtful.length === 0) return first;
  const live = new Map<string, { uid?: string } | null>();
  for (const { object } of doubtful) {
    const [kind, ns, name] = [OWNER_LABELS.kind, OWNER_LABELS.namespace, OWNER_LABELS.name].map(
      (k) => object.labels[k] ?? '',
    ) as [string, string, string];
    const key = ownerKey(kind, ns, name);
    if (!live.has(key)) live.set(key, await deps.liveOwner(kind, ns, name));
  }
  // Read after the owners: a finalizer records the release before it lets
  // its owner go, so an owner seen gone has its release visible here.
  const current = await readHostLive(deps.hostStatus, host.name);
  if (!current) return first.map((d) => ({ ...d, action: 'keep' as const }));
  const released = new Set((current.status?.releasedOwners ?? []).map((e) => e.uid));
  return decideOrphans(objects, { ...facts, live, released });
}

/** Drops released owners none of whose objects is left on the host. */
async function pruneReleased(
  deps: SweepDeps,
  host: { name: string; releasedOwners?: readonly ReleasedOwner[] },
  objects: readonly LabelledObject[],
  listedAt: Date,
): Promise<void> {
  const liveUids = new Set(objects.flatMap((o) => o.labels[OWNER_LABELS.uid] ?? []));
  // The cached list decides whether a live read is worth it; the write itself works on a fresh read.
  if (!prunedReleases(host.releasedOwners, liveUids, listedAt)) return;
  await updateReleasedOwners(
    deps.hostStatus,
    host.name,
    (list) => prunedReleases(list, liveUids, listedAt),
    deps.fieldManager,
  );
}

function logUnlabelled(deps: SweepDeps, host: string, decisions: readonly SweepDecision[]): void {
  const count = decisions.filter((d) => d.code === 'noClusterLabel').length;
  if (count === 0 || deps.loggedUnlabelled?.has(host)) return;
  deps.loggedUnlabelled?.add(host);
  deps.logger.info(
    { host, objects: count },
    'Docker objects with owner labels but no cluster id (created before cluster ids) are kept and never swept',
  );
}

/** Containers first: the files images, networks and volumes they used are then free. */
const REMOVAL_ORDER: Record<LabelledObject['type'], number> = {
  container: 0,
  image: 1,
  network: 2,
  volume: 3,
};

/** Removes what the decisions doom on one host; returns how many went. */
async function removeDoomed(
  deps: SweepDeps,
  host: { name: string; api: Dockerode },
  decisions: readonly SweepDecision[],
): Promise<number> {
  let removed = 0;
  const doomed = decisions
    .filter((d) => d.action === 'remove')
    .sort((a, b) => REMOVAL_ORDER[a.object.type] - REMOVAL_ORDER[b.object.type]);
  for (const d of doomed) {
    const at = { host: host.name, type: d.object.type, ref: d.object.ref };
    const outcome = await remove(host.api, d.object);
    if (outcome !== 'removed') {
      // Expected for a files image an orphaned container runs from: not a removal, not worth a warning.
      deps.logger.debug({ ...at, outcome, why: d.why }, 'orphaned Docker object kept');
      continue;
    }
    removed++;
    deps.metrics.orphanRemoved(d.object.labels[OWNER_LABELS.kind] ?? 'unknown');
    deps.logger.info({ ...at, why: d.why }, 'removed orphaned Docker object');
  }
  return removed;
}

/** One pass over every Ready host. */
export async function sweepOrphans(deps: SweepDeps): Promise<number> {
  let removed = 0;
  for (const host of deps.hosts()) {
    try {
      const listedAt = deps.now?.() ?? new Date();
      const objects = await listLabelled(host.api);
      const images = await listFilesImages(host.api);
      const decisions = await decideHost(deps, host, [...objects, ...images]);
      logUnlabelled(deps, host.name, decisions);
      removed += await removeDoomed(deps, host, decisions);
      // Images left out: no release protects them, so none is a reason to keep a release entry.
      await pruneReleased(deps, host, objects, listedAt);
    } catch (err) {
      deps.logger.warn({ host: host.name, err }, 'orphan sweep failed on host; trying again next round');
    }
  }
  return removed;
}
