// The one list of managed kinds. Everything that enumerates them reads it:
// registerControllers (controllers, their names, what a DockerHost waits for,
// the orphan sweep's owners), the Docker event streams (the types the
// registered kinds listen to), and the generators (the chart's RBAC rules,
// docs/state-machines.md, docs/metrics.md, the Argo CD health checks).
// Adding a kind: its API in src/crds/<kind>.ts (and its line in ALL_KINDS),
// its ManagedKind and machine in src/controllers/<kind>/, and one entry here;
// then `npm run generate`. kinds.test.ts fails when ALL_KINDS differs from this
// list and UNMANAGED_KINDS (the kinds with a controller of their own) together.
import type { AnyStateMachine } from 'xstate';
import type { DockerContainer } from '../crds/dockercontainer.js';
import { dockerContainerDefinition } from '../crds/dockercontainer.js';
import type { DockerHost } from '../crds/dockerhost.js';
import { dockerBuildDefinition, type DockerBuild } from '../crds/dockerbuild.js';
import { dockerImageDefinition, type DockerImage } from '../crds/dockerimage.js';
import { dockerNetworkDefinition, type DockerNetwork } from '../crds/dockernetwork.js';
import { dockerVolumeDefinition, type DockerVolume } from '../crds/dockervolume.js';
import { ALL_KINDS } from '../crds/index.js';
import { GROUP, VERSION, type KindDefinition } from '../crds/kit.js';
import type { HostRuntime } from '../docker/host-runtime.js';
import type { ControllerDeps } from '../managed/controller-deps.js';
import {
  managedControllerName,
  registerManagedController,
  type ManagedControllerHandle,
} from '../managed/register.js';
import type { ManagedObject } from '../managed/types.js';
import type { Informer } from '../runtime/informer.js';
import type { ResourceType } from '../runtime/object-ref.js';
import { containerMachine, CONTAINER_MACHINE_VERSION } from './dockercontainer/container-machine.js';
import { registerDockerContainerController } from './dockercontainer/register.js';
import { registerDockerBuildController } from './dockerbuild/build-kind.js';
import { buildMachine, BUILD_MACHINE_VERSION } from './dockerbuild/build-machine.js';
import { registerDockerImageController } from './dockerimage/image-kind.js';
import { imageMachine, IMAGE_MACHINE_VERSION } from './dockerimage/image-machine.js';
import { dockerNetworkKind } from './dockernetwork/network-kind.js';
import { networkMachine, NETWORK_MACHINE_VERSION } from './dockernetwork/network-machine.js';
import { dockerVolumeKind } from './dockervolume/volume-kind.js';
import { volumeMachine, VOLUME_MACHINE_VERSION } from './dockervolume/volume-machine.js';

/** What a kind's register function gets. */
export interface KindRegistration {
  deps: ControllerDeps;
  hostRuntime: HostRuntime;
  hosts: Informer<DockerHost>;
  /** The handle of a kind listed (so registered) before this one. */
  handleOf<T extends ManagedObject>(kind: ManagedKindEntry<T>): ManagedControllerHandle<T>;
}

/** A per-host state machine, as docs/state-machines.md shows it. */
export interface KindMachine {
  machine: AnyStateMachine;
  version: number;
  /** The file that declares it. */
  source: string;
  /** One paragraph for the docs. */
  about: string;
}

export interface ManagedKindEntry<T extends ManagedObject = ManagedObject> {
  /** The API (src/crds): kind, plural, schema. */
  definition: KindDefinition;
  /**
   * The orphan sweep removes this kind's labelled Docker objects whose owner
   * is gone. Images are not swept: one image serves every owner that pulled it.
   */
  sweepsOrphans: boolean;
  /** Argo CD health: the shared gitops/argocd/health/placed-object.lua, or the kind's own <kind>.lua. */
  health: 'placed-object' | 'own';
  machine: KindMachine;
  /** Registers the kind's controller; its dockerEventType decides which Docker events streams follow. */
  register(ctx: KindRegistration): ManagedControllerHandle<T>;
}

export const VOLUMES: ManagedKindEntry<DockerVolume> = {
  definition: dockerVolumeDefinition,
  sweepsOrphans: true,
  health: 'placed-object',
  machine: {
    machine: volumeMachine,
    version: VOLUME_MACHINE_VERSION,
    source: 'src/controllers/dockervolume/volume-machine.ts',
    about:
      'A volume on one host. Its data is never destroyed to apply a spec change: that waits in ' +
      'RecreateRequired until someone removes the volume.',
  },
  register: ({ deps, hostRuntime, hosts }) =>
    registerManagedController({ deps, hostRuntime, hosts, kind: dockerVolumeKind }),
};

export const NETWORKS: ManagedKindEntry<DockerNetwork> = {
  definition: dockerNetworkDefinition,
  sweepsOrphans: true,
  health: 'placed-object',
  machine: {
    machine: networkMachine,
    version: NETWORK_MACHINE_VERSION,
    source: 'src/controllers/dockernetwork/network-machine.ts',
    about:
      'A network on one host. A network cannot change in place: a changed spec recreates it, or waits in ' +
      'RecreateRequired while containers are attached. A network with its name that is not Dockyard’s is ' +
      'never touched (NameConflict).',
  },
  register: ({ deps, hostRuntime, hosts }) =>
    registerManagedController({ deps, hostRuntime, hosts, kind: dockerNetworkKind }),
};

export const IMAGES: ManagedKindEntry<DockerImage> = {
  definition: dockerImageDefinition,
  sweepsOrphans: false,
  health: 'placed-object',
  machine: {
    machine: imageMachine,
    version: IMAGE_MACHINE_VERSION,
    source: 'src/controllers/dockerimage/image-machine.ts',
    about:
      'An image on one host: pulled in the background (progress in status), re-resolved under pullPolicy ' +
      'Always, retried with exponential backoff when a pull fails. PULL_SUCCEEDED and PULL_FAILED are ' +
      'declared on the machine and apply in every state.',
  },
  register: ({ deps, hostRuntime, hosts }) => registerDockerImageController(deps, hostRuntime, hosts),
};

export const BUILDS: ManagedKindEntry<DockerBuild> = {
  definition: dockerBuildDefinition,
  // A built image serves every container run from it, as a pulled one does.
  sweepsOrphans: false,
  health: 'placed-object',
  machine: {
    machine: buildMachine,
    version: BUILD_MACHINE_VERSION,
    source: 'src/controllers/dockerbuild/build-machine.ts',
    about:
      'An image built on one host, in the background, from the spec and the context it hashes: a new hash ' +
      'builds again, a failed build is retried with exponential backoff, the host policy refuses builds ' +
      'below privileged unless the host allows them. BUILD_SUCCEEDED and BUILD_FAILED are declared on the ' +
      'machine and apply in every state.',
  },
  register: ({ deps, hostRuntime, hosts }) => registerDockerBuildController(deps, hostRuntime, hosts),
};

export const CONTAINERS: ManagedKindEntry<DockerContainer> = {
  definition: dockerContainerDefinition,
  sweepsOrphans: true,
  health: 'own',
  machine: {
    machine: containerMachine,
    version: CONTAINER_MACHINE_VERSION,
    source: 'src/controllers/dockercontainer/container-machine.ts',
    about:
      'A container on one host. Its events are the situations the pure classifier ' +
      '(`src/controllers/dockercontainer/situation.ts`) finds an observation in, in priority order.',
  },
  register: ({ deps, hostRuntime, hosts, handleOf }) =>
    registerDockerContainerController(deps, hostRuntime, hosts, {
      volumes: handleOf(VOLUMES),
      networks: handleOf(NETWORKS),
      images: handleOf(IMAGES),
    }),
};

/**
 * Every managed kind, in registration order: a kind comes after the kinds
 * its register function asks handleOf for.
 */
export const MANAGED_KINDS: readonly ManagedKindEntry[] = [
  listed(VOLUMES),
  listed(NETWORKS),
  listed(IMAGES),
  listed(BUILDS),
  listed(CONTAINERS),
];

/**
 * The same entry as a list member. Informer<T> is invariant in T (its store
 * takes T in and gives T out), so entries of different kinds share no type
 * but the erased one; handleOf gives T back to whoever names the entry.
 */
function listed<T extends ManagedObject>(entry: ManagedKindEntry<T>): ManagedKindEntry {
  return entry as unknown as ManagedKindEntry;
}

/**
 * The API's kinds that are not managed kinds: no ManagedKind, no per-host
 * machine, no Docker objects of their own. DockerHost is the Docker daemon
 * itself (its own controller and machine, src/controllers/dockerhost);
 * DockerService never talks to Docker: it owns DockerContainers, as a
 * Deployment owns Pods (src/controllers/dockerservice). Every kind of
 * ALL_KINDS is in exactly one of this list and MANAGED_KINDS (kinds.test.ts).
 */
export const UNMANAGED_KINDS: readonly string[] = ['DockerHost', 'DockerService', 'DockerComposeStack'];

/** The kind's controller name: its metrics' `controller` label, Event reporter and field manager. */
export function controllerName(entry: Pick<ManagedKindEntry, 'definition'>): string {
  return managedControllerName(entry.definition.kind);
}

/** Where the kind is read live from the API server. */
export function resourceOf(entry: Pick<ManagedKindEntry, 'definition'>): ResourceType {
  return { group: GROUP, version: VERSION, plural: entry.definition.plural };
}

/** Entries in the order ALL_KINDS lists their kinds, for docs that follow the API's order. */
export function inApiOrder<T extends Pick<ManagedKindEntry, 'definition'>>(entries: readonly T[]): T[] {
  const rank = (e: T) => ALL_KINDS.findIndex((d) => d.kind === e.definition.kind);
  return [...entries].sort((a, b) => rank(a) - rank(b));
}
