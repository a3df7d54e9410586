import { Counter, Gauge, type Registry } from 'prom-client';

export interface ManagedMetrics {
  driftRepaired(kind: string): void;
  orphanRemoved(kind: string): void;
  /** Counts objects by summary phase at scrape time. */
  trackObjects(kind: string, list: () => ReadonlyArray<{ status?: { phase?: string } }>): void;
}

const registries = new WeakMap<Registry, ManagedMetrics>();

/** One set per registry (every controller of a process shares it). */
export function managedMetrics(registry: Registry): ManagedMetrics {
  const existing = registries.get(registry);
  if (existing) return existing;
  const sources = new Map<string, () => ReadonlyArray<{ status?: { phase?: string } }>>();
  const registers = [registry];
  new Gauge({
    name: 'dockyard_managed_objects',
    help: 'Dockyard objects by kind and summary phase (with --shards: those whose own namespace/name falls in a shard this replica holds, so a sum over the replicas counts each once)',
    labelNames: ['kind', 'phase'] as const,
    registers,
    collect() {
      this.reset();
      for (const [kind, list] of sources) {
        const counts = new Map<string, number>();
        for (const obj of list()) {
          const phase = obj.status?.phase ?? 'Pending';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        for (const [phase, n] of counts) this.set({ kind, phase }, n);
      }
    },
  });
  const drift = new Counter({
    name: 'dockyard_drift_repairs_total',
    help: 'Docker objects put back after they changed or vanished outside Dockyard',
    labelNames: ['kind'] as const,
    registers,
  });
  const orphans = new Counter({
    name: 'dockyard_orphans_removed_total',
    help: 'Docker objects with Dockyard labels whose owner no longer exists, removed per the recorded deletion policy (files images: once no container uses them)',
    labelNames: ['kind'] as const,
    registers,
  });
  const metrics: ManagedMetrics = {
    driftRepaired: (kind) => drift.inc({ kind }),
    orphanRemoved: (kind) => orphans.inc({ kind }),
    trackObjects: (kind, list) => sources.set(kind, list),
  };
  registries.set(registry, metrics);
  return metrics;
}

export const managedMetricsNoop: ManagedMetrics = {
  driftRepaired: () => {},
  orphanRemoved: () => {},
  trackObjects: () => {},
};
