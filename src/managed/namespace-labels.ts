import type { CoreV1Api } from '@kubernetes/client-node';
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
