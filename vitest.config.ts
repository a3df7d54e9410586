import { defineConfig } from 'vitest/config';

// Five projects: fast co-located unit tests for pure logic; integration tests
// under test/ that run against the real local environment (the host dockerd
// and cached images come from the global setup; every file starts its own
// control plane, registry and Docker nodes); the few integration files that
// must run alone; some integration files again over edge agents; and the
// fault-injection suite under test/faults/ (`npm run test:faults` runs it alone).
//
// Group 0 runs the unit tests and the integration files two at a time: no
// file stops a part another file uses, and most of their time is spent
// waiting on Docker and the API server, not on these 2 cores. Group 1 runs
// the fault suite two at a time, group 2 a subset of the integration files
// again over edge agents (OVER_AGENT), two at a time as well. (Faults and
// agent files side by side, four at once, tripled the faults' durations.)
// Group 3 runs the files that must run ALONE, one at a time on a quiet
// machine, so a bound like "a lease is taken over within 5 s" is not measured
// against a neighbour starting kube-apiserver.
const ALONE = [
  // Wall-clock bounds.
  'test/integration/runtime-leader-election.test.ts',
  'test/integration/runtime-shards.test.ts',
  'test/integration/container-background-ops.test.ts',
  'test/integration/docker-responsiveness.test.ts',
  // Six Compose projects up at once on both sides with their healthchecks:
  // on the machine type of 2026-12-06 (each Docker exec costs about four
  // times what it did) the whole corpus with 1 s probes took 11 min alone,
  // over 15 min beside another file, and its load made the neighbour's
  // rollout and ordering checks miss their deadlines. With 3 s probes and the
  // covering part of the corpus (29 of 47 projects) it is about 3 min.
  'test/integration/compose-parity.test.ts',
];

/**
 * Integration files run a second time with every lab node behind `dockyard
 * agent` (no published port; DOCKYARD_TEST_CONNECTION=agent, see
 * test/support/world.ts): the kinds' behaviour over an agent's tunnel.
 */
const OVER_AGENT = [
  // The edge agent's own file: agent nodes run a Node process each, so it joins this group
  // rather than adding load beside the timing-sensitive DockerService files of group 0.
  'test/integration/edge-agent.test.ts',
  // Sharded replicas serving edge agents: agent-native too (its own lab of edge boxes).
  'test/integration/sharding-agents.test.ts',
  'test/integration/dockernetwork.test.ts',
  'test/integration/dockerimage.test.ts',
  'test/integration/dockercontainer-imageref.test.ts',
  'test/integration/container-files.test.ts',
];

const realEnvironment = {
  environment: 'node' as const,
  globalSetup: ['test/global-setup.ts'],
  setupFiles: ['test/setup-env.ts'],
  testTimeout: 180_000,
  hookTimeout: 600_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'gitops/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...realEnvironment,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/faults/**',
            ...ALONE,
            'test/integration/edge-agent.test.ts',
            'test/integration/sharding-agents.test.ts',
          ],
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...realEnvironment,
          name: 'integration-alone',
          include: ALONE,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          ...realEnvironment,
          name: 'integration-agent',
          include: OVER_AGENT,
          env: { DOCKYARD_TEST_CONNECTION: 'agent' },
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          ...realEnvironment,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // Each scenario restarts, pauses or kills parts of its own (its
          // control plane, its nodes, its controller process), never shared
          // ones, and mostly waits for recovery: two at a time, like group 0.
          fileParallelism: true,
          maxWorkers: 2,
          testTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
