// Registry credentials from `.dockerconfigjson` (the content of a
// kubernetes.io/dockerconfigjson Secret), matched to an image by registry host
// the way Docker matches them. Pure. Errors name the problem, never the
// content: a parse error's message could quote credentials.

import { DOCKER_HUB, normalizeDomain, parseImageReference } from './image-reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** What the Docker API takes as X-Registry-Auth (base64url JSON). */
export interface RegistryAuth extends RegistryCredentials {
  serveraddress: string;
}

export interface ConfigEntry {
  /** The key as written in the config, e.g. `https://index.docker.io/v1/`. */
  key: string;
  /** The registry host the entry applies to (normalised: no scheme or path, Docker Hub as `docker.io`). */
  host: string;
  credentials: RegistryCredentials;
}

/** A problem with a `.dockerconfigjson`; its message never contains any of the content. */
export class DockerConfigError extends Error {}

/** Docker Hub's legacy server address, which Docker uses as the key and `serveraddress` for Hub credentials. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/**
 * The registry host a config key names: `https://index.docker.io/v1/` →
 * `docker.io`, `http://reg:5000/v2/` → `reg:5000`, `Reg.Example.com` →
 * `reg.example.com` (Docker's ConvertToHostname, plus the Hub aliases).
 */
export function registryHostOfKey(key: string): string {
  let host = key.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(host);
  if (scheme) host = host.slice(scheme[0].length);
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  return normalizeDomain(host);
}

/** The registry host an image pulls from: `busybox` → `docker.io`, `127.0.0.1:5000/app:1` → `127.0.0.1:5000`. */
export function registryHostOf(imageRef: string): string {
  return parseImageReference(imageRef).domain;
}

/** The `serveraddress` Docker expects for a registry host. */
export function serverAddressFor(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_SERVER : host;
}

function decodeAuthField(auth: string): RegistryCredentials {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new DockerConfigError('an "auth" field is not base64 of "username:password"');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The credential entries of a `.dockerconfigjson` (`{"auths": {KEY: {...}}}`).
 * An entry's `auth` (base64 of `username:password`) wins over separate
 * `username`/`password` fields, as in Docker's config loader. Entries with
 * neither (e.g. only an identity token) are skipped.
 */
export function parseDockerConfigJson(text: string): ConfigEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new DockerConfigError('.dockerconfigjson is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DockerConfigError('.dockerconfigjson is not a JSON object');
  const auths = (parsed as { auths?: unknown }).auths;
  if (auths === undefined) return [];
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths))
    throw new DockerConfigError('.dockerconfigjson "auths" is not an object');
  const entries: ConfigEntry[] = [];
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const v = value as { auth?: unknown; username?: unknown; password?: unknown };
    let credentials: RegistryCredentials | undefined;
    if (typeof v.auth === 'string' && v.auth !== '') credentials = decodeAuthField(v.auth);
    else if (typeof v.username === 'string' && typeof v.password === 'string')
      credentials = { username: v.username, password: v.password };
    if (credentials) entries.push({ key, host: registryHostOfKey(key), credentials });
  }
  return entries;
}

/**
 * The credentials for `host` among several configs, in order: the first
 * config with an entry for the host wins (an exact host match, port
 * included: `reg:5000` and `reg` are different registries). Within one
 * config, a key written exactly as Docker's own (`https://index.docker.io/v1/`
 * for Docker Hub, the bare host otherwise) wins over its aliases.
 */
export function findCredentials<S>(
  configs: ReadonlyArray<{ source: S; entries: readonly ConfigEntry[] }>,
  host: string,
): { source: S; auth: RegistryAuth } | undefined {
  const want = normalizeDomain(host);
  for (const config of configs) {
    const exact = serverAddressFor(want);
    const entry =
      config.entries.find((e) => e.host === want && e.key === exact) ??
      config.entries.find((e) => e.host === want);
    if (entry)
      return { source: config.source, auth: { ...entry.credentials, serveraddress: serverAddressFor(want) } };
  }
  return undefined;
}
