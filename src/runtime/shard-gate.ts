// What the controllers of a sharded replica ask before touching a key (for
// Dockyard: a DockerHost's name): is its shard held here, and not being
// handed back? Work on a key runs inside `run`, so handing a shard back
// (drain) waits until none of its work is in flight, and a shard being handed
// back admits no new work. The Leases behind it are ShardCoordinator's.
//
// A shard that could not be renewed in time is a fence, like a lost leader
// lease: another replica may take it over at any moment, so `onFenced` fires
// and the process exits (its other shards are taken over once their Leases
// expire, and the restarted process joins again).

import { shardOf } from './shards.js';

/** Thrown by `run` when the key's shard is not held here (any more). */
export class NotOwnedError extends Error {
  readonly code = 'ENOTOWNED';
  constructor(
    readonly key: string,
    readonly shard: number,
  ) {
    super(`shard ${shard} (of ${key}) is not held by this replica`);
    this.name = 'NotOwnedError';
  }
}

export interface ShardGateOptions {
  shards: number;
  /** Whether the shard's Lease is held here (ShardCoordinator.owns, set once it exists). */
  holds?: (shard: number) => boolean;
  /** A held shard was lost (not renewed in time): stop everything at once. */
  onFenced?: (shard: number) => void;
}

export class ShardGate {
  readonly shards: number;
  private holds: (shard: number) => boolean;
  private readonly onFenced: (shard: number) => void;
  private readonly draining = new Set<number>();
  private readonly inFlight = new Map<number, number>();
  private readonly idle = new Map<number, Array<() => void>>();
  private readonly changeListeners: Array<(shard: number) => void> = [];

  constructor(options: ShardGateOptions) {
    this.shards = options.shards;
    this.holds = options.holds ?? (() => false);
    this.onFenced = options.onFenced ?? (() => {});
  }

  /** Connects the gate to the Leases (the coordinator is built with the gate's callbacks). */
  setHolds(holds: (shard: number) => boolean): void {
    this.holds = holds;
  }

  shardOf(key: string): number {
    return shardOf(key, this.shards);
  }

  /** Whether work on `key` may start here now. */
  owns(key: string): boolean {
    const shard = this.shardOf(key);
    return this.holds(shard) && !this.draining.has(shard);
  }

  /** Runs `work` while `key`'s shard is held here; a hand-back waits for it. */
  async run<R>(key: string, work: () => Promise<R>): Promise<R> {
    const shard = this.shardOf(key);
    if (!this.owns(key)) throw new NotOwnedError(key, shard);
    this.inFlight.set(shard, (this.inFlight.get(shard) ?? 0) + 1);
    try {
      return await work();
    } finally {
      this.finished(shard);
    }
  }

  /** Called when a shard was taken or handed back: its keys must be looked at again. */
  onShardChange(listener: (shard: number) => void): void {
    this.changeListeners.push(listener);
  }

  /** ShardCoordinator's onAcquired. */
  acquired = (shard: number): void => {
    this.draining.delete(shard);
    this.notify(shard);
  };

  /** ShardCoordinator's drain: admit no new work on the shard, resolve once none is in flight. */
  drain = async (shard: number): Promise<void> => {
    this.draining.add(shard);
    if ((this.inFlight.get(shard) ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const waiters = this.idle.get(shard);
        if (waiters) waiters.push(resolve);
        else this.idle.set(shard, [resolve]);
      });
    }
  };

  /** ShardCoordinator's onReleased: the Lease is no longer ours. */
  released = (shard: number): void => {
    // Its keys are looked at once more, to let go of what this replica held
    // for them (connections, event streams); `draining` stays until it is
    // acquired again, so nothing starts in between.
    this.notify(shard);
  };

  /** ShardCoordinator's onLost. */
  lost = (shard: number): void => {
    this.draining.add(shard);
    this.onFenced(shard);
  };

  private finished(shard: number): void {
    const left = (this.inFlight.get(shard) ?? 1) - 1;
    if (left > 0) {
      this.inFlight.set(shard, left);
      return;
    }
    this.inFlight.delete(shard);
    const waiters = this.idle.get(shard) ?? [];
    this.idle.delete(shard);
    for (const resolve of waiters) resolve();
  }

  private notify(shard: number): void {
    for (const listener of this.changeListeners) listener(shard);
  }
}
