import type { CoreV1Api } from '@kubernetes/client-node';
import type { DockerHost } from '../crds/dockerhost.js';
import { isNotFound } from '../runtime/api-errors.js';

/**
 * Namespace labels for admission checks, read by name and cached briefly.
 * Only hosts with `allowedNamespaces.from: Selector` need them, so most
 * reconciles never call this.
 */
export class NamespaceLabels {
  private readonly cache = new Map<string, { labels: Record<string, string>; at: number }>();

  constructor(
    private readonly core: Pick<CoreV1Api, 'readNamespace'>,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(namespace: string): Promise<Record<string, string>> {
    const hit = this.cache.get(namespace);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.labels;
    let labels: Record<string, string> = {};
    try {
      const ns = await this.core.readNamespace({ name: namespace });
      labels = ns.metadata?.labels ?? {};
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.cache.set(namespace, { labels, at: this.now() });
    return labels;
  }
}

/**
 * The namespace's labels for admission by `hosts`: read only when one of them
 * admits namespaces by label selector, {} otherwise (no API call).
 */
export async function admissionLabels(opts: {
  namespaces: Pick<NamespaceLabels, 'get'>;
  namespace: string;
  hosts: readonly DockerHost[];
}): Promise<Record<string, string>> {
  const needed = opts.hosts.some((h) => h.spec.allowedNamespaces?.from === 'Selector');
  return needed ? opts.namespaces.get(opts.namespace) : {};
}
