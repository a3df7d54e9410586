import { describe, expect, it } from 'vitest';
import { planShards, shardOf, shardPreference, type ShardView } from './shards.js';

describe('shardOf', () => {
  it('is FNV-1a 32 of the UTF-8 name, modulo the shard count (a change would move hosts)', () => {
    // FNV-1a("a") = 0xe40c292c, FNV-1a("foobar") = 0xbf9cf968: the published test vectors.
    expect(shardOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(shardOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
    expect(shardOf('edge-0042', 1)).toBe(0);
  });

  it('spreads 1,000 host names evenly over 4 shards (each within 20 % of a quarter)', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) counts[shardOf(`edge-${String(i).padStart(4, '0')}`, 4)]!++;
    for (const n of counts) expect(Math.abs(n - 250)).toBeLessThan(50);
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => shardOf('a', 0)).toThrow(/positive integer/);
    expect(() => shardOf('a', 1.5)).toThrow(/positive integer/);
  });
});

describe('shardPreference', () => {
  it('is a permutation of the shards, and differs between replicas', () => {
    const a = shardPreference('dockyard-0', 8);
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const firsts = new Set(['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => shardPreference(r, 8)[0]));
    expect(firsts.size).toBeGreaterThan(1);
  });
});

/**
 * Replicas applying their plans in rounds: hand-backs first, then campaigns
 * in a rotating order, a free shard going to the first that asks (as a Lease
 * create or update races do). Returns the holders after `rounds`.
 */
function simulate(opts: {
  shards: number;
  members: string[];
  holders?: Map<number, string | undefined>;
  rounds?: number;
}): Map<number, string | undefined> {
  const holders = opts.holders ?? new Map<number, string | undefined>();
  for (let round = 0; round < (opts.rounds ?? 20); round++) {
    const order = [
      ...opts.members.slice(round % opts.members.length),
      ...opts.members.slice(0, round % opts.members.length),
    ];
    const plans = order.map((identity) => ({
      identity,
      plan: planShards({ identity, shards: opts.shards, members: opts.members, holders }),
    }));
    for (const { identity, plan } of plans) {
      for (const s of plan.handBack) {
        expect(holders.get(s)).toBe(identity);
        holders.set(s, undefined);
      }
    }
    for (const { identity, plan } of plans) {
      for (const s of plan.campaign) if (holders.get(s) === undefined) holders.set(s, identity);
    }
  }
  return holders;
}

function countsOf(holders: Map<number, string | undefined>, members: string[]): number[] {
  return members.map((m) => [...holders.values()].filter((h) => h === m).length);
}

describe('planShards', () => {
  it.each([
    [1, 1],
    [4, 1],
    [4, 2],
    [4, 3],
    [5, 2],
    [8, 3],
    [3, 5],
  ])('%i shards over %i replicas: every shard held, each replica ⌊N/M⌋ or ⌈N/M⌉', (shards, m) => {
    const members = Array.from({ length: m }, (_, i) => `dockyard-${i}`);
    const holders = simulate({ shards, members });
    for (let s = 0; s < shards; s++) expect(holders.get(s), `shard ${s}`).toBeDefined();
    for (const n of countsOf(holders, members)) {
      expect(n).toBeGreaterThanOrEqual(Math.floor(shards / m));
      expect(n).toBeLessThanOrEqual(Math.ceil(shards / m));
    }
  });

  it('a replica that died: its shards, once their Leases expire, go to the survivors', () => {
    const members = ['a', 'b', 'c'];
    const holders = simulate({ shards: 6, members });
    for (const [s, h] of holders) if (h === 'c') holders.set(s, undefined); // c's Leases expired
    const after = simulate({ shards: 6, members: ['a', 'b'], holders });
    expect(countsOf(after, ['a', 'b'])).toEqual([3, 3]);
  });

  it('a replica that joins gets its share handed over, and no shard moves twice', () => {
    const holders = simulate({ shards: 4, members: ['a', 'b'] });
    const before = new Map(holders);
    const after = simulate({ shards: 4, members: ['a', 'b', 'c'], holders });
    const counts = countsOf(after, ['a', 'b', 'c']);
    expect(counts.sort()).toEqual([1, 1, 2]);
    const moved = [...after].filter(([s, h]) => before.get(s) !== h).map(([s]) => s);
    expect(moved).toHaveLength(1);
  });

  it('does nothing once balanced', () => {
    const holders = new Map<number, string | undefined>([
      [0, 'a'],
      [1, 'b'],
      [2, 'a'],
    ]);
    const view: ShardView = { identity: 'a', shards: 3, members: ['a', 'b'], holders };
    expect(planShards(view)).toEqual({ campaign: [], handBack: [] });
    expect(planShards({ ...view, identity: 'b' })).toEqual({ campaign: [], handBack: [] });
  });

  it('a shard held by a replica that is no longer a member is neither free nor counted', () => {
    const holders = new Map<number, string | undefined>([
      [0, 'gone'],
      [1, undefined],
    ]);
    expect(planShards({ identity: 'a', shards: 2, members: ['a'], holders })).toEqual({
      campaign: [1],
      handBack: [],
    });
  });
});
