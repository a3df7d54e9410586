// The lists the managed reconcilers keep in a DockerHost's status
// (releasedOwners, adoptedObjects) are written on a fresh read with that
// read's resourceVersion as a precondition: the DockerHost controller and
// other objects' reconciles write the same status, and a lost update here
// could let the orphan sweep delete kept data or let two resources adopt one
// object. A write that loses the race is retried on a new read.

import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { DockerHost, DockerHostStatus } from '../crds/dockerhost.js';
import { GROUP, VERSION } from '../crds/kit.js';
import { statusCodeOf } from '../runtime/api-errors.js';

export type HostStatusApi = Pick<
  CustomObjectsApi,
  'listClusterCustomObject' | 'patchClusterCustomObjectStatus'
>;

/** How many times a write lost to a concurrent one is retried on a fresh read. */
const CONFLICT_RETRIES = 5;

const DOCKERHOSTS = { group: GROUP, version: VERSION, plural: 'dockerhosts' };

/**
 * The DockerHost as the API server has it now (a quorum read, never a cache),
 * or undefined when it does not exist. A list by name rather than a get: the
 * controller's RBAC has list on its kinds, and an unversioned list is as fresh.
 */
export async function readHostLive(api: HostStatusApi, name: string): Promise<DockerHost | undefined> {
  const list = (await api.listClusterCustomObject({
    ...DOCKERHOSTS,
    fieldSelector: `metadata.name=${name}`,
  })) as { items?: DockerHost[] };
  return list.items?.find((h) => h.metadata.name === name);
}

export interface HostStatusUpdate {
  api: HostStatusApi;
  hostName: string;
  fieldManager: string;
  /**
   * The status fields to write, computed from the fresh status; undefined for
   * "nothing to write". May throw to refuse (e.g. a list at its bound).
   */
  change: (status: DockerHostStatus | undefined) => Partial<DockerHostStatus> | undefined;
}

/** Writes `change` of a fresh read under its resourceVersion; retried on 409. False when the host is gone. */
export async function updateHostStatus(u: HostStatusUpdate): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const host = await readHostLive(u.api, u.hostName);
    if (!host) return false;
    const fields = u.change(host.status);
    if (fields === undefined) return true;
    try {
      await u.api.patchClusterCustomObjectStatus(
        {
          ...DOCKERHOSTS,
          name: u.hostName,
          // A merge patch carrying resourceVersion applies only to that version: 409 otherwise.
          body: { metadata: { resourceVersion: host.metadata.resourceVersion }, status: fields },
          fieldManager: u.fieldManager,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (statusCodeOf(err) !== 409 || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}
