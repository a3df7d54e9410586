import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { OWNER_LABELS } from '../crds/kit.js';
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
  type: 'container' | 'network' | 'volume';
  /** ID or name to remove it by. */
  ref: string;
  labels: Record<string, string>;
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
  | 'ownerGone';

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
 */
export function decideOrphans(objects: readonly LabelledObject[], facts: SweepFacts): SweepDecision[] {
  return objects.map((object) => {
    const d = (action: SweepDecision['action'], code: SweepCode, why: string): SweepDecision => ({
      object,
      action,
      code,
      why,
    });
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
    if (policy !== 'Delete')
      return d(
        'keep',
        'policyKeeps',
        `owner ${ns}/${name} is gone; deletion policy ${policy ?? 'unrecorded'} keeps it`,
      );
    const live = facts.live?.get(ownerKey(kind, ns, name));
    if (live === undefined)
      return d('confirm', 'confirmOwner', 'owner missing from the cache: ask the API server');
    if (live !== null && live.uid === uid) return d('keep', 'ownerLive', 'owner exists (the cache lags)');
    if (facts.released === undefined)
      return d('confirm', 'confirmRelease', "owner gone: read the host's released owners");
    if (uid !== undefined && facts.released.has(uid))
      return d('keep', 'released', `owner ${kind} ${ns}/${name} released it (deletionPolicy Orphan)`);
    return d('remove', 'ownerGone', `owner ${kind} ${ns}/${name} (uid ${uid}) no longer exists`);
  });
}

/** Lists a host's labelled containers, networks and volumes. */
export async function listLabelled(api: Dockerode): Promise<LabelledObject[]> {
  const filters = { label: [OWNER_LABELS.uid] };
  const [containers, networks, volumes] = await Promise.all([
    api.listContainers({ all: true, filters }),
    api.listNetworks({ filters }),
    api.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c): LabelledObject => ({ type: 'container', ref: c.Id, labels: c.Labels ?? {} })),
    ...networks.map((n): LabelledObject => ({ type: 'network', ref: n.Id, labels: n.Labels ?? {} })),
    ...(volumes.Volumes ?? []).map((v): LabelledObject => ({
      type: 'volume',
      ref: v.Name,
      labels: (v.Labels as Record<string, string> | null) ?? {},
    })),
  ];
}

async function remove(api: Dockerode, o: LabelledObject): Promise<void> {
  try {
    if (o.type === 'container') await api.getContainer(o.ref).remove({ force: true });
    else if (o.type === 'network') await api.getNetwork(o.ref).remove();
    else await api.getVolume(o.ref).remove();
  } catch (err) {
    const code = statusOf(err);
    if (code === 404) return; // gone already
    if (code === 409) return; // in use: the next sweep tries again once the user of it is gone
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

/** One pass over every Ready host; containers go first so networks and volumes they used are free. */
export async function sweepOrphans(deps: SweepDeps): Promise<number> {
  let removed = 0;
  for (const host of deps.hosts()) {
    try {
      const listedAt = deps.now?.() ?? new Date();
      const objects = await listLabelled(host.api);
      const decisions = await decideHost(deps, host, objects);
      logUnlabelled(deps, host.name, decisions);
      const order = { container: 0, network: 1, volume: 2 };
      const doomed = decisions
        .filter((d) => d.action === 'remove')
        .sort((a, b) => order[a.object.type] - order[b.object.type]);
      for (const d of doomed) {
        await remove(host.api, d.object);
        removed++;
        deps.metrics.orphanRemoved(d.object.labels[OWNER_LABELS.kind] ?? 'unknown');
        deps.logger.info(
          { host: host.name, type: d.object.type, ref: d.object.ref, why: d.why },
          'removed orphaned Docker object',
        );
      }
      await pruneReleased(deps, host, objects, listedAt);
    } catch (err) {
      deps.logger.warn({ host: host.name, err }, 'orphan sweep failed on host; trying again next round');
    }
  }
  return removed;
}
