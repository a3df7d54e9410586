// The scale scenario's side of the API server: applying and deleting
// thousands of DockerContainers (every call under the Kube client's deadline,
// long waits with progress lines), and the API server's own request counts
// turned into per-object figures.

import { WORKLOAD_IMAGE } from '../../src/localenv/images.js';
import { isNotFound } from '../../src/runtime/api-errors.js';
import type { Kube } from '../../test/support/kube.js';
import type { Sample } from '../../test/support/prometheus.js';
import type { Log } from './cleanup.js';
import { withProgress, type Progress } from './deadline.js';
import { mapLimit, sleep } from './pool.js';
import { counterDelta } from './stats.js';

/**
 * Creates in flight, for the API floor and the Dockyard apply alike (the
 * same client, the same pace, so the difference is the controller's work).
 */
export const APPLY_IN_FLIGHT = 32;

const GROUP = { group: 'dockyard.io', version: 'v1alpha1', plural: 'dockercontainers' } as const;

/** One DockerContainer of the scale run: its name and the hollow host it lives on. */
export interface ScaleItem {
  name: string;
  host: string;
}

/** `perHost` containers on each host: s-0042-3 is the fourth on hollow-0042. */
export function scaleItems(hostNames: readonly string[], perHost: number): ScaleItem[] {
  return hostNames.flatMap((host, h) =>
    Array.from({ length: perHost }, (_, i) => ({ name: `s-${String(h).padStart(4, '0')}-${i}`, host })),
  );
}

export const scaleContainerSpec = (item: ScaleItem) => ({
  hostName: item.host,
  image: WORKLOAD_IMAGE,
  command: ['sleep', '86400'],
});

/**
 * Creates every item, APPLY_IN_FLIGHT at a time; returns performance.now()
 * of each create request (the start of that object's apply → Ready).
 */
export async function createContainers(
  kube: Kube,
  namespace: string,
  items: readonly ScaleItem[],
  p: Progress,
): Promise<Map<string, number>> {
  const appliedAt = new Map<string, number>();
  await mapLimit(items, APPLY_IN_FLIGHT, async (item) => {
    appliedAt.set(item.name, performance.now());
    await kube.create('DockerContainer', namespace, item.name, scaleContainerSpec(item));
    p.tick();
  });
  return appliedAt;
}

/** How many DockerContainers the namespace holds (one LIST of one item; the server counts the rest). */
export async function countContainers(kube: Kube, namespace: string): Promise<number> {
  const page = (await kube.api.listNamespacedCustomObject({ ...GROUP, namespace, limit: 1 })) as {
    items: unknown[];
    metadata?: { remainingItemCount?: number };
  };
  return page.items.length + (page.metadata?.remainingItemCount ?? 0);
}

/** Objects that carry a finalizer (paged LIST): the API floor's must have none, no controller ran. */
export async function countWithFinalizers(kube: Kube, namespace: string): Promise<number> {
  let withFinalizers = 0;
  let cont: string | undefined;
  do {
    const page = (await kube.api.listNamespacedCustomObject({
      ...GROUP,
      namespace,
      limit: 1000,
      ...(cont ? { _continue: cont } : {}),
    })) as { items: Array<{ metadata: { finalizers?: string[] } }>; metadata?: { continue?: string } };
    withFinalizers += page.items.filter((o) => (o.metadata.finalizers ?? []).length > 0).length;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return withFinalizers;
}

/**
 * Deletes the named DockerContainers (APPLY_IN_FLIGHT DELETEs at a time, each
 * under the client's deadline: one DELETE collection of 10,000 objects takes
 * minutes, longer than any one call should) and waits until the namespace
 * has none left. With a controller running each goes once the controller
 * removed its container and its finalizer; without one (the API floor) at once.
 */
export async function deleteContainers(
  kube: Kube,
  namespace: string,
  names: readonly string[],
  opts: { label: string; timeoutMs: number; log: Log },
): Promise<void> {
  await withProgress({ label: opts.label, total: names.length, verb: 'deleted', log: opts.log }, (p) =>
    mapLimit(names, APPLY_IN_FLIGHT, async (name) => {
      await kube.delete('DockerContainer', namespace, name).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      p.tick();
    }),
  );
  const before = await countContainers(kube, namespace);
  let left = before;
  const deadline = performance.now() + opts.timeoutMs;
  await withProgress(
    { label: opts.label, total: before, verb: 'gone', log: opts.log, count: () => before - left },
    async () => {
      while ((left = await countContainers(kube, namespace)) > 0) {
        if (performance.now() > deadline)
          throw new Error(
            `${opts.label}: ${left}/${before} DockerContainers still present after ${opts.timeoutMs / 1000} s`,
          );
        await sleep(500);
      }
    },
  );
}

/** apiserver_request_total by "VERB resource[/subresource]" (all codes, groups and scopes summed). */
export function apiRequestsByKind(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== 'apiserver_request_total') continue;
    const resource = s.labels.resource || s.labels.path || '(non-resource)';
    const key = `${s.labels.verb ?? '?'} ${resource}${s.labels.subresource ? `/${s.labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

const WRITE_VERBS = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'CREATE',
  'UPDATE',
  'APPLY',
  'DELETECOLLECTION',
]);

/** The API side of a window, with the bench's own creates taken out so what is left is the controller's. */
export interface ApiRequests {
  /** All requests except the bench's creates and kube-apiserver's own Lease renewals. */
  requests: number;
  /** Writes (POST, PUT, PATCH, DELETE) except the same two. */
  writes: number;
  /** PATCH or PUT on dockercontainers/status: the issue's "≤ 2 status writes per object". */
  statusWrites: number;
  byKind: Map<string, number>;
}

export function apiRequestsBetween(
  before: readonly Sample[],
  after: readonly Sample[],
  benchCreates: number,
): ApiRequests {
  const byKind = counterDelta(apiRequestsByKind(before), apiRequestsByKind(after));
  const result: ApiRequests = { requests: -benchCreates, writes: -benchCreates, statusWrites: 0, byKind };
  for (const [key, n] of byKind) {
    const [verb = '', resource = ''] = key.split(' ');
    if (resource === 'leases') continue; // kube-apiserver renews its own identity Lease every 10 s
    result.requests += n;
    if (WRITE_VERBS.has(verb)) result.writes += n;
    if ((verb === 'PATCH' || verb === 'PUT') && resource === 'dockercontainers/status')
      result.statusWrites += n;
  }
  return result;
}

/** Runs the creates with a progress line; returns when every create answered. */
export function applyWithProgress(
  kube: Kube,
  namespace: string,
  items: readonly ScaleItem[],
  label: string,
  log: Log,
): Promise<Map<string, number>> {
  return withProgress({ label, total: items.length, verb: 'created', log }, (p) =>
    createContainers(kube, namespace, items, p),
  );
}
