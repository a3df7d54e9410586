// Runs the corpus several projects at a time. Two projects that claim the
// same thing on a node (a host port, a subnet, an explicit Docker name) never
// overlap: a project starts only when none of its claims is held, and gives
// them back after its teardown. Projects start in corpus order as far as the
// claims allow.

export interface Job<R> {
  name: string;
  claims: readonly string[];
  run: () => Promise<R>;
}

export async function runScheduled<R>(jobs: readonly Job<R>[], concurrency: number): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const pending = [...jobs];
  const held = new Set<string>();
  const running = new Set<Promise<void>>();
  let failure: unknown;
  while ((pending.length > 0 || running.size > 0) && failure === undefined) {
    const i = running.size < concurrency ? pending.findIndex((j) => j.claims.every((c) => !held.has(c))) : -1;
    if (i < 0) {
      // Nothing can start now: wait for one to finish.
      if (running.size === 0) throw new Error('scheduler: no job can start and none runs');
      await Promise.race(running);
      continue;
    }
    const [job] = pending.splice(i, 1) as [Job<R>];
    for (const c of job.claims) held.add(c);
    const task: Promise<void> = job
      .run()
      .then(
        (r) => void results.set(job.name, r),
        (err: unknown) => void (failure ??= err),
      )
      .finally(() => {
        for (const c of job.claims) held.delete(c);
        running.delete(task);
      });
    running.add(task);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return results;
}
