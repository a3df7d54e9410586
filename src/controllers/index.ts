import { createDockerMetrics } from '../docker/docker-metrics.js';
import type { ControllerDeps } from '../managed/controller-deps.js';
import { DOCKERHOST_CONTROLLER, registerDockerHostController } from './dockerhost/dockerhost-controller.js';
import { HostRuntime } from '../docker/host-runtime.js';
import { createStreamResyncMetrics } from '../docker/stream-resync.js';
import type { ManagedControllerHandle } from '../managed/register.js';
import { ORPHAN_SWEEPER, registerOrphanSweeper, type OwnerSource } from '../managed/orphan-sweeper.js';
import type { ManagedObject } from '../managed/types.js';
import type { Informer } from '../runtime/informer.js';
import { DOCKERSERVICE_CONTROLLER, registerDockerServiceController } from './dockerservice/register.js';
import {
  DOCKERCOMPOSESTACK_CONTROLLER,
  registerDockerComposeStackController,
} from './dockercomposestack/register.js';
import type { OwnedResource } from './dockercomposestack/stack-status.js';
import {
  CONTAINERS,
  controllerName,
  MANAGED_KINDS,
  NETWORKS,
  resourceOf,
  VOLUMES,
  type ManagedKindEntry,
} from './kinds.js';

export type { ControllerDeps };

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
  const hostRuntime = new HostRuntime({
    metrics: dockerMetrics,
    logger: deps.logger.child({ component: 'docker' }),
    eventStreams: deps.dockerEvents ?? true,
  });
  const resyncMetrics = createStreamResyncMetrics(deps.manager.metrics.registry);
  hostRuntime.onHostResync((host, reason) => resyncMetrics.resync(host, reason));
  const { hosts, trackPlaced } = registerDockerHostController(deps, hostRuntime, dockerMetrics);
  const handles = new Map<object, ManagedControllerHandle<ManagedObject>>();
  const handleOf = <T extends ManagedObject>(kind: ManagedKindEntry<T>): ManagedControllerHandle<T> => {
    const handle = handles.get(kind);
    if (!handle)
      throw new Error(`${kind.definition.kind} is used before it is registered: reorder MANAGED_KINDS`);
    return handle as unknown as ManagedControllerHandle<T>;
  };
  for (const kind of MANAGED_KINDS) {
    handles.set(kind, kind.register({ deps, hostRuntime, hosts, handleOf }));
  }
  // A deleted DockerHost waits for what these have placed on it (see
  // dockerhost/placed-objects.ts); its messages name the kinds that use
  // others first, the order they leave in.
  for (const kind of [...MANAGED_KINDS].reverse()) trackPlaced(kind.definition.kind, handleOf(kind).objects);
  // DockerService owns DockerContainers and never talks to Docker: it reads
  // the containers' and hosts' caches the managed controllers keep.
  const { services } = registerDockerServiceController({
    deps,
    hosts,
    containers: handleOf(CONTAINERS).objects,
  });
  // DockerComposeStack owns the resources `dockyard compose convert` prints and
  // never talks to Docker either: it reads their caches for its status.
  registerDockerComposeStackController({
    deps,
    owned: [
      handleOf(NETWORKS).objects,
      handleOf(VOLUMES).objects,
      handleOf(CONTAINERS).objects,
      services,
    ].map((informer) => informer as unknown as Informer<OwnedResource>),
  });
  registerOrphanSweeper({
    deps,
    hostRuntime,
    hosts,
    owners: new Map<string, OwnerSource>(
      MANAGED_KINDS.filter((kind) => kind.sweepsOrphans).map((kind) => [
        kind.definition.kind,
        { cache: handleOf(kind).objects, resource: resourceOf(kind) },
      ]),
    ),
    intervalMs: deps.orphanSweepIntervalMs,
  });
  return {
    names: [
      DOCKERHOST_CONTROLLER,
      ...MANAGED_KINDS.map(controllerName),
      DOCKERSERVICE_CONTROLLER,
      DOCKERCOMPOSESTACK_CONTROLLER,
      ORPHAN_SWEEPER,
    ],
    hostRuntime,
    stop: async () => hostRuntime.stop(),
  };
}
