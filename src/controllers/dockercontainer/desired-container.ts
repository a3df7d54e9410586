import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { DockerVolume } from '../../crds/dockervolume.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import { recreateHash, type ContainerInputs } from '../../docker/container-spec.js';
import type { ObjectCache } from '../../managed/managed-reconciler.js';
import { ownerLabels } from '../../managed/ownership.js';
import type { HostStatusEntry } from '../../managed/types.js';
import type { ImageAccessRecords } from '../dockerimage/image-access.js';
import type { ImagePolicyGate } from '../image-policy/image-policy-gate.js';
import type { ContainerOps } from './background-ops.js';
import { containerNameOf, ownerOf } from './container-owner.js';
import {
  containerDependency,
  decideDependencies,
  dependencyCycle,
  imageOfRunning,
  labelOf,
  mountedVolume,
  ownSpecChanged,
  type DependencyEntry,
  type DependencyState,
  type DependencyStatus,
} from './dependencies.js';
import { resolveEnv, type EnvResolution, type RefReader } from './env-resolver.js';
import { networkContainerDependency, networkContainerOf } from './sibling-container.js';
import { filesHash, resolveFiles } from './files-resolver.js';
import type { FileEntry } from '../../docker/files-image.js';
import type { SeccompProfileSource } from '../../crds/dockerhost.js';
import { resolveSeccompProfile } from './seccomp-resolver.js';

// What a container on one host is created from: the names its DockerVolumes,
// DockerNetworks and DockerImage have there, its environment, and whether it
// waits for them (dependencies.ts). Pure but for reading Secrets and ConfigMaps.

export interface DockerContainerKindDeps {
  volumes: ObjectCache<DockerVolume>;
  networks: ObjectCache<DockerNetwork>;
  images: ObjectCache<DockerImage>;
  /** The other DockerContainers, for spec.dependsOn; without it every dependsOn entry is not found. */
  containers?: ObjectCache<DockerContainer>;
  volumeNameOf(v: DockerVolume): string;
  networkNameOf(n: DockerNetwork): string;
  /** Secrets and ConfigMaps of a namespace, read by name. */
  refs(namespace: string): RefReader;
  /** Which credentials each image on each host was pulled or verified with (shared with DockerImage). */
  imageAccess?: ImageAccessRecords;
  /** Pulls and stops off the reconcile workers (background-ops.ts); its trigger enqueues the owner. */
  ops?: ContainerOps;
  /** The hosts' imagePolicy (shared with DockerImage); without it no image policy is enforced (unit tests). */
  imagePolicy?: ImagePolicyGate;
}

type WithHosts = { status?: { hosts?: HostStatusEntry[] } } | undefined;

/** How a referenced object stands on this host, per its own status entry. */
function stateOn(obj: WithHosts, host: string): DependencyState {
  if (!obj) return 'deleted';
  return obj.status?.hosts?.find((h) => h.name === host)?.phase === 'Ready' ? 'ready' : 'notReady';
}

interface Resolved {
  dependencies: DependencyStatus[];
  /** Undefined when a name cannot be told (a deleted DockerVolume the running container does not mount). */
  inputs?: Omit<ContainerInputs, 'env'>;
  /** Recreate groups the inputs only stand in for (see ownSpecChanged). */
  unknownGroups: string[];
}

/**
 * Names each referenced DockerVolume, DockerNetwork and DockerImage on this
 * host and says how each stands there. Names follow from the cached objects
 * whatever their status; for a deleted volume, and for an image a not-ready
 * DockerImage no longer names here, `running` (our existing container) says
 * what it was created with.
 */
function resolveDependencies(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  on: { host: string; running: ObservedContainer | undefined },
): Resolved {
  const { host, running } = on;
  const ns = c.metadata.namespace ?? '';
  const dependencies: DependencyStatus[] = [];
  const volumeNames: Record<string, string> = {};
  const networkNames: Record<string, string> = {};
  let named = true;
  for (const m of c.spec.mounts ?? []) {
    if (m.type !== 'volume' || !m.volume) continue;
    const v = deps.volumes.getByName(m.volume, ns);
    dependencies.push({ ref: `DockerVolume/${m.volume}`, state: stateOn(v, host) });
    const name = v ? deps.volumeNameOf(v) : mountedVolume(running, m.target);
    if (name === undefined) named = false;
    else volumeNames[m.volume] = name;
  }
  for (const n of c.spec.networks ?? []) {
    const net = deps.networks.getByName(n.name, ns);
    dependencies.push({ ref: `DockerNetwork/${n.name}`, state: stateOn(net, host) });
    // A deleted network needs no name: networks change in place, never while a dependency is not ready.
    if (net) networkNames[n.name] = deps.networkNameOf(net);
  }
  for (const d of c.spec.dependsOn ?? []) dependencies.push(dependsOnStatus(deps, c, { ...d, host }));
  const netns = networkContainerOn(deps, c, host);
  if (netns) dependencies.push(netns.dependency);
  const image = resolveImage(deps, c, on);
  if (image.dependency) dependencies.push(image.dependency);
  const unknownGroups = [
    ...(image.unknown ? ['image'] : []),
    ...(netns && !netns.id ? ['networkContainer'] : []),
  ];
  if (!named) return { dependencies, unknownGroups };
  const { image: ref, imageDigest } = image;
  return {
    dependencies,
    unknownGroups,
    inputs: {
      name: containerNameOf(c),
      image: ref,
      ...(imageDigest ? { imageDigest } : {}),
      ...(netns?.id ? { networkContainerId: netns.id } : {}),
      volumeNames,
      networkNames,
      ownerLabels: {},
    },
  };
}

/** security.networkContainer on this host (sibling-container.ts), when the spec names one. */
function networkContainerOn(deps: DockerContainerKindDeps, c: DockerContainer, host: string) {
  const name = networkContainerOf(c);
  if (!name) return undefined;
  const target = deps.containers?.getByName(name, c.metadata.namespace ?? '');
  return networkContainerDependency({ name, target, host });
}

/** How one spec.dependsOn entry stands on this host, from the other container's status entry there. */
function dependsOnStatus(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  d: { name: string; condition?: 'Started' | 'Ready' | 'Completed'; host: string },
): DependencyStatus {
  const other = deps.containers?.getByName(d.name, c.metadata.namespace ?? '');
  const entry = other?.status?.hosts?.find((h) => h.name === d.host) as DependencyEntry | undefined;
  return containerDependency({
    name: d.name,
    condition: d.condition ?? 'Started',
    exists: other !== undefined,
    entry,
  });
}

/** The dependsOn cycle through `c` (its own spec for itself, the cache for the others). */
function cycleThrough(deps: DockerContainerKindDeps, c: DockerContainer): string[] | undefined {
  if (!c.spec.dependsOn?.length) return undefined;
  const ns = c.metadata.namespace ?? '';
  const self = c.metadata.name;
  return dependencyCycle(self, (name) => {
    const spec = name === self ? c.spec : deps.containers?.getByName(name, ns)?.spec;
    return spec?.dependsOn?.map((d) => d.name);
  });
}

/** The image to create from; `unknown` when only the running container can stand in for it. */
function resolveImage(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  on: { host: string; running: ObservedContainer | undefined },
): { image: string; imageDigest?: string; dependency?: DependencyStatus; unknown: boolean } {
  const { host, running } = on;
  if (!c.spec.imageRef) return { image: c.spec.image ?? '', unknown: false };
  const img = deps.images.getByName(c.spec.imageRef.name, c.metadata.namespace ?? '');
  const dependency = { ref: `DockerImage/${c.spec.imageRef.name}`, state: stateOn(img, host) };
  // Run the digest the DockerImage resolved on this host: a new digest there
  // rolls the container. A failed re-pull of the same reference keeps it in
  // the entry, so the container compares as unchanged.
  const repoDigest = img?.status?.hosts?.find((h) => h.name === host)?.repoDigest;
  if (img && typeof repoDigest === 'string') {
    const imageDigest = repoDigest.split('@')[1];
    return { image: repoDigest, ...(imageDigest ? { imageDigest } : {}), dependency, unknown: false };
  }
  if (img && dependency.state === 'ready') return { image: img.spec.image, dependency, unknown: false };
  // Not named on this host any more (a changed spec.image not pulled yet, or deleted).
  return { ...(running ? imageOfRunning(running) : { image: '' }), dependency, unknown: true };
}

/** What resolveContents reads: the container's Secrets and ConfigMaps, and its host's seccomp profiles. */
interface ContentSources {
  reader: RefReader;
  host: string;
  seccompProfiles: readonly SeccompProfileSource[] | undefined;
  refs: DockerContainerKindDeps['refs'];
}

/** Its environment, files and seccomp profile, read from Secrets and ConfigMaps; or why they cannot be. */
async function resolveContents(
  spec: DockerContainer['spec'],
  from: ContentSources,
): Promise<
  | {
      ok: true;
      env: EnvResolution & { ok: true };
      files: FileEntry[];
      filesHash: string | undefined;
      seccompProfile: ContainerInputs['seccompProfile'];
    }
  | (EnvResolution & { ok: false })
> {
  const env = await resolveEnv(spec, from.reader);
  if (!env.ok) return env;
  const files = await resolveFiles(spec, from.reader);
  if (!files.ok) return files;
  const { host, seccompProfiles: profiles, refs } = from;
  const seccomp = await resolveSeccompProfile({ spec, host, profiles, refs });
  if (!seccomp.ok) return seccomp;
  const { profile } = seccomp;
  return { ok: true, env, files: files.files, filesHash: filesHash(files.files), seccompProfile: profile };
}

/** What the container on one host is created from, or what it still waits for. */
export interface DesiredContainer {
  /** Dependencies it waits for on this host (`DockerVolume/data`…): nothing is created until they are Ready. */
  missing: string[];
  /** While it waits: the spec.dependsOn cycle through it (`['a', 'b', 'a']`), which never resolves by itself. */
  cycle?: string[];
  /**
   * Dependencies not Ready on this host that the existing container does
   * without: it is kept as it is, its readiness read from Docker (dependencies.ts).
   */
  held?: DependencyStatus[];
  /** A failed spec.files resolution shows here too (a missing Secret is a missing Secret). */
  env?: EnvResolution;
  inputs?: ContainerInputs;
  /** The resolved spec.files with their content: only for the create (files-image.ts), never shown. */
  files?: FileEntry[];
  /** The `dockyard.io/spec-hash` label the container must carry (its recreate hash). */
  hash?: string;
}

export interface DesiredContainerRequest {
  container: DockerContainer;
  hostName: string;
  /** Where its Secrets and ConfigMaps are read (the container's namespace). */
  namespace: string;
  /** The controller's --cluster-id, carried as an owner label. */
  clusterId?: string;
  /** Our existing container on the host, when there is one. */
  running?: ObservedContainer;
  /** The host's securityPolicySettings.seccompProfiles, for seccompProfile Localhost. */
  seccompProfiles?: readonly SeccompProfileSource[];
}

/**
 * The create inputs and spec hash of a container on `hostName`, from the
 * caches of its dependencies. Exported so checks outside the controller (the
 * fault suite's invariants) compute the same hash the controller would.
 * `running` is our existing container there: given, a dependency that is not
 * Ready holds it as it is instead of making it wait (unless its own spec
 * changed), and the hash is the one it carries.
 */
export async function desiredContainer(
  deps: DockerContainerKindDeps,
  request: DesiredContainerRequest,
): Promise<DesiredContainer> {
  const { container: c, hostName, namespace, clusterId, running } = request;
  const resolved = resolveDependencies(deps, c, { host: hostName, running });
  const notReady = resolved.dependencies.filter((d) => d.state !== 'ready').map(labelOf);
  const cycle = notReady.length > 0 ? cycleThrough(deps, c) : undefined;
  const wait = (missing: string[]): DesiredContainer => ({ missing, ...(cycle ? { cycle } : {}) });
  if (!resolved.inputs || (notReady.length > 0 && !running)) return wait(notReady);
  const contents = await resolveContents(c.spec, {
    reader: deps.refs(namespace),
    host: hostName,
    seccompProfiles: request.seccompProfiles,
    refs: (ns) => deps.refs(ns),
  });
  if (!contents.ok) return notReady.length > 0 ? wait(notReady) : { missing: [], env: contents };
  const { env, files, filesHash, seccompProfile } = contents;
  const inputs: ContainerInputs = {
    ...resolved.inputs,
    env: env.env,
    ...(filesHash ? { filesHash } : {}),
    ...(seccompProfile ? { seccompProfile } : {}),
    // No spec hash here: it is the recreate hash of these inputs, added at create (toCreateOptions).
    ownerLabels: ownerLabels(ownerOf(c), { deletionPolicy: c.spec.deletionPolicy ?? 'Delete', clusterId }),
  };
  const decision = decideDependencies({
    dependencies: resolved.dependencies,
    existing: running !== undefined,
    specChanged:
      running !== undefined &&
      notReady.length > 0 &&
      ownSpecChanged({ spec: c.spec, inputs, running, unknownGroups: resolved.unknownGroups }),
  });
  switch (decision.type) {
    case 'proceed':
      return { missing: [], env, inputs, files, hash: recreateHash(c.spec, inputs) };
    case 'wait':
      return wait(decision.missing);
    case 'hold': {
      // Judged up to date: the hash it carries, never one computed from a stand-in image.
      const carried = running?.labels[OWNER_LABELS.specHash];
      return {
        missing: [],
        held: decision.notReady,
        env,
        inputs,
        files,
        hash: carried ?? recreateHash(c.spec, inputs),
      };
    }
  }
}
