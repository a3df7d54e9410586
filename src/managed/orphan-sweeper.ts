import { CustomObjectsApi } from '@kubernetes/client-node';
import type { DockerHost } from '../crds/dockerhost.js';
import type { HostRuntime } from '../docker/host-runtime.js';
import type { ControllerDeps } from './controller-deps.js';
import { isTrue } from '../runtime/conditions.js';
import type { Informer } from '../runtime/informer.js';
import type { ResourceType } from '../runtime/object-ref.js';
import { managedMetrics } from './managed-metrics.js';
import { readOwnerLive } from './live-owner.js';
import { sweepOrphans } from './orphan-sweep.js';

/** How often the sweep runs after the first one at start. */
export const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;
const SWEEP_KEY = 'orphans';
/** The sweep's controller name. */
export const ORPHAN_SWEEPER = 'orphan-sweeper';
const FIELD_MANAGER = 'dockyard-orphan-sweeper';

export type OwnerCache = Pick<Informer<{ metadata?: { uid?: string } }>, 'getByName' | 'hasSynced'>;

/** An owner kind the sweep knows: its cache, and where to read it live. */
export interface OwnerSource {
  cache: OwnerCache;
  resource: ResourceType;
}

/**
 * The orphan sweep, run as a one-key controller: it starts only on the leader
 * (sharded: on every replica, over its own shards' hosts), only after every
 * owner cache synced, and requeues itself. Even then an owner
 * missing from the cache is confirmed gone by the API server before anything
 * of it is removed (see decideOrphans).
 */
export function registerOrphanSweeper(options: {
  deps: ControllerDeps;
  hostRuntime: HostRuntime;
  hosts: Informer<DockerHost>;
  /** Every owner kind whose Docker objects the sweep may remove, by kind. */
  owners: ReadonlyMap<string, OwnerSource>;
  /** Default DEFAULT_SWEEP_INTERVAL_MS. */
  intervalMs?: number | undefined;
}): void {
  const { deps, hostRuntime, hosts, owners } = options;
  const intervalMs = options.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const metrics = managedMetrics(deps.manager.metrics.registry);
  const api = deps.kc.makeApiClient(CustomObjectsApi);
  const loggedUnlabelled = new Set<string>();
  const controller = deps.manager.createController({
    name: ORPHAN_SWEEPER,
    maxConcurrentReconciles: 1,
    needLeaderElection: deps.shards === undefined,
    reconciler: {
      reconcile: async (ctx) => {
        await sweepOrphans({
          hosts: () =>
            hosts
              .list()
              .filter((h) => isTrue(h.status?.conditions, 'Ready'))
              // Sharded: each replica sweeps the hosts of its own shards.
              .filter((h) => deps.shards?.owns(h.metadata.name) ?? true)
              .flatMap((h) => {
                const conn = hostRuntime.connection(h.metadata.name);
                return conn
                  ? [
                      {
                        name: h.metadata.name,
                        api: conn.api,
                        ...(h.status?.releasedOwners ? { releasedOwners: h.status.releasedOwners } : {}),
                      },
                    ]
                  : [];
              }),
          clusterId: deps.clusterId,
          lookup: (kind, namespace, name) => {
            const owner = owners.get(kind)?.cache.getByName(name, namespace);
            return owner ? { ...(owner.metadata?.uid ? { uid: owner.metadata.uid } : {}) } : undefined;
          },
          liveOwner: async (kind, namespace, name) => {
            const source = owners.get(kind);
            // Not a kind we watch: decideOrphans never asks for one; in doubt, it exists.
            if (!source) return {};
            return readOwnerLive(api, source.resource, namespace, name);
          },
          hostStatus: api,
          fieldManager: FIELD_MANAGER,
          watchedKinds: new Set(owners.keys()),
          inScope: (ns) => deps.watchNamespace === undefined || deps.watchNamespace === ns,
          metrics,
          logger: ctx.logger,
          loggedUnlabelled,
        });
        return { requeueAfterMs: intervalMs };
      },
    },
  });
  controller.waitForSync(hosts);
  for (const source of owners.values()) controller.waitForSync(source.cache);
  controller.trigger(SWEEP_KEY);
}
