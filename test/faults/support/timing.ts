// Per-scenario wall time, printed so the suite's cost in CI stays visible.
// Informational only: nothing asserts on it (speed belongs in benchmarks).

export function scenarioClock(scenario: string): { lap(what: string): void; done(): void } {
  const started = performance.now();
  let last = started;
  const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return {
    lap(what) {
      const now = performance.now();
      console.log(`[faults] ${scenario}: ${what} after ${fmt(now - last)} (total ${fmt(now - started)})`);
      last = now;
    },
    done() {
      console.log(`[faults] ${scenario}: took ${fmt(performance.now() - started)}`);
    },
  };
}
