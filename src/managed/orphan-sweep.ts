import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { OWNER_LABELS } from '../crds/kit.js';
import { statusOf } from '../docker/status-code.js';
import type { ManagedMetrics } from './managed-metrics.js';
import { DELETION_POLICY_LABEL } from './ownership.js';

/** A Docker object carrying Dockyard's owner labels. */
export interface LabelledObject {
  type: 'container' | 'network' | 'volume';
  /** ID or name to remove it by. */
  ref: string;
  labels: Record<string, string>;
}

export type OwnerLookup = (kind: string, namespace: string, name: string) => { uid?: string } | undefined;

export interface SweepDecision {
  object: LabelledObject;
  action: 'remove' | 'keep';
  why: string;
}

/**
 * Pure: which labelled objects lost their owner and may go. An object is
 * removed only when its owner kind is one we watch (and its namespace is in
 * scope), the owner is gone (or replaced: another uid), and the policy
 * recorded on the object at create time is Delete. Volumes keep their data
 * unless that label says Delete; Orphan means keep, always.
 */
export function decideOrphans(
  objects: readonly LabelledObject[],
  lookup: OwnerLookup,
  watchedKinds: ReadonlySet<string>,
  inScope: (namespace: string) => boolean,
): SweepDecision[] {
  return objects.map((object) => {
    const kind = object.labels[OWNER_LABELS.kind] ?? '';
    const ns = object.labels[OWNER_LABELS.namespace] ?? '';
    const name = object.labels[OWNER_LABELS.name] ?? '';
    const uid = object.labels[OWNER_LABELS.uid];
    if (!watchedKinds.has(kind) || !inScope(ns))
      return { object, action: 'keep', why: 'owner kind or namespace not watched here' };
    const owner = lookup(kind, ns, name);
    if (owner && owner.uid === uid) return { object, action: 'keep', why: 'owner exists' };
    const policy = object.labels[DELETION_POLICY_LABEL];
    if (policy !== 'Delete')
      return {
        object,
        action: 'keep',
        why: `owner ${ns}/${name} is gone; deletion policy ${policy ?? 'unrecorded'} keeps it`,
      };
    return { object, action: 'remove', why: `owner ${kind} ${ns}/${name} (uid ${uid}) no longer exists` };
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
  hosts: () => Array<{ name: string; api: Dockerode }>;
  lookup: OwnerLookup;
  watchedKinds: ReadonlySet<string>;
  inScope: (namespace: string) => boolean;
  metrics: ManagedMetrics;
  logger: Logger;
}

/** One pass over every Ready host; containers go first so networks and volumes they used are free. */
export async function sweepOrphans(deps: SweepDeps): Promise<number> {
  let removed = 0;
  for (const host of deps.hosts()) {
    try {
      const decisions = decideOrphans(
        await listLabelled(host.api),
        deps.lookup,
        deps.watchedKinds,
        deps.inScope,
      );
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
    } catch (err) {
      deps.logger.warn({ host: host.name, err }, 'orphan sweep failed on host; trying again next round');
    }
  }
  return removed;
}
