// The pure core of sharding over controller replicas (docs/scale.md): the
// DockerHosts are split into N shards by a stable hash of their names, each
// shard is held by one replica at a time through its own Lease, and the
// replicas spread the shards evenly among themselves — taking over the
// shards of a replica that died, handing one back when a new replica joins.
// What a replica does with a shard (reconcile the objects on its hosts) and
// the Lease I/O live elsewhere; this file only decides.

/**
 * The shard a DockerHost belongs to: 32-bit FNV-1a over its name's UTF-8
 * bytes, modulo the shard count. Stable across versions and processes
 * (a change would move hosts between shards during a rolling update).
 */
export function shardOf(hostName: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1)
    throw new Error(`shards must be a positive integer, got ${shards}`);
  return fnv1a(hostName) % shards;
}

/** One encoder for every hash: shardOf runs on each reconcile's ownership check. */
const utf8 = new TextEncoder();

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The order in which a replica campaigns for shards: rendezvous hashing of
 * (identity, shard), so replicas starting together go after different
 * shards first instead of all racing for shard 0.
 */
export function shardPreference(identity: string, shards: number): number[] {
  const score = (shard: number) => fnv1a(`${identity}/${shard}`);
  return Array.from({ length: shards }, (_, shard) => shard).sort((a, b) => score(b) - score(a) || a - b);
}

export interface ShardView {
  /** This replica. */
  identity: string;
  shards: number;
  /** The replicas alive now (their member Leases current), this one included. */
  members: readonly string[];
  /** Who holds each shard's Lease now; undefined when it is free or expired. */
  holders: ReadonlyMap<number, string | undefined>;
}

export interface ShardPlan {
  /** Free shards to try to take, most preferred first. */
  campaign: number[];
  /** Held shards to release (gracefully: drain, then free the Lease). */
  handBack: number[];
}

/**
 * What this replica should do so every member ends up with ⌊N/M⌋ or ⌈N/M⌉
 * shards (N shards, M members):
 *  - below ⌈N/M⌉: campaign for free shards, unless another member is below
 *    ⌊N/M⌋ and this one is not (the free shards are theirs to take first:
 *    otherwise a replica could win back the shard it just handed over);
 *  - above ⌈N/M⌉: hand the excess back;
 *  - when a member is below ⌊N/M⌋ and no shard is free, the member holding
 *    the most (ties: the smallest identity, so exactly one moves) hands one
 *    back.
 */
export function planShards(view: ShardView): ShardPlan {
  const members = view.members.includes(view.identity) ? view.members : [...view.members, view.identity];
  const ceil = Math.ceil(view.shards / members.length);
  const floor = Math.floor(view.shards / members.length);
  const preference = shardPreference(view.identity, view.shards);
  const held = preference.filter((s) => view.holders.get(s) === view.identity);
  const free = preference.filter((s) => view.holders.get(s) === undefined);
  const counts = heldCounts(members, view.holders);
  const othersStarved = [...counts].some(([m, n]) => m !== view.identity && n < floor);
  const leastPreferredFirst = [...held].reverse();

  if (held.length < ceil) {
    const leaveToStarved = othersStarved && held.length >= floor;
    return { campaign: leaveToStarved ? [] : free.slice(0, ceil - held.length), handBack: [] };
  }
  if (held.length > ceil) return { campaign: [], handBack: leastPreferredFirst.slice(0, held.length - ceil) };
  if (!othersStarved || free.length > 0 || held.length <= floor) return { campaign: [], handBack: [] };
  const most = Math.max(...counts.values());
  const giver = [...counts]
    .filter(([, n]) => n === most)
    .map(([m]) => m)
    .sort()[0];
  return { campaign: [], handBack: giver === view.identity ? leastPreferredFirst.slice(0, 1) : [] };
}

/** Shards held per live member (shards a departed replica still holds count for nobody). */
function heldCounts(
  members: readonly string[],
  holders: ReadonlyMap<number, string | undefined>,
): Map<string, number> {
  const counts = new Map(members.map((m) => [m, 0]));
  for (const holder of holders.values()) {
    const n = holder === undefined ? undefined : counts.get(holder);
    if (n !== undefined) counts.set(holder!, n + 1);
  }
  return counts;
}
