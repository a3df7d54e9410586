// When did each object of a kind first become Ready? One list plus a watch
// (no polling of thousands of objects), recording performance.now() of the
// first event that shows Ready for the current generation.

import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { ALL_KINDS } from '../../src/crds/index.js';
import { waitFor } from '../../src/localenv/process.js';
import { isReady, type DockyardObject } from '../../test/support/kube.js';

interface ObjectList {
  metadata?: { resourceVersion?: string; continue?: string };
  items: DockyardObject[];
}

export class ReadyTracker {
  /** name → performance.now() when first seen Ready. */
  readonly readyAt = new Map<string, number>();
  /** Names currently present (not deleted). */
  readonly present = new Set<string>();
  private abort: AbortController | undefined;
  private active = false;
  private readonly plural: string;

  constructor(
    private readonly kc: KubeConfig,
    readonly kind: string,
    readonly namespace: string,
  ) {
    const def = ALL_KINDS.find((d) => d.kind === kind);
    if (!def) throw new Error(`unknown kind ${kind}`);
    this.plural = def.plural;
  }

  async start(): Promise<this> {
    this.active = true;
    await this.listAndWatch();
    return this;
  }

  stop(): void {
    this.active = false;
    this.abort?.abort();
  }

  readyCount(names?: Iterable<string>): number {
    if (!names) return this.readyAt.size;
    let n = 0;
    for (const name of names) if (this.readyAt.has(name)) n++;
    return n;
  }

  /** Resolves once every named object was seen Ready; rejects after timeoutMs. */
  async waitAllReady(names: readonly string[], timeoutMs: number, what: string): Promise<void> {
    await waitFor(async () => this.readyCount(names) === names.length, {
      timeoutMs,
      intervalMs: 50,
      what: `${what} (${this.readyCount(names)}/${names.length} Ready)`,
    });
  }

  private observe(obj: DockyardObject, type: string): void {
    const name = obj.metadata.name;
    if (type === 'DELETED') {
      this.present.delete(name);
      return;
    }
    this.present.add(name);
    if (!this.readyAt.has(name) && isReady(obj)) this.readyAt.set(name, performance.now());
  }

  private async listAndWatch(): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    let resourceVersion: string | undefined;
    let cont: string | undefined;
    do {
      const page = (await api.listNamespacedCustomObject({
        group: 'dockyard.io',
        version: 'v1alpha1',
        namespace: this.namespace,
        plural: this.plural,
        limit: 500,
        ...(cont ? { _continue: cont } : {}),
      })) as ObjectList;
      for (const item of page.items) this.observe(item, 'ADDED');
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    const path = `/apis/dockyard.io/v1alpha1/namespaces/${this.namespace}/${this.plural}`;
    this.abort = await new Watch(this.kc).watch(
      path,
      { resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: DockyardObject) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.observe(obj, type);
      },
      () => {
        // Watches end (server timeout, 410 Gone): list again and go on.
        if (this.active) setTimeout(() => void this.listAndWatch().catch(() => {}), 100);
      },
    );
  }
}
