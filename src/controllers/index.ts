import { createDockerMetrics } from '../docker/docker-metrics.js';
import type { ControllerDeps } from '../managed/controller-deps.js';
import { registerDockerHostController } from './dockerhost/dockerhost-controller.js';
import { HostRuntime } from '../docker/host-runtime.js';
import { createStreamResyncMetrics } from '../docker/stream-resync.js';
import { registerDockerContainerController } from './dockercontainer/register.js';
import { dockerVolumeKind } from './dockervolume/volume-kind.js';
import { registerDockerImageController } from './dockerimage/image-kind.js';
import { dockerNetworkKind } from './dockernetwork/network-kind.js';
import { registerManagedController } from '../managed/register.js';
import { registerOrphanSweeper, type OwnerSource } from '../managed/orphan-sweeper.js';
import { GROUP, VERSION } from '../crds/kit.js';

export type { ControllerDeps };

const CONTAINER_RESOURCE = { group: GROUP, version: VERSION, plural: 'dockercontainers' };

/** Handles the CLI keeps to shut controllers' own background work down (event streams, heartbeats). */
export interface RegisteredControllers {
  names: string[];
  /** Shared Docker connections and event streams (tests cut streams through it). */
  hostRuntime: HostRuntime;
  stop(): Promise<void>;
}

/**
 * Registers every Dockyard controller with the manager. The CLI calls this
 * once.
 */
export function registerControllers(deps: ControllerDeps): RegisteredControllers {
  const dockerMetrics = createDockerMetrics(deps.manager.metrics.registry);
  const hostRuntime = new HostRuntime(
    dockerMetrics,
    deps.logger.child({ component: 'docker' }),
    undefined,
    deps.dockerEvents ?? true,
  );
  const resyncMetrics = createStreamResyncMetrics(deps.manager.metrics.registry);
  hostRuntime.onHostResync((host, reason) => resyncMetrics.resync(host, reason));
  const { hosts, trackPlaced } = registerDockerHostController(deps, hostRuntime, dockerMetrics);
  const volumes = registerManagedController(deps, hostRuntime, hosts, dockerVolumeKind);
  const networks = registerManagedController(deps, hostRuntime, hosts, dockerNetworkKind);
  const images = registerDockerImageController(deps, hostRuntime, hosts);
  const containers = registerDockerContainerController(deps, hostRuntime, hosts, {
    volumes,
    networks,
    images,
  });
  // A deleted DockerHost waits for what these have placed on it (see dockerhost/placed-objects.ts).
  trackPlaced('DockerContainer', containers.objects);
  trackPlaced('DockerImage', images.objects);
  trackPlaced('DockerNetwork', networks.objects);
  trackPlaced('DockerVolume', volumes.objects);
  registerOrphanSweeper(
    deps,
    hostRuntime,
    hosts,
    new Map<string, OwnerSource>([
      ['DockerVolume', { cache: volumes.objects, resource: dockerVolumeKind.resource }],
      ['DockerNetwork', { cache: networks.objects, resource: dockerNetworkKind.resource }],
      ['DockerContainer', { cache: containers.objects, resource: CONTAINER_RESOURCE }],
    ]),
    deps.orphanSweepIntervalMs,
  );
  return {
    names: [
      'dockerhost',
      'dockervolume',
      'dockernetwork',
      'dockerimage',
      'dockercontainer',
      'orphan-sweeper',
    ],
    hostRuntime,
    stop: async () => hostRuntime.stop(),
  };
}
