// What each side left on its node, read back: `docker inspect` of every
// container, network and volume of the project, each keyed by what it is in
// the Compose file (service, network key, volume key), the files its configs
// and secrets put into each container, and the identities (ids, names) to
// mask. I/O only; normalise.ts decides what is compared.

import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import { extract } from 'tar-stream';
import { SERVICE_LABEL } from '../../../src/compose/convert.js';
import { sectionNames } from '../../../src/compose/naming.js';
import type { ComposeFileReference } from '../../../src/compose/project-types.js';
import { OWNER_LABELS } from '../../../src/crds/kit.js';
import { BASE_IMAGE_LABEL } from '../../../src/docker/files-image.js';
import type { PreparedProject } from './corpus.js';

export type Json = Record<string, unknown>;

/** A file a config or secret put into a container, as `docker cp` reads it back. */
export interface FileFact {
  path: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256: string;
}

export interface ContainerShot {
  /** The Compose service. */
  key: string;
  inspect: Json;
  files: FileFact[] | string;
}

export interface Side {
  containers: ContainerShot[];
  networks: Array<{ key: string; inspect: Json }>;
  volumes: Array<{ key: string; inspect: Json }>;
  identities: Identities;
  /** The node's hostname (what a container in its network namespace sees). */
  nodeName: string;
}

/**
 * What the project's identities on this node stand for (`<container db>`).
 * Ids (and a files image → the image it was built from) are unambiguous and
 * replaced everywhere; names only where a name of that kind can stand (a
 * container and a volume can share a name on the Dockyard side).
 */
export interface Identities {
  ids: Map<string, string>;
  containers: Map<string, string>;
  networks: Map<string, string>;
  volumes: Map<string, string>;
}

const newIdentities = (): Identities => ({
  ids: new Map(),
  containers: new Map(),
  networks: new Map(),
  volumes: new Map(),
});

/** The placeholder for one of the project's objects: `<container db>`, `<network default>`. */
export const placeholder = (kind: 'container' | 'network' | 'volume', key: string) => `<${kind} ${key}>`;

/** External networks and volumes: the same name on both nodes, stood for by their key all the same. */
function addExternals(ids: Identities, p: PreparedProject): void {
  const { project } = p.loaded;
  for (const [key, n] of Object.entries(project.networks ?? {}))
    if (n.external) ids.networks.set(n.name ?? key, placeholder('network', key));
  for (const [key, v] of Object.entries(project.volumes ?? {}))
    if (v.external) ids.volumes.set(v.name ?? key, placeholder('volume', key));
}

const COMPOSE = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
};

/** Where compose (and Dockyard, file-keys.ts) puts a config or secret. */
export function fileTargets(p: PreparedProject, service: string): string[] {
  const s = p.loaded.project.services?.[service] ?? {};
  const targets = (section: 'configs' | 'secrets') =>
    ((s[section] as ComposeFileReference[] | undefined) ?? []).map((ref) => {
      const target = ref.target ?? ref.source;
      if (target.startsWith('/')) return target;
      return section === 'configs' ? `/${target}` : `/run/secrets/${target}`;
    });
  return [...targets('configs'), ...targets('secrets')];
}

async function readFile(container: Dockerode.Container, path: string): Promise<FileFact> {
  const archive = (await container.getArchive({ path })) as unknown as NodeJS.ReadableStream;
  return new Promise((resolve, reject) => {
    const ex = extract();
    let fact: FileFact | undefined;
    ex.on('entry', (header, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (c: unknown) => hash.update(c as Buffer));
      stream.on('end', () => {
        fact ??= {
          path,
          mode: ((header.mode ?? 0) & 0o7777).toString(8).padStart(4, '0'),
          uid: header.uid ?? -1,
          gid: header.gid ?? -1,
          size: header.size ?? 0,
          sha256: hash.digest('hex').slice(0, 16),
        };
        next();
      });
      stream.resume();
    });
    ex.on('finish', () => (fact ? resolve(fact) : reject(new Error(`${path}: empty archive`))));
    ex.on('error', reject);
    archive.pipe(ex);
  });
}

async function readFiles(container: Dockerode.Container, paths: string[]): Promise<FileFact[] | string> {
  try {
    return await Promise.all(paths.map((path) => readFile(container, path)));
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

const inspectAll = async <T>(items: T[], inspect: (item: T) => Promise<unknown>) =>
  Promise.all(items.map(async (item) => ({ item, inspect: (await inspect(item)) as Json })));

function addContainerIdentity(ids: Identities, inspect: Json, key: string): void {
  const id = String(inspect.Id);
  ids.ids.set(id, placeholder('container', key));
  ids.ids.set(id.slice(0, 12), placeholder('container', key));
  ids.containers.set(String(inspect.Name).replace(/^\//, ''), placeholder('container', key));
}

/** The compose project's objects on node A, by the labels compose puts on them. */
export async function composeSide(docker: Dockerode, p: PreparedProject): Promise<Side> {
  const filter = { label: [`${COMPOSE.project}=${p.entry.dir}`] };
  const [containers, networks, volumes, info] = await Promise.all([
    docker.listContainers({ all: true, filters: filter }),
    docker.listNetworks({ filters: filter }),
    docker.listVolumes({ filters: filter }).then((r) => r.Volumes ?? []),
    docker.info() as Promise<{ Name: string }>,
  ]);
  const ids = newIdentities();
  addExternals(ids, p);
  const shots = await inspectAll(containers, (c) => docker.getContainer(c.Id).inspect());
  const side: Side = { containers: [], networks: [], volumes: [], identities: ids, nodeName: info.Name };
  for (const { item, inspect } of shots) {
    const key = item.Labels[COMPOSE.service] ?? item.Id;
    addContainerIdentity(ids, inspect, key);
    const files = await readFiles(docker.getContainer(item.Id), fileTargets(p, key));
    side.containers.push({ key, inspect, files });
  }
  for (const { item, inspect } of await inspectAll(networks, (n) => docker.getNetwork(n.Id).inspect())) {
    const key = item.Labels?.[COMPOSE.network] ?? item.Name;
    ids.ids.set(item.Id, placeholder('network', key));
    ids.networks.set(item.Name, placeholder('network', key));
    side.networks.push({ key, inspect });
  }
  for (const { item, inspect } of await inspectAll(volumes, (v) => docker.getVolume(v.Name).inspect())) {
    const key = item.Labels?.[COMPOSE.volume] ?? item.Name;
    ids.volumes.set(item.Name, placeholder('volume', key));
    side.volumes.push({ key, inspect });
  }
  return side;
}

const reverse = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [v, k]));

/**
 * The namespace's objects on node B, by Dockyard's owner labels, keyed back
 * to Compose names through the conversion's naming. A container created from
 * a files image (spec.files) stands for the image that files image was built
 * from (its dockyard.io/base-image label): both its reference and its id are
 * substituted by the base image's.
 */
export async function dockyardSide(docker: Dockerode, p: PreparedProject): Promise<Side> {
  const filter = { label: [`${OWNER_LABELS.namespace}=${p.namespace}`] };
  const [containers, networks, volumes, info] = await Promise.all([
    docker.listContainers({ all: true, filters: filter }),
    docker.listNetworks({ filters: filter }),
    docker.listVolumes({ filters: filter }).then((r) => r.Volumes ?? []),
    docker.info() as Promise<{ Name: string }>,
  ]);
  const { project } = p.loaded;
  const serviceOf = new Map(
    p.conversion.objects
      .filter((m) => m.metadata.labels[SERVICE_LABEL] !== undefined)
      .map((m) => [m.metadata.name, m.metadata.labels[SERVICE_LABEL] as string]),
  );
  const networkOf = reverse(sectionNames(project.name, 'networks', Object.keys(project.networks ?? {})));
  const volumeOf = reverse(sectionNames(project.name, 'volumes', Object.keys(project.volumes ?? {})));
  const ids = newIdentities();
  addExternals(ids, p);
  const side: Side = { containers: [], networks: [], volumes: [], identities: ids, nodeName: info.Name };
  for (const { item, inspect } of await inspectAll(containers, (c) => docker.getContainer(c.Id).inspect())) {
    const name = item.Labels[OWNER_LABELS.name] ?? '';
    const key = serviceOf.get(name) ?? name;
    addContainerIdentity(ids, inspect, key);
    const config = inspect.Config as Json;
    const base = (config.Labels as Record<string, string> | null)?.[BASE_IMAGE_LABEL];
    if (base) {
      ids.ids.set(String(config.Image), base);
      ids.ids.set(String(inspect.Image), (await docker.getImage(base).inspect()).Id);
    }
    const files = await readFiles(docker.getContainer(item.Id), fileTargets(p, key));
    side.containers.push({ key, inspect, files });
  }
  for (const { item, inspect } of await inspectAll(networks, (n) => docker.getNetwork(n.Id).inspect())) {
    const name = item.Labels?.[OWNER_LABELS.name] ?? '';
    const key = networkOf.get(name) ?? name;
    ids.ids.set(item.Id, placeholder('network', key));
    ids.networks.set(item.Name, placeholder('network', key));
    side.networks.push({ key, inspect });
  }
  for (const { item, inspect } of await inspectAll(volumes, (v) => docker.getVolume(v.Name).inspect())) {
    const name = item.Labels?.[OWNER_LABELS.name] ?? '';
    const key = volumeOf.get(name) ?? name;
    ids.volumes.set(item.Name, placeholder('volume', key));
    side.volumes.push({ key, inspect });
  }
  return side;
}
