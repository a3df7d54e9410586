import { CoreV1Api } from '@kubernetes/client-node';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { DockerVolume } from '../../crds/dockervolume.js';
import { registerManagedController, type ManagedControllerHandle } from '../../managed/register.js';
import { enqueueMapped } from '../../runtime/enqueue.js';
import type { Informer } from '../../runtime/informer.js';
import type { Request } from '../../runtime/object-key.js';
import { volumeNameOf } from '../dockervolume/volume-kind.js';
import type { HostRuntime } from '../../docker/host-runtime.js';
import type { ControllerDeps } from '../index.js';
import { dockerNetworkKind } from '../dockernetwork/network-kind.js';
import { imageAccessRecordsFor } from '../dockerimage/image-access.js';
import { imagePolicyGateFor } from '../image-policy/shared-gate.js';
import { ContainerOps } from './background-ops.js';
import { dockerContainerKind } from './container-kind.js';
import { KubeRefReader } from './env-resolver.js';
import { networkContainerOf } from './sibling-container.js';

interface Dependencies {
  volumes: ManagedControllerHandle<DockerVolume>;
  networks: ManagedControllerHandle<DockerNetwork>;
  images: ManagedControllerHandle<DockerImage>;
}

type ReferencedKind = 'DockerVolume' | 'DockerNetwork' | 'DockerImage';

// Indexes of the container cache: which containers a dependency's change
// concerns. A scan of every container per change cost O(containers) each
// time; with 10,000 containers converging it was a fifth of the controller's
// CPU (bench/results/profile.md).
const REFERENCES_INDEX = 'references';
const DEPENDS_ON_INDEX = 'dependsOn';

const indexValue = (namespace: string | undefined, name: string, kind = '') =>
  `${kind}/${namespace ?? ''}/${name}`;

/** Index values: the volumes, networks and image a container references, as kind/namespace/name. */
export function referencedObjects(c: DockerContainer): string[] {
  const ns = c.metadata.namespace;
  const values = [
    ...(c.spec.mounts ?? []).flatMap((m) =>
      m.type === 'volume' && m.volume ? [indexValue(ns, m.volume, 'DockerVolume')] : [],
    ),
    ...(c.spec.networks ?? []).map((n) => indexValue(ns, n.name, 'DockerNetwork')),
    ...(c.spec.imageRef ? [indexValue(ns, c.spec.imageRef.name, 'DockerImage')] : []),
  ];
  return [...new Set(values)];
}

/** The spec.dependsOn names of a container. */
const dependsOnNames = (c: DockerContainer): string[] => (c.spec.dependsOn ?? []).map((d) => d.name);

/** Index values: the containers whose host entries this one waits on (dependsOn, networkContainer). */
export function awaitedContainers(c: DockerContainer): string[] {
  const network = networkContainerOf(c);
  const names = [...dependsOnNames(c), ...(network ? [network] : [])];
  return [...new Set(names)].map((name) => indexValue(c.metadata.namespace, name));
}

/**
 * Whether a DockerContainer changed in a way its dependents decide on: what
 * its host entries say (phase, Docker state, exit code) or its own dependsOn
 * (a cycle made or broken). Its other status writes wake nobody else.
 */
export function dependencyFactsChanged(a: DockerContainer, b: DockerContainer): boolean {
  const facts = (c: DockerContainer) =>
    JSON.stringify([
      // id: a recreated networkContainer recreates the containers sharing its network namespace.
      (c.status?.hosts ?? []).map((h) => [h.name, h.phase, h.state, h.exitCode, h.id]),
      dependsOnNames(c),
    ]);
  return facts(a) !== facts(b);
}

/**
 * The DockerContainer controller: the managed reconciler with the container
 * kind, plus watches so a container waiting for a network, volume, image or
 * another DockerContainer (spec.dependsOn) moves on as soon as that
 * dependency is ready on its host (or a new image digest rolls it).
 */
export function registerDockerContainerController(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  hosts: Informer<DockerHost>,
  dependencies: Dependencies,
): ManagedControllerHandle<DockerContainer> {
  const core = deps.kc.makeApiClient(CoreV1Api);
  // The ops call this only after a reconcile started them, once registration has returned.
  const late: { handle?: ManagedControllerHandle<DockerContainer> } = {};
  const kind = dockerContainerKind({
    volumes: dependencies.volumes.objects,
    networks: dependencies.networks.objects,
    images: dependencies.images.objects,
    // Its own cache, once registered: reconciles start only after registration returned.
    containers: { getByName: (name, ns) => late.handle?.objects.getByName(name, ns) },
    volumeNameOf,
    networkNameOf: (n) => dockerNetworkKind.dockerNameOf(n),
    refs: (namespace) => new KubeRefReader(core, namespace),
    // The same records the DockerImage kind keeps (registered with the same HostRuntime).
    imageAccess: imageAccessRecordsFor(hostRuntime),
    // The same gate (and verification cache) as the DockerImage kind.
    imagePolicy: imagePolicyGateFor(hostRuntime, { core, registry: deps.manager.metrics.registry }),
    // A pull or stop that ended in the background reconciles its owner again.
    ops: new ContainerOps({ trigger: (key) => late.handle?.trigger(key) }),
  });
  const handle = registerManagedController({ deps, hostRuntime, hosts, kind });
  late.handle = handle;
  handle.objects.addIndexer(REFERENCES_INDEX, referencedObjects);
  handle.objects.addIndexer(DEPENDS_ON_INDEX, awaitedContainers);
  const requestsOf = (containers: DockerContainer[]): Request[] =>
    containers.map((c) => ({ namespace: c.metadata.namespace ?? '', name: c.metadata.name }));
  const containersReferencing =
    (refKind: ReferencedKind) =>
    (dep: { metadata: { name: string; namespace?: string } }): Request[] =>
      requestsOf(
        handle.objects.byIndex(
          REFERENCES_INDEX,
          indexValue(dep.metadata.namespace, dep.metadata.name, refKind),
        ),
      );
  handle.controller.watch(dependencies.volumes.objects, enqueueMapped(containersReferencing('DockerVolume')));
  handle.controller.watch(
    dependencies.networks.objects,
    enqueueMapped(containersReferencing('DockerNetwork')),
  );
  handle.controller.watch(dependencies.images.objects, enqueueMapped(containersReferencing('DockerImage')));
  // A container's dependents (spec.dependsOn) follow its host entries: a
  // migration's Completed starts the app waiting for it.
  const dependents = (dep: DockerContainer): Request[] =>
    requestsOf(
      handle.objects.byIndex(DEPENDS_ON_INDEX, indexValue(dep.metadata.namespace, dep.metadata.name)),
    );
  handle.controller.watch(handle.objects, enqueueMapped(dependents), {
    updatePredicate: dependencyFactsChanged,
  });
  return handle;
}
