import { defineConfig } from 'vitest/config';

// Two projects: fast co-located unit tests for pure logic, and integration
// tests under test/ that run against the real local environment (started once
// by the global setup, torn down at the end).
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
    ],
  },
});
