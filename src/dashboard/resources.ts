// What the dashboard watches: every Dockyard kind, and the Events about
// Dockyard objects. One informer per resource (and per namespace when the
// viewer may not list cluster-wide) per dashboard process, whatever the
// number of open tabs.

import {
  CoreV1Api,
  Watch,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { ALL_KINDS, GROUP, VERSION } from '../crds/index.js';
import { customResourceListWatcher, KubeListWatcher, resourcePath } from '../runtime/kube-list-watcher.js';
import type { ListWatcher } from '../runtime/informer.js';

export interface WatchedResource {
  /** plural.group, as RBAC and the access map name it. */
  id: string;
  kind: string;
  group: string;
  plural: string;
  namespaced: boolean;
  /** Builds the list/watch transport for one namespace, or all (undefined). */
  listWatcher(kc: KubeConfig, namespace: string | undefined): ListWatcher<KubernetesObject>;
}

/** Only Events about Dockyard objects (a field the API server filters on). */
export const EVENT_FIELD_SELECTOR = `involvedObject.apiVersion=${GROUP}/${VERSION}`;

function eventsListWatcher(kc: KubeConfig, namespace: string | undefined): KubeListWatcher<CoreV1Event> {
  const core = kc.makeApiClient(CoreV1Api);
  return new KubeListWatcher<CoreV1Event>({
    path: resourcePath({ group: '', version: 'v1', plural: 'events', ...(namespace ? { namespace } : {}) }),
    listPage: (o) => {
      const common = {
        limit: o.limit,
        fieldSelector: EVENT_FIELD_SELECTOR,
        ...(o.continueToken ? { _continue: o.continueToken } : {}),
      };
      return namespace
        ? core.listNamespacedEvent({ namespace, ...common })
        : core.listEventForAllNamespaces(common);
    },
    watch: new Watch(kc),
    apiVersion: 'v1',
    kind: 'Event',
    fieldSelector: EVENT_FIELD_SELECTOR,
  });
}

export const EVENTS: WatchedResource = {
  id: 'events',
  kind: 'Event',
  group: '',
  plural: 'events',
  namespaced: true,
  listWatcher: (kc, namespace) => eventsListWatcher(kc, namespace) as ListWatcher<KubernetesObject>,
};

export const WATCHED: readonly WatchedResource[] = [
  ...ALL_KINDS.map((k): WatchedResource => ({
    id: `${k.plural}.${GROUP}`,
    kind: k.kind,
    group: GROUP,
    plural: k.plural,
    namespaced: k.scope === 'Namespaced',
    listWatcher: (kc, namespace) =>
      customResourceListWatcher(kc, {
        group: GROUP,
        version: VERSION,
        plural: k.plural,
        kind: k.kind,
        ...(namespace && k.scope === 'Namespaced' ? { namespace } : {}),
      }),
  })),
  EVENTS,
];
