// A small seeded PRNG (mulberry32) for fault timing: the seed is printed, so
// a failing run is repeated exactly with DOCKYARD_FAULT_SEED=<seed>.

export interface Prng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/** The scenario's PRNG: DOCKYARD_FAULT_SEED when set, a fresh seed otherwise; printed either way. */
export function scenarioPrng(scenario: string): Prng {
  const fromEnv = process.env.DOCKYARD_FAULT_SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`DOCKYARD_FAULT_SEED must be an integer, got ${fromEnv}`);
  console.log(`[faults] ${scenario}: seed ${seed} (repeat with DOCKYARD_FAULT_SEED=${seed})`);
  return prng(seed);
}
