// Events are for people; status is what controllers and GitOps tools wait
// on. When a fleet converges, every object's "Created" Event competes with
// its status write for the same API server: 10,000 objects at once sent
// 10,000 Event writes alongside the status writes that make them Ready.
// client-go's broadcaster writes Events one at a time from a queue of 1,000
// and drops what does not fit; the manager's recorders share one of these
// for the same reason, with a few writes in flight.

import pLimit, { type LimitFunction } from 'p-limit';

export interface EventWritesOptions {
  /** Event writes (create or series patch) in flight at once, over all recorders. Default 4. */
  maxInFlight?: number;
  /** Writes waiting for a slot; past this, new ones are dropped (client-go: 1,000). Default 1,000. */
  maxQueued?: number;
  /** Called for each dropped write (a metric). */
  onDropped?: () => void;
}

export class EventWrites {
  private readonly limit: LimitFunction;
  private readonly maxQueued: number;
  private readonly onDropped: () => void;

  constructor(options: EventWritesOptions = {}) {
    this.limit = pLimit(options.maxInFlight ?? 4);
    this.maxQueued = options.maxQueued ?? 1_000;
    this.onDropped = options.onDropped ?? (() => undefined);
  }

  /**
   * Runs `write` once a slot is free. Undefined when the queue is full: the
   * write is dropped and never runs.
   */
  submit(write: () => Promise<void>): Promise<void> | undefined {
    if (this.limit.pendingCount >= this.maxQueued) {
      this.onDropped();
      return undefined;
    }
    return this.limit(write);
  }

  /** Writes waiting for a slot. */
  get queued(): number {
    return this.limit.pendingCount;
  }
}
