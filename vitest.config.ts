import { defineConfig } from 'vitest/config';

// Three projects: fast co-located unit tests for pure logic; integration
// tests under test/ that run against the real local environment (started once
// by the global setup, torn down at the end); and the fault-injection suite
// under test/faults/ (same environment, `npm run test:faults` runs it alone).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'gitops/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/faults/**'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/setup-env.ts'],
          // Integration tests share Docker nodes and the control plane; they run
          // one file at a time so a test that stops a node cannot break another.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/setup-env.ts'],
          // Each scenario restarts, pauses or kills real parts: one file at a time.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
