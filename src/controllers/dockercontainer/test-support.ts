// One DockerContainer `team/web` on host `n1` for this folder's unit tests of
// the kind against spied Docker clients (not part of the build:
// tsconfig.build.json leaves test-support.ts out).

import type Dockerode from 'dockerode';
import { pino } from 'pino';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { HostConnection } from '../../docker/connection-pool.js';
import { managedMetricsNoop } from '../../managed/managed-metrics.js';
import type { HostContext, HostStatusEntry } from '../../managed/types.js';
import type { DockerContainerKindDeps } from './container-kind.js';

export const HOST = 'n1';

export const webContainer = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerContainer',
  metadata: { name: 'web', namespace: 'team', uid: 'u-web', generation: 1 },
  spec: { hostName: HOST, image: 'busybox:1', command: ['sleep', '3600'] },
} as unknown as DockerContainer;

const privilegedHost = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerHost',
  metadata: { name: HOST },
  spec: { endpoint: 'unix:///nowhere.sock', securityPolicy: 'privileged' },
} as unknown as DockerHost;

const none = { getByName: () => undefined };

/** No DockerImage, DockerVolume, DockerNetwork, Secret or ConfigMap exists. */
export const emptyKindDeps: DockerContainerKindDeps = {
  images: none,
  volumes: none,
  networks: none,
  volumeNameOf: (v) => v.metadata.name,
  networkNameOf: (n) => n.metadata.name,
  refs: () => ({ secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined) }),
};

/** `webContainer` on `n1` (securityPolicy privileged); Event reasons go to `onReason`. */
export function webHostContext(
  opts: { previous?: HostStatusEntry; onReason?: (reason: string) => void } = {},
): HostContext<DockerContainer> {
  return {
    obj: webContainer,
    namespace: 'team',
    host: privilegedHost,
    conn: { api: {} as Dockerode, stream: {} as Dockerode } as HostConnection,
    previous: opts.previous,
    paused: false,
    logger: pino({ level: 'silent' }),
    events: { event: (_obj, _type, reason) => opts.onReason?.(reason) },
    metrics: managedMetricsNoop,
    now: new Date('2026-01-01T00:01:00Z'),
    signal: new AbortController().signal,
  };
}
