// The dashboard process's caches: one informer per watched resource and
// scope the viewer may list, shared by every open tab. A change anywhere
// calls `onChange` (the live state recomputes its rows, throttled).

import type { CoreV1Event, KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informer } from '../runtime/informer.js';
import type { DockerContainer } from '../crds/dockercontainer.js';
import type { DockerHost } from '../crds/dockerhost.js';
import { EVENTS, type WatchedResource } from './resources.js';
import type { DockyardObject } from './views/cells.js';
import type { Access } from './views/types.js';

export interface FleetCacheOptions {
  kc: KubeConfig;
  access: Access;
  resources: readonly WatchedResource[];
  logger: Logger;
  onChange: () => void;
}

export class FleetCache {
  private readonly informers = new Map<string, Array<Informer<KubernetesObject>>>();

  constructor(private readonly opts: FleetCacheOptions) {
    for (const resource of opts.resources) {
      const grant = opts.access.resources[resource.id];
      if (!grant || grant.scope === 'forbidden') continue;
      const scopes = grant.scope === 'cluster' ? [undefined] : (grant.namespaces ?? []);
      this.informers.set(
        resource.id,
        scopes.map((ns) => this.informerFor(resource, ns)),
      );
    }
  }

  private informerFor(resource: WatchedResource, namespace: string | undefined): Informer<KubernetesObject> {
    const informer = new Informer<KubernetesObject>({
      resource: namespace ? `${resource.id} in ${namespace}` : resource.id,
      listWatcher: resource.listWatcher(this.opts.kc, namespace),
      logger: this.opts.logger,
      // Nothing here acts on a resync; the rows only change with the objects.
      resyncPeriodMs: 0,
    });
    const changed = () => this.opts.onChange();
    informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
    return informer;
  }

  start(): void {
    for (const list of this.informers.values()) for (const i of list) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].flat().map((i) => i.stop()));
  }

  /** Every informer has listed once. */
  hasSynced(): boolean {
    return [...this.informers.values()].flat().every((i) => i.hasSynced());
  }

  /** How many watches this process holds: one per resource and scope, whatever the tabs. */
  watchCount(): number {
    return [...this.informers.values()].flat().length;
  }

  /** The cached objects of a resource, across the scopes it is watched in. */
  objects(resourceId: string): KubernetesObject[] {
    return (this.informers.get(resourceId) ?? []).flatMap((i) => i.list());
  }

  hosts(): DockerHost[] {
    return this.ofKind('DockerHost') as DockerHost[];
  }

  containers(): DockerContainer[] {
    return this.ofKind('DockerContainer') as DockerContainer[];
  }

  events(): CoreV1Event[] {
    return this.objects(EVENTS.id) as CoreV1Event[];
  }

  /** Kind → its cached objects, for every Dockyard kind watched. */
  byKind(): Map<string, DockyardObject[]> {
    const out = new Map<string, DockyardObject[]>();
    for (const r of this.opts.resources) {
      if (r.id === EVENTS.id || !this.informers.has(r.id)) continue;
      out.set(r.kind, this.objects(r.id) as DockyardObject[]);
    }
    return out;
  }

  /** The cached objects of one kind (empty when it is not watched). */
  ofKind(kind: string): KubernetesObject[] {
    const r = this.opts.resources.find((x) => x.kind === kind);
    return r ? this.objects(r.id) : [];
  }
}
