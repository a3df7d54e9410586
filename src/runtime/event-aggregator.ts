// The pure bookkeeping behind the event recorder: which occurrences become a
// new Event and which only bump `series.count` of the Event already created.
// Occurrences are "the same" when object uid, reason, note and the related
// object (if any) match within a
// window after the last one (client-go's events library does the same with
// its isomorphic-event cache). While a write for a key is in flight, further
// occurrences are only counted; one patch with the latest count follows.

export interface EventKeyParts {
  uid: string;
  reason: string;
  note: string;
  /** The related object, kind/name; absent when the Event names none. */
  related?: string;
}

export function eventKey({ uid, reason, note, related }: EventKeyParts): string {
  return JSON.stringify(related === undefined ? [uid, reason, note] : [uid, reason, note, related]);
}

export type EventCommand =
  | { kind: 'create' }
  | { kind: 'patch'; name: string; namespace: string; count: number; lastObservedTime: number }
  | { kind: 'none' };

interface Entry {
  count: number;
  lastObserved: number;
  name: string | undefined;
  namespace: string | undefined;
  inFlight: boolean;
  /** Occurrences counted while a write was in flight and not yet written. */
  dirty: boolean;
}

export class EventAggregator {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Occurrences further apart than this start a new Event. Default 6 min (client-go's). */
    private readonly windowMs = 6 * 60_000,
    private readonly maxEntries = 4096,
  ) {}

  /** One more occurrence of `key` at `now`: what to write. */
  record(key: string, now: number): EventCommand {
    const existing = this.entries.get(key);
    if (!existing || now - existing.lastObserved > this.windowMs) {
      this.entries.delete(key);
      this.remember(key, {
        count: 1,
        lastObserved: now,
        name: undefined,
        namespace: undefined,
        inFlight: true,
        dirty: false,
      });
      return { kind: 'create' };
    }
    existing.count++;
    existing.lastObserved = now;
    // Re-insert so the Map's order stays least-recently-observed first, for eviction.
    this.entries.delete(key);
    this.entries.set(key, existing);
    if (existing.inFlight || existing.name === undefined) {
      existing.dirty = true;
      return { kind: 'none' };
    }
    existing.inFlight = true;
    return this.patchOf(existing);
  }

  /** The create for `key` succeeded as `namespace/name`. */
  created(key: string, name: string, namespace: string): EventCommand {
    const entry = this.entries.get(key);
    if (!entry) return { kind: 'none' };
    entry.name = name;
    entry.namespace = namespace;
    return this.settle(entry);
  }

  /** The patch for `key` succeeded. */
  patched(key: string): EventCommand {
    const entry = this.entries.get(key);
    return entry ? this.settle(entry) : { kind: 'none' };
  }

  /** A write for `key` failed: forget it, so the next occurrence creates a fresh Event. */
  failed(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private settle(entry: Entry): EventCommand {
    if (!entry.dirty) {
      entry.inFlight = false;
      return { kind: 'none' };
    }
    entry.dirty = false;
    return this.patchOf(entry);
  }

  private patchOf(entry: Entry): EventCommand {
    return {
      kind: 'patch',
      name: entry.name ?? '',
      namespace: entry.namespace ?? '',
      count: entry.count,
      lastObservedTime: entry.lastObserved,
    };
  }

  private remember(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
