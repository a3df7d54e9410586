// The bench's bounded-concurrency map and a sleep.

/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the
 * input order. Unlike the product's mapLimit (src/managed/map-limit.ts), the
 * first failure stops the workers from taking more items: a call that missed
 * its deadline fails the phase at once instead of after every other item.
 */
export async function mapLimit<I, O>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as I, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
