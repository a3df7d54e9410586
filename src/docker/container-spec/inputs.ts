// What the spec translation needs besides the spec, and the shared
// normalisation every section uses (so the hash, the create options and the
// in-place diff agree on what "the same" means). No I/O here.
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';

/** The restart policy when the spec gives none (documented on the CRD field). */
export const DEFAULT_RESTART_POLICY = 'unless-stopped';

/** The network Docker attaches a container to when no network is given. */
export const DEFAULT_BRIDGE = 'bridge';

/** Everything the translation needs besides the spec, resolved by the controller for one host. */
export interface ContainerInputs {
  /** The Docker container name. */
  name: string;
  /** The reference to create from: digest-pinned when the DockerImage resolved one. */
  image: string;
  imageDigest?: string;
  /**
   * When the host's imagePolicy pinned `image` (repository@digest) from
   * spec.image: that spec.image. The recreate hash takes it instead of the
   * pinned reference.
   */
  pinnedFrom?: string;
  /** Fully resolved (envFrom, then env), in order. */
  env: Array<{ name: string; value: string }>;
  /** The hash of the resolved spec.files (never their content); unset without files. */
  filesHash?: string;
  /**
   * For seccompProfile Localhost: the host's profile as resolved from its
   * ConfigMap, minified (sent as `seccomp=<json>`) and its sha256 (hashed).
   */
  seccompProfile?: { json: string; sha256: string };
  /** DockerVolume name → Docker volume name on this host. */
  volumeNames: Record<string, string>;
  /**
   * For networkMode container: the Docker ID of the networkContainer's
   * container on this host (part of the recreate hash: a recreated target
   * recreates the containers sharing its network namespace).
   */
  networkContainerId?: string;
  /** DockerNetwork name → Docker network name on this host. */
  networkNames: Record<string, string>;
  /** From ownerLabels(), minus the spec hash (toCreateOptions adds it). */
  ownerLabels: Record<string, string>;
}

/** A spec that refers to something the inputs do not resolve (a programming error in the caller). */
export class UnresolvedReferenceError extends Error {
  override readonly name = 'UnresolvedReferenceError';
}

export type Spec = DockerContainerSpec;
export type Port = NonNullable<Spec['ports']>[number];
export type Mount = NonNullable<Spec['mounts']>[number];

export function volumeNameOf(inputs: ContainerInputs, volume: string | undefined): string {
  const name = volume === undefined ? undefined : inputs.volumeNames[volume];
  if (name === undefined) {
    throw new UnresolvedReferenceError(`DockerVolume ${JSON.stringify(volume)} is not resolved on this host`);
  }
  return name;
}

export function networkNameOf(inputs: ContainerInputs, network: string): string {
  const name = inputs.networkNames[network];
  if (name === undefined) {
    throw new UnresolvedReferenceError(
      `DockerNetwork ${JSON.stringify(network)} is not resolved on this host`,
    );
  }
  return name;
}

export const nonEmpty = <T>(list: T[] | undefined): T[] | undefined =>
  list && list.length > 0 ? list : undefined;
export const nonEmptyMap = (map: Record<string, string> | undefined) =>
  map && Object.keys(map).length > 0 ? map : undefined;
export const trueOrUndefined = (flag: boolean | undefined) => (flag ? true : undefined);

export function sortedBy<T>(list: T[], key: (item: T) => string): T[] {
  return [...list].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export function protocolOf(p: Port): string {
  return (p.protocol ?? 'TCP').toLowerCase();
}

export function portKey(p: Port): string {
  return `${p.containerPort}/${protocolOf(p)}`;
}

export function normalCapability(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

export function normalSignal(signal: string): string {
  const s = signal.toUpperCase();
  return /^[0-9]+$/.test(s) || s.startsWith('SIG') ? s : `SIG${s}`;
}

export function capabilities(list: string[] | undefined): string[] | undefined {
  return nonEmpty([...new Set((list ?? []).map(normalCapability))].sort());
}

export function emptyToUndefined<T extends object>(value: T): T | undefined {
  return Object.values(value).some((v) => v !== undefined) ? value : undefined;
}

export function restartPolicyOf(spec: Spec): { Name: string; MaximumRetryCount?: number } {
  const rp = spec.restartPolicy;
  if (!rp) return { Name: DEFAULT_RESTART_POLICY };
  // Docker refuses a retry count with any policy but on-failure.
  return rp.name === 'on-failure' && rp.maximumRetryCount !== undefined
    ? { Name: rp.name, MaximumRetryCount: rp.maximumRetryCount }
    : { Name: rp.name };
}

/** `host`, `none` or `container` when the container joins no network of its own. */
export function networkModeOf(spec: Spec): 'host' | 'none' | 'container' | undefined {
  const mode = spec.security?.networkMode;
  return mode === 'host' || mode === 'none' || mode === 'container' ? mode : undefined;
}

/** HostConfig.NetworkMode for the spec's networkMode, when it is not the default. */
export function dockerNetworkModeOf(spec: Spec, inputs: ContainerInputs): string | undefined {
  const mode = networkModeOf(spec);
  if (mode !== 'container') return mode;
  if (!inputs.networkContainerId) {
    throw new UnresolvedReferenceError(
      `DockerContainer ${JSON.stringify(spec.security?.networkContainer)} (networkContainer) is not resolved on this host`,
    );
  }
  return `container:${inputs.networkContainerId}`;
}
