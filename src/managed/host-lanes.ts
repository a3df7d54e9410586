import type { ManagedObject } from './types.js';

/** --max-concurrent-reconciles-per-host's default: a few calls in flight per daemon. */
export const DEFAULT_RECONCILES_PER_HOST = 4;

// Per-host concurrency. A Docker daemon serialises much of its work and an
// edge host may be 100 ms away, so what bounds a fleet's throughput is how
// many hosts are worked on at once, not how many workers one queue has. Two
// pieces keep each kind's load on a host bounded while the hosts proceed in
// parallel:
//  - the work queue's lanes (singleHostOf): an object that lives on one host
//    waits in its host's lane, so a burst on one host never takes the workers
//    the other hosts could use;
//  - HostSlots, inside the reconciler: the same bound for objects placed on
//    several hosts (a selector), which no single lane describes.
// The bound is per kind, like controller-runtime's per-controller workers,
// not shared by the kinds: a shared one lets a few long image pulls hold every
// slot of a host and stall its containers, networks and volumes behind them.

/**
 * The one host an object is or will be placed on (spec.hostName, or the only
 * host in status.hosts); undefined when that is not one host (a selector that
 * placed it nowhere yet or on several).
 */
export function singleHostOf(obj: Pick<ManagedObject, 'spec' | 'status'>): string | undefined {
  const hosts = new Set<string>();
  if (obj.spec.hostName) hosts.add(obj.spec.hostName);
  for (const entry of obj.status?.hosts ?? []) hosts.add(entry.name);
  return hosts.size === 1 ? hosts.values().next().value : undefined;
}

/** At most `limit` holders per host at once; the others wait in arrival order. */
export class HostSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  /** Runs `work` once `host` has a free slot, and frees it after. */
  async run<R>(host: string, work: () => Promise<R>): Promise<R> {
    await this.acquire(host);
    try {
      return await work();
    } finally {
      this.release(host);
    }
  }

  /** Holders on `host` right now (for tests and metrics). */
  inUse(host: string): number {
    return this.busy.get(host) ?? 0;
  }

  private acquire(host: string): Promise<void> | void {
    const busy = this.busy.get(host) ?? 0;
    if (busy < this.limit) {
      this.busy.set(host, busy + 1);
      return;
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(host);
      if (queue) queue.push(resolve);
      else this.waiting.set(host, [resolve]);
    });
  }

  /** Hands the slot straight to the next waiter (the count stays), or frees it. */
  private release(host: string): void {
    const queue = this.waiting.get(host);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(host);
    if (next) return next();
    const busy = (this.busy.get(host) ?? 1) - 1;
    if (busy > 0) this.busy.set(host, busy);
    else this.busy.delete(host);
  }
}
