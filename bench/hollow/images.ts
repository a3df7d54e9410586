import type { ServerResponse } from 'node:http';
import type { Handler } from './context.js';
import { EngineError, conflict, labelsMatch, notFound, openStream, parseFilters, drain } from './http.js';
import { digestOf } from './ids.js';
import { withTag, type HollowImage, type HostState } from './state.js';

/** `registry:5000/team/app:1` → `registry:5000/team/app`. */
function repositoryOf(ref: string): string {
  const tagged = withTag(ref);
  return tagged.includes('@') ? (tagged.split('@')[0] as string) : tagged.slice(0, tagged.lastIndexOf(':'));
}

function imageEventAttributes(image: HollowImage, name: string): Record<string, string> {
  return { ...(image.config.Labels ?? {}), name };
}

/** GET /images/{name}/json; the 20.10 message repeats itself, and Dockyard's classifier reads it. */
export const inspectImage: Handler = ({ state, params }) => {
  const ref = params[0] as string;
  const image = state.findImage(ref);
  if (!image) throw notFound(`no such image: ${ref}: No such image: ${ref}`);
  return { status: 200, json: imageInspectJson(image) };
};

const EMPTY_CONFIG = {
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
};

export function imageInspectJson(image: HollowImage): Record<string, unknown> {
  const layer = image.id.slice(7);
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: '',
    Comment: '',
    Created: image.created,
    Container: '',
    ContainerConfig: EMPTY_CONFIG,
    DockerVersion: '20.10.24+dfsg1',
    Author: '',
    Config: { ...EMPTY_CONFIG, ...image.config },
    Architecture: 'amd64',
    Os: 'linux',
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: {
      Data: {
        MergedDir: `/var/lib/docker/overlay2/${layer}/merged`,
        UpperDir: `/var/lib/docker/overlay2/${layer}/diff`,
        WorkDir: `/var/lib/docker/overlay2/${layer}/work`,
      },
      Name: 'overlay2',
    },
    RootFS: { Type: 'layers', Layers: [digestOf(`layer:${layer}`)] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

export const listImages: Handler = ({ state, query }) => {
  const filters = parseFilters(query);
  const list = [...state.images.values()]
    .filter((i) => labelsMatch(i.config.Labels ?? {}, filters.get('label')))
    .map((i) => ({
      Containers: -1,
      Created: Math.floor(Date.parse(i.created) / 1000),
      Id: i.id,
      Labels: i.config.Labels ?? null,
      ParentId: '',
      RepoDigests: i.repoDigests.length > 0 ? i.repoDigests : null,
      RepoTags: i.repoTags,
      SharedSize: -1,
      Size: i.size,
      VirtualSize: i.size,
    }));
  return { status: 200, json: list };
};

/** The progress lines of a pull (one synthetic layer), ending with the digest and the verdict. */
function writePullProgress(
  res: ServerResponse,
  ref: string,
  image: HollowImage,
  had: 'present' | 'layers-present' | 'fresh',
): void {
  const tagged = withTag(ref);
  const line = (o: object) => res.write(`${JSON.stringify(o)}\n`);
  line({ status: `Pulling from ${repositoryOf(ref)}`, id: tagged.slice(tagged.lastIndexOf(':') + 1) });
  const layer = image.id.slice(7, 19);
  if (had === 'layers-present') line({ status: 'Already exists', progressDetail: {}, id: layer });
  if (had === 'fresh') {
    line({ status: 'Pulling fs layer', progressDetail: {}, id: layer });
    line({ status: 'Downloading', progressDetail: { current: image.size, total: image.size }, id: layer });
    line({ status: 'Verifying Checksum', progressDetail: {}, id: layer });
    line({ status: 'Download complete', progressDetail: {}, id: layer });
    line({ status: 'Extracting', progressDetail: { current: image.size, total: image.size }, id: layer });
    line({ status: 'Pull complete', progressDetail: {}, id: layer });
  }
  line({ status: `Digest: ${digestOf(`manifest:${tagged}`)}` });
  line({
    status:
      had === 'present'
        ? `Status: Image is up to date for ${tagged}`
        : `Status: Downloaded newer image for ${tagged}`,
  });
}

/**
 * POST /images/create?fromImage=…&tag=…: any reference succeeds unless the
 * host's `pullFails` says otherwise, which answers like a registry without
 * the tag (an HTTP error before any progress, as the daemon does when the
 * manifest lookup fails).
 */
export const pullImage: Handler = async ({ state, req, res, query, apiVersion, behaviour }) => {
  await drain(req);
  const from = query.get('fromImage') ?? '';
  const tag = query.get('tag') || 'latest';
  const ref = from.includes('@') || tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`;
  if (behaviour.pullFails(ref))
    throw notFound(`manifest for ${ref} not found: manifest unknown: manifest unknown`);
  const existing = state.findImage(ref);
  // A reference whose content the host already holds under another name gets
  // the tag added and downloads nothing ("Already exists"), as on a real daemon.
  const alias = existing ? undefined : behaviour.sameContentAs(ref);
  const same = alias ? state.findImage(alias) : undefined;
  const image = existing ?? same ?? state.addImage({ name: ref });
  if (same) same.repoTags = [...new Set([...same.repoTags, withTag(ref)])].sort();
  const digest = `${repositoryOf(ref)}@${digestOf(`manifest:${withTag(ref)}`)}`;
  if (!image.repoDigests.includes(digest)) image.repoDigests.push(digest);
  openStream(res, apiVersion);
  writePullProgress(res, ref, image, existing ? 'present' : same ? 'layers-present' : 'fresh');
  state.events.emit('image', 'pull', withTag(ref), imageEventAttributes(image, repositoryOf(ref)));
  res.end();
  return undefined;
};

export const distribution: Handler = ({ query: _q, params, behaviour }) => {
  const ref = params[0] as string;
  if (behaviour.pullFails(ref)) throw notFound(`manifest unknown: manifest unknown`);
  return {
    status: 200,
    json: {
      Descriptor: {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: digestOf(`manifest:${withTag(ref)}`),
        size: 527,
      },
      Platforms: [{ architecture: 'amd64', os: 'linux' }],
    },
  };
};

function usedBy(state: HostState, image: HollowImage) {
  return [...state.containers.values()].find((c) => c.imageId === image.id);
}

/** DELETE /images/{name}: untags, and deletes once no tag is left; refused while a container uses it. */
export const removeImage: Handler = ({ state, params, query }) => {
  const ref = params[0] as string;
  const image = state.findImage(ref);
  if (!image) throw notFound(`No such image: ${ref}`);
  const user = usedBy(state, image);
  const force = query.get('force') === '1' || query.get('force') === 'true';
  if (user && !force && image.repoTags.length <= 1)
    throw conflict(
      `conflict: unable to remove repository reference "${ref}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`,
    );
  const tag = withTag(ref);
  const answer: Array<Record<string, string>> = [];
  if (image.repoTags.includes(tag)) {
    image.repoTags = image.repoTags.filter((t) => t !== tag);
    image.repoDigests = image.repoDigests.filter((d) => !d.startsWith(`${repositoryOf(ref)}@`));
    answer.push({ Untagged: tag });
    state.events.emit('image', 'untag', image.id, imageEventAttributes(image, image.id));
  }
  if (image.repoTags.length === 0 && !user) {
    state.images.delete(image.id);
    answer.push({ Deleted: image.id });
    state.events.emit('image', 'delete', image.id, imageEventAttributes(image, image.id));
  }
  if (answer.length === 0)
    throw new EngineError(409, `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced)`);
  return { status: 200, json: answer };
};
