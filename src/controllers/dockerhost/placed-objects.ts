import type { ManagedObject } from '../../managed/types.js';
import type { Informer } from '../../runtime/informer.js';

/** Index over each managed kind's cache: the DockerHosts an object is placed on. */
export const PLACED_HOST_INDEX = 'placedHost';

/** The hosts an object is placed on, as its status.hosts records them (also while Removing or Deleting). */
export function placedHostsOf(obj: ManagedObject): string[] {
  return [...new Set((obj.status?.hosts ?? []).map((h) => h.name))];
}

export interface PlacedKind {
  kind: string;
  /** `namespace/name` of each object of this kind placed on the host, sorted. */
  objects: string[];
}

export interface PlacedObjectsOnHost {
  total: number;
  /** Kinds with at least one object, in the order they were tracked. */
  byKind: PlacedKind[];
}

/** Counts what is placed on one host from each kind's objects placed there. Pure. */
export function countPlaced(
  byKind: ReadonlyArray<{ kind: string; objects: readonly ManagedObject[] }>,
): PlacedObjectsOnHost {
  const kinds = byKind
    .map(({ kind, objects }) => ({
      kind,
      objects: objects.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort(),
    }))
    .filter((k) => k.objects.length > 0);
  return { total: kinds.reduce((n, k) => n + k.objects.length, 0), byKind: kinds };
}

/** "DockerContainer 1 (team-a/web), DockerVolume 2 (team-a/data, team-b/cache)", at most `maxNames` names per kind. */
export function describePlaced(placed: PlacedObjectsOnHost, maxNames = 3): string {
  return placed.byKind
    .map(({ kind, objects }) => {
      const shown = objects.slice(0, maxNames).join(', ');
      const more = objects.length > maxNames ? `, … ${objects.length - maxNames} more` : '';
      return `${kind} ${objects.length} (${shown}${more})`;
    })
    .join(', ');
}

/**
 * What the DockerHost controller knows about the objects placed on each host:
 * every managed kind's informer cache, indexed by status.hosts[].name. The
 * managed kinds are registered after the DockerHost controller, so they are
 * added with track().
 */
export class PlacedObjects {
  private readonly sources: Array<{ kind: string; informer: Pick<Informer<ManagedObject>, 'byIndex'> }> = [];

  track<T extends ManagedObject>(kind: string, informer: Pick<Informer<T>, 'addIndexer' | 'byIndex'>): void {
    informer.addIndexer(PLACED_HOST_INDEX, placedHostsOf);
    this.sources.push({ kind, informer: { byIndex: (index, value) => informer.byIndex(index, value) } });
  }

  on(host: string): PlacedObjectsOnHost {
    return countPlaced(
      this.sources.map((s) => ({ kind: s.kind, objects: s.informer.byIndex(PLACED_HOST_INDEX, host) })),
    );
  }
}
