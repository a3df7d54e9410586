// The proof corpus (test/compose/corpus.json) as the parity test reads it:
// each entry loaded with Dockyard's Compose loader (the same compose-go
// docker compose uses) and converted for a namespace and host, plus what two
// entries running side by side on one Docker node could collide on.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { convertProject, type Conversion } from '../../../src/compose/convert.js';
import { loadComposeProject, type LoadedCompose } from '../../../src/compose/project-loader.js';
import type { ComposePort } from '../../../src/compose/project-types.js';

export const CORPUS_DIR = resolve(import.meta.dirname, '../../compose');

/** One entry of corpus.json. */
export interface CorpusEntry {
  /** The project folder under test/compose, also the Compose project name. */
  dir: string;
  /** Compose files in merge order, relative to the folder; default compose.yaml & co. */
  files?: string[];
  profiles?: string[];
  /** Variables for interpolation (besides the folder's .env). */
  env?: Record<string, string>;
  /** Needs a DockerHost with securityPolicy privileged. */
  privileged?: boolean;
  /** Networks and volumes the project declares external: made on every node before it runs. */
  external?: { networks?: Array<{ name: string; subnet?: string }>; volumes?: string[] };
  notes?: string;
}

export function readCorpus(path = join(CORPUS_DIR, 'corpus.json')): CorpusEntry[] {
  const entries = JSON.parse(readFileSync(path, 'utf8')) as CorpusEntry[];
  if (!Array.isArray(entries)) throw new Error(`${path}: expected an array of entries`);
  for (const e of entries) {
    if (typeof e.dir !== 'string' || e.dir === '') throw new Error(`${path}: an entry without dir`);
  }
  return entries;
}

/** The guest path the loader sees the project folder at (as the stack controller mounts it). */
export const GUEST_DIR = '/project';

/** A corpus entry loaded and converted for one namespace and host. */
export interface PreparedProject {
  entry: CorpusEntry;
  /** The DockerHost the manifests are placed on. */
  hostName: string;
  /** Absolute path of the project folder on this machine (compose's --project-directory). */
  hostDir: string;
  namespace: string;
  loaded: LoadedCompose;
  conversion: Conversion;
  /** What this project takes on a Docker node that another project could take too. */
  claims: string[];
}

export async function prepareProject(
  entry: CorpusEntry,
  opts: { namespace: string; hostName: string },
): Promise<PreparedProject> {
  const hostDir = join(CORPUS_DIR, entry.dir);
  const loaded = await loadComposeProject({
    hostDir,
    guestDir: GUEST_DIR,
    workingDir: GUEST_DIR,
    configFiles: (entry.files ?? []).map((f) => `${GUEST_DIR}/${f}`),
    profiles: entry.profiles ?? [],
    environment: entry.env ?? {},
    projectName: entry.dir,
  });
  const conversion = convertProject(loaded, {
    namespace: opts.namespace,
    placement: { hostName: opts.hostName },
    projectDir: GUEST_DIR,
    // Unsupported keys are listed in the report; what they change in Docker
    // shows up as differences, which DIFFERENCES.md must explain.
    allowUnsupported: true,
  });
  return {
    entry,
    hostName: opts.hostName,
    hostDir,
    namespace: opts.namespace,
    loaded,
    conversion,
    claims: claimsOf(loaded),
  };
}

/**
 * Host ports (any address: 0.0.0.0 and 127.0.0.1 on one port collide),
 * explicit Docker names and fixed subnets: two projects sharing one of them
 * cannot run at the same time on one node.
 */
export function claimsOf(loaded: LoadedCompose): string[] {
  const { project } = loaded;
  const claims = new Set<string>();
  for (const service of Object.values(project.services ?? {})) {
    for (const port of (service.ports as ComposePort[] | undefined) ?? []) {
      if (port.published) claims.add(`port ${port.published}/${port.protocol ?? 'tcp'}`);
    }
    if (typeof service.container_name === 'string') claims.add(`container ${service.container_name}`);
  }
  for (const [key, network] of Object.entries(project.networks ?? {})) {
    if (network.name && network.name !== `${project.name}_${key}`) claims.add(`network ${network.name}`);
    for (const pool of network.ipam?.config ?? []) {
      if (typeof pool.subnet === 'string') claims.add(`subnet ${pool.subnet}`);
    }
  }
  for (const [key, volume] of Object.entries(project.volumes ?? {})) {
    if (volume.name && volume.name !== `${project.name}_${key}`) claims.add(`volume ${volume.name}`);
  }
  return [...claims].sort();
}
