// What this controller just created and deleted, until its cache shows it
// (Kubernetes' ControllerExpectations). Without it, a reconcile that runs
// before the informer has seen the last one's writes would count a replica
// it just removed as still Available and spend maxUnavailable twice, or
// miss a replica it just created and exceed maxSurge.
import type { Replica } from './types.js';

/** Expectations older than this are dropped: the write's watch event was lost, the next list settles it. */
const EXPECTATION_TTL_MS = 60_000;

interface Pending {
  created: Map<string, { replica: Replica; at: number }>;
  deleted: Map<string, number>;
}

export class Expectations {
  private readonly byService = new Map<string, Pending>();

  private pending(key: string): Pending {
    let p = this.byService.get(key);
    if (!p) {
      p = { created: new Map(), deleted: new Map() };
      this.byService.set(key, p);
    }
    return p;
  }

  created(key: string, replica: Omit<Replica, 'state' | 'ready'>, now: number): void {
    this.pending(key).created.set(replica.name, {
      replica: { ...replica, state: 'Starting', ready: false },
      at: now,
    });
  }

  deleted(key: string, name: string, now: number): void {
    this.pending(key).deleted.set(name, now);
  }

  forget(key: string): void {
    this.byService.delete(key);
  }

  /**
   * The replicas as the cache shows them, corrected by what is still
   * expected: a deleted one the cache still shows alive is Terminating, a
   * created one it does not show yet is there, Starting.
   */
  apply(key: string, cached: readonly Replica[], now: number): Replica[] {
    const p = this.byService.get(key);
    if (!p) return [...cached];
    const byName = new Map(cached.map((r) => [r.name, r]));
    for (const [name, at] of p.deleted) {
      const seen = byName.get(name);
      if (!seen || seen.state === 'Terminating' || now - at > EXPECTATION_TTL_MS) p.deleted.delete(name);
    }
    for (const [name, { at }] of p.created) {
      if (byName.has(name) || now - at > EXPECTATION_TTL_MS) p.created.delete(name);
    }
    const adjusted = cached.map((r): Replica =>
      p.deleted.has(r.name) ? { ...r, state: 'Terminating', ready: false } : r,
    );
    return [...adjusted, ...[...p.created.values()].map((c) => c.replica)];
  }
}
