import { describe, expect, it } from 'vitest';
import { NotOwnedError, ShardGate } from './shard-gate.js';
import { shardOf } from './shards.js';

/** Host names spread over `shards`, one list per shard. */
function hostsByShard(shards: number, perShard: number): string[][] {
  const by: string[][] = Array.from({ length: shards }, () => []);
  for (let i = 0; by.some((l) => l.length < perShard); i++) {
    const name = `host-${i}`;
    const list = by[shardOf(name, shards)]!;
    if (list.length < perShard) list.push(name);
  }
  return by;
}

function gateHolding(held: Set<number>, shards = 3): ShardGate {
  const gate = new ShardGate({ shards });
  gate.setHolds((s) => held.has(s));
  return gate;
}

describe('ShardGate', () => {
  const [zero, one] = hostsByShard(3, 2) as [string[], string[]];

  it('owns the keys of held shards only, and runs work on them', async () => {
    const gate = gateHolding(new Set([0]));
    expect(zero.every((h) => gate.owns(h))).toBe(true);
    expect(one.some((h) => gate.owns(h))).toBe(false);
    await expect(gate.run(zero[0]!, async () => 'done')).resolves.toBe('done');
    await expect(gate.run(one[0]!, async () => 'done')).rejects.toBeInstanceOf(NotOwnedError);
  });

  it('drains: admits no new work on the shard, resolves once its work in flight ended', async () => {
    const gate = gateHolding(new Set([0, 1]));
    let finish!: () => void;
    const inFlight = gate.run(zero[0]!, () => new Promise<void>((resolve) => (finish = resolve)));
    let drained = false;
    const drain = gate.drain(0).then(() => (drained = true));
    await Promise.resolve();
    expect(gate.owns(zero[1]!), 'a draining shard admits nothing new').toBe(false);
    expect(gate.owns(one[0]!), 'other shards go on').toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(drained, 'waits for the work in flight').toBe(false);
    finish();
    await inFlight;
    await drain;
    expect(drained).toBe(true);
  });

  it('a shard acquired again is owned again; changes reach the listeners', () => {
    const held = new Set([0]);
    const gate = gateHolding(held);
    const changes: number[] = [];
    gate.onShardChange((s) => changes.push(s));
    void gate.drain(0);
    gate.released(0);
    held.delete(0);
    expect(gate.owns(zero[0]!)).toBe(false);
    held.add(0);
    gate.acquired(0);
    expect(gate.owns(zero[0]!)).toBe(true);
    expect(changes).toEqual([0, 0]);
  });

  it('a lost shard fences at once and admits nothing more', () => {
    const fenced: number[] = [];
    const gate = new ShardGate({ shards: 3, holds: () => true, onFenced: (s) => fenced.push(s) });
    gate.lost(1);
    expect(fenced).toEqual([1]);
    expect(gate.owns(one[0]!)).toBe(false);
    expect(gate.owns(zero[0]!)).toBe(true);
  });
});
