// When did each object of a kind first become Ready? One list plus a watch
// (no polling of thousands of objects), recording performance.now() of the
// first event that shows Ready for the current generation.

import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { ALL_KINDS } from '../../src/crds/index.js';
import { condition, isReady, type DockyardObject } from '../../test/support/kube.js';
import { describeApiCall } from './clients.js';
import { API_CALL_MS, deadlined, formatSeconds, withDeadline, withProgress, type Log } from './deadline.js';
import { sleep } from './pool.js';

/** What a not-yet-Ready object last looked like, for a timeout's message. */
interface LastSeen {
  ready: string;
  generation: number | undefined;
  observedGeneration: number | undefined;
}

export interface WaitAllReadyOptions {
  /** Progress lines ("120/200 Ready") at most every 5 s. */
  log?: Log;
  /** Printed before each progress line; defaults to `what`. */
  label?: string;
  /** Fail early when no object became Ready for this long (default 120 s). */
  stallMs?: number;
}

interface ObjectList {
  metadata?: { resourceVersion?: string; continue?: string };
  items: DockyardObject[];
}

export class ReadyTracker {
  /** name → performance.now() when first seen Ready. */
  readonly readyAt = new Map<string, number>();
  /** Names currently present (not deleted). */
  readonly present = new Set<string>();
  /** Objects seen but not (yet) Ready: their Ready condition and generations. */
  private readonly lastSeen = new Map<string, LastSeen>();
  private server = 'the API server';
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

  /**
   * Resolves once every named object was seen Ready. Rejects after timeoutMs,
   * or once none became Ready for opts.stallMs, saying how many are Ready and
   * naming a few that are not, with their last Ready condition.
   */
  async waitAllReady(
    names: readonly string[],
    timeoutMs: number,
    what: string,
    opts: WaitAllReadyOptions = {},
  ): Promise<void> {
    const stallMs = opts.stallMs ?? 120_000;
    const t0 = performance.now();
    let count = this.readyCount(names);
    let movedAt = t0;
    const wait = async () => {
      while (count < names.length) {
        await sleep(50);
        const now = performance.now();
        const n = this.readyCount(names);
        if (n !== count) movedAt = now;
        count = n;
        if (count === names.length) return;
        if (now - t0 > timeoutMs)
          throw new Error(
            `timed out after ${formatSeconds(now - t0)} waiting for ${what}: ${this.notReady(names)}`,
          );
        if (now - movedAt > stallMs)
          throw new Error(
            `stalled waiting for ${what}: no object became Ready for ${formatSeconds(now - movedAt)}; ${this.notReady(names)}`,
          );
      }
    };
    if (!opts.log) return wait();
    await withProgress(
      { label: opts.label ?? what, total: names.length, verb: 'Ready', log: opts.log, count: () => count },
      wait,
    );
  }

  /** "188/200 Ready; not Ready: c-0012 (Ready=False Creating: …, generation 1, observed 1), …". */
  notReady(names: readonly string[], show = 5): string {
    const missing = names.filter((n) => !this.readyAt.has(n));
    const sample = missing.slice(0, show).map((name) => {
      const seen = this.lastSeen.get(name);
      if (!seen) return `${name} (${this.present.has(name) ? 'seen' : 'not seen by the watch'})`;
      return `${name} (${seen.ready}, generation ${String(seen.generation)}, observed ${String(seen.observedGeneration)})`;
    });
    return (
      `${names.length - missing.length}/${names.length} Ready; not Ready: ${sample.join(', ')}` +
      (missing.length > show ? ` and ${missing.length - show} more` : '')
    );
  }

  private observe(obj: DockyardObject, type: string): void {
    const name = obj.metadata.name;
    if (type === 'DELETED') {
      this.present.delete(name);
      this.lastSeen.delete(name);
      return;
    }
    this.present.add(name);
    if (this.readyAt.has(name)) return;
    if (isReady(obj)) {
      this.readyAt.set(name, performance.now());
      this.lastSeen.delete(name);
      return;
    }
    const ready = condition(obj, 'Ready');
    this.lastSeen.set(name, {
      ready: ready
        ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message.slice(0, 160)}` : ''}`
        : 'no Ready condition',
      generation: obj.metadata.generation,
      observedGeneration: obj.status?.observedGeneration,
    });
  }

  private async listAndWatch(): Promise<void> {
    this.server = this.kc.getCurrentCluster()?.server ?? this.server;
    const api = deadlined(this.kc.makeApiClient(CustomObjectsApi), {
      host: this.server,
      ms: API_CALL_MS,
      describe: describeApiCall,
    });
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
    const watching = new Watch(this.kc).watch(
      path,
      { resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: DockyardObject) => {
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.observe(obj, type);
      },
      // Watches end (server timeout, 410 Gone): list again and go on.
      () => this.rewatch(100),
    );
    try {
      this.abort = await withDeadline(watching, {
        host: this.server,
        call: `watch ${path}`,
        ms: API_CALL_MS,
      });
    } catch (err) {
      // A watch that connects after its deadline is not ours any more.
      void watching.then((late) => late.abort()).catch(() => {});
      throw err;
    }
  }

  /** List and watch again after `delayMs` while active; a failed attempt (a deadline) retries after a second. */
  private rewatch(delayMs: number): void {
    if (!this.active) return;
    setTimeout(() => void this.listAndWatch().catch(() => this.rewatch(1_000)), delayMs);
  }
}
