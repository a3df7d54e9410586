import type Dockerode from 'dockerode';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import { ContainerNameConflict, containerClient } from '../../docker/container-client.js';
import {
  createAttachesAll,
  networkChanges,
  toCreateOptions,
  type ContainerInputs,
  type InheritedVolume,
} from '../../docker/container-spec.js';
import { errorMessage, isStaleRuntimeState } from '../../docker/errors.js';
import { withFilesImage, type FileEntry } from '../../docker/files-image.js';
import { ownership } from '../../managed/ownership.js';

// The Docker calls the container effects make that take more than one call.

/**
 * Starts our container. One whose start can never succeed again (Docker left
 * the runtime state of an interrupted start behind) is removed, keeping its
 * volumes, and the error rethrown: the retry creates it afresh.
 */
export async function startOrDiscard(
  api: Dockerode,
  id: string,
  report: (message: string) => void,
): Promise<void> {
  try {
    await containerClient.start(api, id);
  } catch (err) {
    if (!isStaleRuntimeState(err)) throw err;
    await containerClient.remove(api, id, { force: true });
    report(
      `container ${id.slice(0, 12)} could not start again after an interrupted start (${errorMessage(err)}); removed it to create it anew (volumes kept)`,
    );
    throw err;
  }
}

export function hasChanges(c: { connect: unknown[]; disconnect: unknown[] }): boolean {
  return c.connect.length > 0 || c.disconnect.length > 0;
}

export async function applyNetworkChanges(
  api: Dockerode,
  id: string,
  changes: ReturnType<typeof networkChanges>,
): Promise<void> {
  for (const network of changes.disconnect) await containerClient.disconnect(api, network, id);
  for (const c of changes.connect) {
    await containerClient.connect(api, c.network, id, {
      ...(c.aliases ? { aliases: c.aliases } : {}),
      ...(c.ipv4Address ? { ipv4Address: c.ipv4Address } : {}),
      ...(c.ipv6Address ? { ipv6Address: c.ipv6Address } : {}),
      ...(c.macAddress ? { macAddress: c.macAddress } : {}),
    });
  }
}

export interface CreateRequest {
  spec: DockerContainerSpec;
  inputs: ContainerInputs;
  /** The `dockyard.io/spec-hash` label it carries. */
  hash: string;
  /** Anonymous volumes carried over from the container it replaces. */
  inherit?: readonly InheritedVolume[];
  /** spec.files resolved: the container is created from a files image holding them (files-image.ts). */
  files?: readonly FileEntry[];
}

/** The create options, from the files image when there are files. */
async function createOptions(api: Dockerode, req: CreateRequest): Promise<Dockerode.ContainerCreateOptions> {
  const { spec, inputs, hash } = req;
  const options = toCreateOptions(spec, inputs, hash, req.inherit ? { inherit: req.inherit } : {});
  if (!req.files || req.files.length === 0 || !inputs.filesHash) return options;
  return withFilesImage(api, options, {
    baseImage: inputs.image,
    files: req.files,
    hash: inputs.filesHash,
    containerName: inputs.name,
    ownerLabels: inputs.ownerLabels,
  });
}

/**
 * Creates the container and connects its other networks. A name taken
 * already is adopted only when the container there carries this resource's
 * uid (ours, left by a lost status write); anything else rethrows the
 * ContainerNameConflict.
 */
export async function createAndConnect(api: Dockerode, req: CreateRequest): Promise<string> {
  const { spec, inputs } = req;
  let id: string;
  try {
    id = await containerClient.create(api, await createOptions(api, req));
    // The one inspect per create this saves is a tenth of a fleet rollout's Docker calls.
    if (createAttachesAll(spec)) return id;
  } catch (err) {
    if (!(err instanceof ContainerNameConflict)) throw err;
    const existing = await containerClient.observe(api, inputs.name);
    // Adopt only what carries this resource's uid; anything else is a NameConflict.
    const uid = inputs.ownerLabels[OWNER_LABELS.uid];
    if (!existing || !uid || ownership(existing.labels, { uid }) !== 'ours') throw err;
    id = existing.id;
  }
  const created = await containerClient.observe(api, id);
  if (created) await applyNetworkChanges(api, id, networkChanges(spec, inputs, created));
  return id;
}
