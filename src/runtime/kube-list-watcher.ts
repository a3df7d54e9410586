// The real list/watch transport over @kubernetes/client-node.
//
// Lists go through CustomObjectsApi, which returns the raw JSON: the generic
// KubernetesObjectApi would coerce a custom resource list's metadata into
// V1ObjectMeta and drop the `continue` token, breaking pagination. Watches use
// client-node's path-based `Watch`, which yields raw JSON too, so cached
// objects look the same whichever way they arrived.

import { CustomObjectsApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import {
  WatchIdleTimeout,
  type ListResult,
  type ListWatcher,
  type WatchEvent,
  type WatchHandle,
} from './informer.js';

export interface ListPage<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string; _continue?: string };
}

export interface ListPageOptions {
  limit: number;
  continueToken: string | undefined;
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
}

export type ListPageFn<T> = (options: ListPageOptions) => Promise<ListPage<T>>;

/** The part of client-node's `Watch` used here. */
export type WatchFn = Pick<Watch, 'watch'>;

export interface KubeListWatcherOptions<T> {
  /** API path to watch, e.g. `/apis/dockyard.io/v1alpha1/dockerhosts`. */
  path: string;
  listPage: ListPageFn<T>;
  watch: WatchFn;
  /** Stamped on listed items, which the API server sends without them. */
  apiVersion?: string;
  kind?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page. Default 500 (client-go's). */
  pageSize?: number;
  /**
   * Server-side watch timeout. client-node's Watch aborts a connection after
   * 30 s without data; a timeout under 30 s lets a healthy server end idle
   * watches itself, cleanly, which the informer counts as a sign of life. (It
   * cannot count on a bookmark before the timeout: kube-apiserver sends one
   * only from its watch cache and only when the resource changed meanwhile.)
   * Default 25 s.
   */
  timeoutSeconds?: number;
}

export class KubeListWatcher<T extends KubernetesObject> implements ListWatcher<T> {
  constructor(private readonly options: KubeListWatcherOptions<T>) {}

  async list(): Promise<ListResult<T>> {
    const { listPage, labelSelector, fieldSelector, apiVersion, kind } = this.options;
    const items: T[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      const page = await listPage({
        limit: this.options.pageSize ?? 500,
        continueToken,
        labelSelector,
        fieldSelector,
      });
      // Every page of a paginated list is served from the first page's snapshot.
      if (!resourceVersion) resourceVersion = page.metadata?.resourceVersion ?? '';
      for (const item of page.items ?? []) {
        items.push({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind });
      }
      continueToken = page.metadata?.continue ?? page.metadata?._continue ?? undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  async watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    const { path, labelSelector, fieldSelector } = this.options;
    const controller = await this.options.watch.watch(
      path,
      {
        allowWatchBookmarks: true,
        resourceVersion,
        timeoutSeconds: this.options.timeoutSeconds ?? 25,
        labelSelector,
        fieldSelector,
      },
      (phase: string, apiObj: unknown) => {
        const event = toWatchEvent<T>(phase, apiObj);
        if (event) onEvent(event);
      },
      (err: unknown) => onDone(isInactivityTimeout(err) ? new WatchIdleTimeout() : (err ?? undefined)),
    );
    return { abort: () => controller.abort() };
  }
}

/** Maps client-node's (phase, object) callback to a typed event; unknown phases are dropped. */
export function toWatchEvent<T>(phase: string, apiObj: unknown): WatchEvent<T> | undefined {
  const obj = (apiObj ?? {}) as {
    metadata?: { resourceVersion?: string };
    code?: number;
    reason?: string;
    message?: string;
  };
  switch (phase) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: phase, object: apiObj as T };
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: obj.metadata?.resourceVersion ?? '' };
    case 'ERROR':
      return { type: 'ERROR', status: { code: obj.code, reason: obj.reason, message: obj.message } };
    default:
      return undefined;
  }
}

/**
 * client-node's own inactivity abort (30 s without data). Re-watching from
 * the last resourceVersion is right, but with the server's timeout under 30 s
 * it also means the server did not end the watch itself: no sign of life.
 */
function isInactivityTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Watch one namespace; all namespaces (or a cluster-scoped resource) when absent. */
  namespace?: string;
}

export function resourcePath(resource: Omit<CustomResource, 'kind'>): string {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return resource.namespace
    ? `${base}/namespaces/${encodeURIComponent(resource.namespace)}/${resource.plural}`
    : `${base}/${resource.plural}`;
}

/** A list/watch transport for a custom resource, over a real API server. */
export function customResourceListWatcher<T extends KubernetesObject>(
  kc: KubeConfig,
  resource: CustomResource,
  options: {
    labelSelector?: string;
    fieldSelector?: string;
    pageSize?: number;
    timeoutSeconds?: number;
  } = {},
): KubeListWatcher<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace } = resource;
  const listPage: ListPageFn<T> = (o) => {
    const common = {
      group,
      version,
      plural,
      limit: o.limit,
      _continue: o.continueToken,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    };
    return (
      namespace
        ? api.listNamespacedCustomObject({ ...common, namespace })
        : api.listClusterCustomObject(common)
    ) as Promise<ListPage<T>>;
  };
  return new KubeListWatcher<T>({
    path: resourcePath(resource),
    listPage,
    watch: new Watch(kc),
    apiVersion: `${group}/${version}`,
    kind: resource.kind,
    ...options,
  });
}
