/** One reading of a sampler: what `read` returned, and when it began (epoch ms, Date.now()). */
export interface Sample<T> {
  at: number;
  value: T;
}

export interface Sampler<T> {
  /** Stops sampling (after the reading in flight) and returns every reading, oldest first. */
  stop(): Promise<Array<Sample<T>>>;
  /** Readings so far (the array keeps growing until stop). */
  readonly samples: ReadonlyArray<Sample<T>>;
  /** Readings that threw (a transient API or Docker error), by message. */
  readonly errors: readonly string[];
}

/**
 * Reads `read` every `intervalMs` until stopped, one reading at a time (a slow
 * reading delays the next instead of overlapping it), for invariants that
 * must hold all along, e.g. "availability never drops below N".
 */
export function startSampler<T>(read: () => Promise<T>, intervalMs: number): Sampler<T> {
  const samples: Array<Sample<T>> = [];
  const errors: string[] = [];
  let active = true;
  const loop = (async () => {
    while (active) {
      const tick = performance.now();
      const at = Date.now();
      try {
        const value = await read();
        samples.push({ at, value });
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      const wait = intervalMs - (performance.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    samples,
    errors,
    stop: async () => {
      active = false;
      await loop;
      return samples;
    },
  };
}
