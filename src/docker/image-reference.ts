// Image references the way Docker reads them (distribution/reference):
// `[domain/]path[:tag][@digest]`, with Docker Hub as the default registry and
// `library/` as the default namespace of its one-component names. Pure.

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export interface ImageReference {
  /** Registry host, with port when given; `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** `docker.io` for every name of Docker Hub's registry, otherwise the host lower-cased (port kept). */
export function normalizeDomain(domain: string): string {
  const lower = domain.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/**
 * Splits a reference into registry, repository, tag and digest. The first
 * path component is a registry only when it looks like a host: it has a dot
 * or a port, or is `localhost` (Docker's rule).
 */
export function parseImageReference(ref: string): ImageReference {
  const trimmed = ref.trim();
  if (!trimmed) throw new Error('empty image reference');
  const at = trimmed.indexOf('@');
  const digest = at >= 0 ? trimmed.slice(at + 1) : undefined;
  let name = at >= 0 ? trimmed.slice(0, at) : trimmed;
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const domain = hasDomain ? normalizeDomain(first) : DOCKER_HUB;
  let path = hasDomain ? name.slice(slash + 1) : name;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (!path) throw new Error(`image reference ${ref} names no repository`);
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `docker.io/library/busybox`: the fully qualified repository name. */
export function canonicalName(r: ImageReference): string {
  return `${r.domain}/${r.path}`;
}

/** `busybox`, `user/app`, `registry:5000/app`: the repository name as Docker shows it. */
export function familiarName(r: ImageReference): string {
  if (r.domain !== DOCKER_HUB) return `${r.domain}/${r.path}`;
  const rest = r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return rest.includes('/') && r.path.startsWith('library/') ? r.path : rest;
}

/**
 * The name Docker gives a pulled image in its events and `docker images`:
 * familiar name plus `@digest` when pinned, otherwise `:tag` (default
 * `latest`). Docker pulls a reference with both tag and digest by digest.
 */
export function familiarString(ref: string): string {
  const r = parseImageReference(ref);
  return r.digest ? `${familiarName(r)}@${r.digest}` : `${familiarName(r)}:${r.tag ?? 'latest'}`;
}

/** familiarString, or the reference as written when it does not parse (names in events and messages; never throws). */
export function familiarOrAsWritten(ref: string): string {
  try {
    return familiarString(ref);
  } catch {
    return ref;
  }
}

/** `POST /images/create` parameters: the repository and the tag or digest to pull. */
export function pullTarget(ref: string): { fromImage: string; tag: string } {
  const r = parseImageReference(ref);
  return { fromImage: familiarName(r), tag: r.digest ?? r.tag ?? 'latest' };
}

/** The digest of `name@sha256:…`, if it has one. */
export function digestOf(repoDigest: string): string | undefined {
  const at = repoDigest.indexOf('@');
  return at >= 0 ? repoDigest.slice(at + 1) : undefined;
}

/** The `RepoDigests` entries of a local image that belong to the reference's repository. */
export function repoDigestsFor(repoDigests: readonly string[], ref: string): string[] {
  const want = canonicalName(parseImageReference(ref));
  return repoDigests.filter((rd) => {
    const at = rd.indexOf('@');
    if (at < 0) return false;
    try {
      return canonicalName(parseImageReference(rd.slice(0, at))) === want;
    } catch {
      return false;
    }
  });
}

/**
 * The repository digest to report for a local image: the one matching the
 * digest the tag last resolved to when known, otherwise the first one of the
 * reference's repository.
 */
export function repoDigestFor(
  repoDigests: readonly string[],
  ref: string,
  preferDigest?: string,
): string | undefined {
  const mine = repoDigestsFor(repoDigests, ref);
  return (preferDigest ? mine.find((rd) => digestOf(rd) === preferDigest) : undefined) ?? mine[0];
}

/**
 * Whether a tag has moved: the registry now resolves it to `remoteDigest`,
 * and the local image carries no repository digest of that value for the
 * reference's repository (an image pulled from elsewhere or built locally
 * carries none, so it counts as moved).
 */
export function digestMoved(localRepoDigests: readonly string[], ref: string, remoteDigest: string): boolean {
  return !repoDigestsFor(localRepoDigests, ref).some((rd) => digestOf(rd) === remoteDigest);
}
