// What the viewer may list and watch, asked of the API server the way
// `kubectl auth can-i` asks (SelfSubjectAccessReview): the dashboard watches
// exactly that, so each person sees what their RBAC lets them see.

import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Access } from './views/types.js';
import type { WatchedResource } from './resources.js';

export type CanI = (opts: {
  resource: WatchedResource;
  verb: string;
  namespace?: string;
}) => Promise<boolean>;

export function selfSubjectAccess(kc: KubeConfig): CanI {
  const api = kc.makeApiClient(AuthorizationV1Api);
  return async ({ resource, verb, namespace }) => {
    const review = await api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            group: resource.group,
            resource: resource.plural,
            verb,
            ...(namespace ? { namespace } : {}),
          },
        },
      },
    });
    return review.status?.allowed === true;
  };
}

async function mayWatch(canI: CanI, resource: WatchedResource, namespace?: string): Promise<boolean> {
  const answers = await Promise.all(
    ['list', 'watch'].map((verb) => canI({ resource, verb, ...(namespace ? { namespace } : {}) })),
  );
  return answers.every(Boolean);
}

/**
 * Per resource: all namespaces when allowed; else the namespaces of
 * `fallbackNamespaces` it is allowed in (a namespaced kind); else forbidden.
 */
export async function resolveAccess(opts: {
  canI: CanI;
  resources: readonly WatchedResource[];
  fallbackNamespaces: readonly string[];
}): Promise<Access> {
  const entries = await Promise.all(
    opts.resources.map(async (r): Promise<[string, Access['resources'][string]]> => {
      if (await mayWatch(opts.canI, r)) return [r.id, { scope: 'cluster' }];
      if (!r.namespaced) return [r.id, { scope: 'forbidden' }];
      const allowed: string[] = [];
      for (const ns of opts.fallbackNamespaces) if (await mayWatch(opts.canI, r, ns)) allowed.push(ns);
      return [
        r.id,
        allowed.length > 0 ? { scope: 'namespaces', namespaces: allowed } : { scope: 'forbidden' },
      ];
    }),
  );
  return { resources: Object.fromEntries(entries) };
}
