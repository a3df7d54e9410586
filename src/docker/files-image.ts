// spec.files, written into a per-container "files image": a layer on the
// base image holding only the files. Engine 20.10 (API 1.41) refuses archive
// uploads into a container with a read-only root ("container rootfs is marked
// read-only"), and volume subpaths need API 1.45, so the files are built
// into the image the container is created from instead, the same way for
// every container:
//
//   create a temporary container from the base image (never started; owner
//   labels, so a crash leaves nothing the orphan sweep and the leftover
//   settling cannot find) → PUT a tar of the files at / → commit it with the
//   files labels → remove the temporary container.
//
// When a files image goes (removeUnusedFilesImages: this owner's images,
// by tag, never forced, so one a container uses stays by Docker's 409):
// - a recreate: the old one, once the new container runs (best effort);
// - deletion under Delete: all of them, after the container is removed;
// - leaving a host (release, either policy): those no container uses; under
//   Orphan the container is left running, so the one it runs from stays;
// - the owner gone (orphan sweep, managed/orphan-sweep.ts): any with the
//   owner labels, the files-hash label and a dockyard-files tag, whatever
//   deletion policy was recorded (an image holds no data; the policy keeps
//   the container), unless a container still uses it (409: the next sweep
//   tries again, e.g. after an orphaned container is removed by hand).
//
// Facts relied on, each seen on a real daemon
// (test/integration/container-files.test.ts):
// - The archive PUT takes mode, uid and gid from the tar headers (without
//   copyUIDGID) and creates missing parent directories 0755 root:root,
//   leaving existing ones (/tmp's 1777) as they are: so no directory entries.
// - Commit with a config that sets only Labels keeps the base image's
//   Entrypoint, Cmd, Env, WorkingDir, User (merged from the temporary
//   container, created without overrides) and adds the temporary container's
//   labels; nothing of the content is in labels, comment or history.
// - A container created from the image inherits the image's labels (its own
//   win), but not the temporary container's hostname: so the image carries
//   only labels the container sets itself (owner labels, files hash).
// - Removing a tag an existing container uses is refused with 409 (not forced).
import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import { OWNER_LABELS } from '../crds/kit.js';
import { containerClient } from './container-client.js';
import { statusOf } from './status-code.js';
import { packTar } from './tar.js';

/** One file to write: bytes, permission bits and owner. */
export interface FileEntry {
  /** Absolute path in the container. */
  path: string;
  content: Buffer;
  /** Permission bits (0o7777 at most). */
  mode: number;
  uid: number;
  gid: number;
}

/** Repository of the files images; never pushed anywhere. */
export const FILES_REPOSITORY = 'dockyard-files';
/** On the files image and the container: the hash of the files (files-resolver.ts), never content. */
export const FILES_HASH_LABEL = 'dockyard.io/files-hash';
/** On a container created from a files image: the base image reference, as the create inputs name it. */
export const BASE_IMAGE_LABEL = 'dockyard.io/base-image';

/** Longest repository path kept readable; longer ones use the owner's uid (Docker allows 255). */
const MAX_READABLE_REPOSITORY = 200;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `dockyard-files/<namespace>.<name>:<tag>`: namespace and name are DNS
 * names (lowercase letters, digits, `-`, `.`), all valid in a repository
 * path component. The tag follows from the files and the base image ID, so
 * the same files on the same base are the same image (built once).
 */
export function filesImageRef(
  owner: { namespace: string; name: string; uid: string },
  files: { hash: string; baseImageId: string },
): string {
  const readable = `${FILES_REPOSITORY}/${owner.namespace}.${owner.name}`;
  const repository =
    readable.length <= MAX_READABLE_REPOSITORY ? readable : `${FILES_REPOSITORY}/${owner.uid}`;
  return `${repository}:${sha256(`${files.hash}\n${files.baseImageId}`).slice(0, 16)}`;
}

/** The temporary container's name: next to the container's own, never its name or an aside name. */
export function filesTempName(containerName: string, tag: string): string {
  return `${containerName}.files-${tag.slice(0, 8)}`;
}

/** Whether a container name is a files build's temporary container (leftovers.ts leaves it out). */
export function isFilesTempName(name: string): boolean {
  // Not an aside name (`<id12>_<name>`, replace.ts), whatever the name it keeps.
  return /\.files-[0-9a-f]{8}$/.test(name) && !/^[0-9a-f]{12}_/.test(name);
}

/** The largest uid/gid tar-stream writes in a ustar header (6 octal digits); larger go in a PAX header. */
const MAX_USTAR_ID = 0o777777;

/** Owner fields of a tar header: ustar, or PAX records Docker's reader (Go archive/tar) applies. */
function ownerFields(f: FileEntry): { uid: number; gid: number; pax?: Record<string, string> } {
  if (f.uid <= MAX_USTAR_ID && f.gid <= MAX_USTAR_ID) return { uid: f.uid, gid: f.gid };
  return { uid: 0, gid: 0, pax: { uid: String(f.uid), gid: String(f.gid) } };
}

/** Pure: the tar the archive PUT writes at `/`: file entries only, epoch mtime (reproducible). */
export function buildFilesTar(files: readonly FileEntry[]): Promise<Buffer> {
  return packTar(
    files.map((f) => ({
      header: {
        name: f.path.replace(/^\/+/, ''),
        type: 'file',
        mode: f.mode,
        ...ownerFields(f),
        mtime: new Date(0),
      },
      content: f.content,
    })),
  );
}

export interface FilesImageRequest {
  /** The reference the container would be created from without files. */
  baseImage: string;
  files: readonly FileEntry[];
  /** filesHash of `files`. */
  hash: string;
  /** The container's Docker name (the temporary container is named after it). */
  containerName: string;
  /** The container's owner labels (without spec hash): the temporary container and the image carry them. */
  ownerLabels: Record<string, string>;
}

/** Inspects an image; undefined when there is none. */
async function inspectImage(api: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await api.getImage(ref).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Docker creates no container from an image without CMD or ENTRYPOINT, so
 * the temporary one gets a placeholder CMD (which the files image keeps). A
 * container from such an image names its command or args anyway (or Docker
 * refuses it), and either replaces the image's CMD: the placeholder is never run.
 */
function placeholderCommand(base: Dockerode.ImageInspectInfo): { Cmd?: string[] } {
  const c = base.Config as { Cmd?: string[] | null; Entrypoint?: string[] | string | null } | undefined;
  const hasCommand = (c?.Cmd?.length ?? 0) > 0 || (c?.Entrypoint?.length ?? 0) > 0;
  return hasCommand ? {} : { Cmd: ['/dockyard-files-image-has-no-command'] };
}

/** Removes a temporary container a crashed build left, if it is this owner's. */
async function removeLeftoverTemp(api: Dockerode, name: string, uid: string | undefined): Promise<void> {
  const left = await containerClient.observe(api, name);
  if (left && uid && left.labels[OWNER_LABELS.uid] === uid)
    await containerClient.remove(api, left.id, { force: true });
}

/**
 * The files image for the request, built unless this owner's one with the
 * same tag (files and base image) is there already. Returns its reference.
 */
export async function ensureFilesImage(api: Dockerode, req: FilesImageRequest): Promise<string> {
  const uid = req.ownerLabels[OWNER_LABELS.uid];
  const base = await inspectImage(api, req.baseImage);
  if (!base) throw new Error(`building the files image: base image ${req.baseImage} is not on the host`);
  const ref = filesImageRef(
    {
      namespace: req.ownerLabels[OWNER_LABELS.namespace] ?? '',
      name: req.ownerLabels[OWNER_LABELS.name] ?? '',
      uid: uid ?? '',
    },
    { hash: req.hash, baseImageId: base.Id },
  );
  const existing = await inspectImage(api, ref);
  const labels = existing?.Config?.Labels ?? {};
  if (existing && labels[OWNER_LABELS.uid] === uid && labels[FILES_HASH_LABEL] === req.hash) return ref;
  const [repo, tag] = ref.split(':') as [string, string];
  const tempName = filesTempName(req.containerName, tag);
  await removeLeftoverTemp(api, tempName, uid);
  // From the base image's ID (what the tag was computed from), with no
  // overrides: commit merges this container's config into the image.
  const id = await containerClient.create(api, {
    name: tempName,
    Image: base.Id,
    ...placeholderCommand(base),
    Labels: { ...req.ownerLabels, [FILES_HASH_LABEL]: req.hash },
  });
  try {
    await api.getContainer(id).putArchive(await buildFilesTar(req.files), { path: '/' });
    await api.getContainer(id).commit({
      _query: { container: id, repo, tag },
      _body: { Labels: { [FILES_HASH_LABEL]: req.hash } },
    });
  } finally {
    await containerClient.remove(api, id, { force: true });
  }
  return ref;
}

/**
 * Create options for a container with files: created from its files image,
 * labelled with the base image it stands for and the files hash (the image's
 * labels would add that one anyway).
 */
export async function withFilesImage(
  api: Dockerode,
  options: Dockerode.ContainerCreateOptions,
  req: FilesImageRequest,
): Promise<Dockerode.ContainerCreateOptions> {
  const image = await ensureFilesImage(api, req);
  return {
    ...options,
    Image: image,
    Labels: { ...options.Labels, [BASE_IMAGE_LABEL]: req.baseImage, [FILES_HASH_LABEL]: req.hash },
  };
}

/**
 * Removes this owner's files images no container uses any more: by tag,
 * never forced, so Docker refuses (409) for one a container still uses, and
 * that one stays. Returns the references removed.
 */
export async function removeUnusedFilesImages(api: Dockerode, uid: string): Promise<string[]> {
  if (!uid) return [];
  const images = await api.listImages({
    filters: { label: [`${OWNER_LABELS.uid}=${uid}`, FILES_HASH_LABEL] },
  });
  const removed: string[] = [];
  for (const tag of images.flatMap((i) => i.RepoTags ?? [])) {
    if (!tag.startsWith(`${FILES_REPOSITORY}/`)) continue;
    try {
      await api.getImage(tag).remove();
      removed.push(tag);
    } catch (err) {
      const code = statusOf(err);
      if (code !== 404 && code !== 409) throw err;
    }
  }
  return removed;
}
