// Helpers shared by unit tests of Docker objects (not part of the build:
// tsconfig.build.json leaves test-support.ts out).

import type { ObservedContainer } from './container-client.js';

/** A running container as observe() reports it, with no limits, on the default bridge; fields overridden as given. */
export function observedContainer(
  o: Partial<Omit<ObservedContainer, 'state' | 'hostConfig'>> & {
    state?: Partial<ObservedContainer['state']>;
    hostConfig?: Partial<ObservedContainer['hostConfig']>;
  } = {},
): ObservedContainer {
  const { state, hostConfig, ...rest } = o;
  return {
    id: 'c1',
    name: 'team.web',
    labels: {},
    image: 'app:1',
    imageId: 'sha256:1',
    created: '2026-01-01T00:00:00Z',
    networks: { bridge: { aliases: [] } },
    mounts: [],
    declaredVolumes: [],
    ...rest,
    state: {
      status: 'running',
      running: true,
      paused: false,
      restarting: false,
      exitCode: 0,
      restartCount: 0,
      oomKilled: false,
      startedAt: '2026-01-01T00:00:01Z',
      ...state,
    },
    hostConfig: {
      restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 },
      memory: 0,
      memorySwap: 0,
      memoryReservation: 0,
      nanoCpus: 0,
      pidsLimit: 0,
      ...hostConfig,
    },
  };
}
