// The rows every tab sees, recomputed from the caches when something changed
// (at most every throttleMs), and pushed to each tab as patches: only the rows
// that changed, so a 5,000-object fleet costs a few rows per update.

import type { FleetCache } from './fleet-cache.js';
import { containerRows } from './views/containers.js';
import { fleetRows } from './views/fleet.js';
import { objectDetail, objectRows } from './views/objects.js';
import type { Access, DashboardState, ObjectDetail, StreamMessage, ViewName } from './views/types.js';
import { objectKey, type DockyardObject } from './views/cells.js';

type Rows = Record<ViewName, Array<{ key: string }>>;

export interface Subscriber {
  send(message: StreamMessage): void;
}

/** Rows that are new or changed, and keys that are gone. Pure. */
export function diffRows(
  before: ReadonlyMap<string, string>,
  after: ReadonlyArray<{ key: string }>,
): { upsert: unknown[]; remove: string[]; next: Map<string, string> } {
  const next = new Map(after.map((r) => [r.key, JSON.stringify(r)]));
  const upsert = after.filter((r) => before.get(r.key) !== next.get(r.key));
  const remove = [...before.keys()].filter((k) => !next.has(k));
  return { upsert, remove, next };
}

export class LiveState {
  private readonly subscribers = new Set<Subscriber>();
  private readonly lastRows = new Map<ViewName, Map<string, string>>();
  private state: DashboardState;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      cache: FleetCache;
      access: Access;
      throttleMs?: number;
      now?: () => Date;
    },
  ) {
    this.state = this.compute();
    for (const view of ['hosts', 'containers', 'objects'] as const)
      this.lastRows.set(view, new Map(this.state[view].map((r) => [r.key, JSON.stringify(r)])));
  }

  current(): DashboardState {
    return this.state;
  }

  /** Something changed in a cache: recompute soon (changes in a burst share one recompute). */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publish();
    }, this.opts.throttleMs ?? 100);
  }

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    subscriber.send({ type: 'state', state: this.state });
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  /** One object's page, or null when it is not (or no longer) in the caches. */
  detail(key: string): ObjectDetail | null {
    const [kind] = key.split('/');
    const objects = this.opts.cache.ofKind(kind ?? '') as DockyardObject[];
    const obj = objects.find((o) => objectKey(kind ?? '', o) === key);
    if (!obj || !kind) return null;
    return objectDetail({
      kind,
      obj,
      events: this.opts.cache.events(),
      containers: this.opts.cache.containers(),
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private compute(): DashboardState {
    const { cache } = this.opts;
    const byKind = cache.byKind();
    const placed = [...byKind.entries()].filter(([k]) => k !== 'DockerHost').flatMap(([, objs]) => objs);
    return {
      generatedAt: (this.opts.now?.() ?? new Date()).toISOString(),
      access: this.opts.access,
      hosts: fleetRows({ hosts: cache.hosts(), placed, events: cache.events() }),
      containers: containerRows(cache.containers()),
      objects: objectRows(byKind),
    };
  }

  private publish(): void {
    this.state = this.compute();
    const rows: Rows = this.state;
    for (const view of ['hosts', 'containers', 'objects'] as const) {
      const { upsert, remove, next } = diffRows(this.lastRows.get(view) ?? new Map(), rows[view]);
      this.lastRows.set(view, next);
      if (upsert.length === 0 && remove.length === 0) continue;
      const message: StreamMessage = {
        type: 'patch',
        view,
        upsert,
        remove,
        generatedAt: this.state.generatedAt,
      };
      for (const s of this.subscribers) s.send(message);
    }
    // Events change no row: an object page refetches itself on every tick.
    const tick: StreamMessage = { type: 'tick', generatedAt: this.state.generatedAt };
    for (const s of this.subscribers) s.send(tick);
  }
}
