import type { DockerHost } from '../crds/dockerhost.js';
import type { HostRuntime } from '../controllers/host-runtime.js';
import type { ControllerDeps } from '../controllers/index.js';
import { isTrue } from '../runtime/conditions.js';
import type { Informer } from '../runtime/informer.js';
import { managedMetrics } from './managed-metrics.js';
import { sweepOrphans } from './orphan-sweep.js';

/** How often the sweep runs after the first one at start. */
export const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;
const SWEEP_KEY = 'orphans';

export type OwnerCache = Pick<Informer<{ metadata?: { uid?: string } }>, 'getByName' | 'hasSynced'>;

/**
 * The orphan sweep, run as a one-key controller: it starts only on the leader,
 * only after every owner cache synced (an owner missing from an unsynced
 * cache must never look deleted), and requeues itself.
 */
export function registerOrphanSweeper(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  hosts: Informer<DockerHost>,
  owners: ReadonlyMap<string, OwnerCache>,
  intervalMs: number = DEFAULT_SWEEP_INTERVAL_MS,
): void {
  const metrics = managedMetrics(deps.manager.metrics.registry);
  const controller = deps.manager.createController({
    name: 'orphan-sweeper',
    maxConcurrentReconciles: 1,
    reconciler: {
      reconcile: async (ctx) => {
        await sweepOrphans({
          hosts: () =>
            hosts
              .list()
              .filter((h) => isTrue(h.status?.conditions, 'Ready'))
              .flatMap((h) => {
                const conn = hostRuntime.connection(h.metadata.name);
                return conn ? [{ name: h.metadata.name, api: conn.api }] : [];
              }),
          lookup: (kind, namespace, name) => {
            const owner = owners.get(kind)?.getByName(name, namespace);
            return owner ? { ...(owner.metadata?.uid ? { uid: owner.metadata.uid } : {}) } : undefined;
          },
          watchedKinds: new Set(owners.keys()),
          inScope: (ns) => deps.watchNamespace === undefined || deps.watchNamespace === ns,
          metrics,
          logger: ctx.logger,
        });
        return { requeueAfterMs: intervalMs };
      },
    },
  });
  controller.waitForSync(hosts);
  for (const cache of owners.values()) controller.waitForSync(cache);
  controller.trigger(SWEEP_KEY);
}
