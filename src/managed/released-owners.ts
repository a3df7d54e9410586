// The Orphan a resource asked for last, recorded where it outlives the
// resource: the DockerHost's status.releasedOwners. Docker labels cannot
// change after create, so the deletion-policy label only says what the owner
// wanted then; the orphan sweep keeps every object whose owner uid is listed
// here. Written with a resourceVersion precondition (the DockerHost
// controller writes that status too) and retried on 409.

import { MAX_RELEASED_OWNERS, type ReleasedOwner } from '../crds/dockerhost.js';
import { readHostLive, updateHostStatus, type HostStatusApi } from './host-status-update.js';

export type { ReleasedOwner };
export { readHostLive, type HostStatusApi };

/**
 * An entry released this long before the sweep listed a host's objects may be
 * pruned when none of its objects is listed; a younger one may belong to an
 * object created after the listing.
 */
export const PRUNE_GRACE_MS = 60_000;

/** Pure: the list with `entry` in it; undefined when it is there already; 'full' at the bound. */
export function withRelease(
  list: readonly ReleasedOwner[] | undefined,
  entry: ReleasedOwner,
  max: number = MAX_RELEASED_OWNERS,
): ReleasedOwner[] | 'full' | undefined {
  const current = list ?? [];
  if (current.some((e) => e.uid === entry.uid)) return undefined;
  // Dropping an old entry could let the sweep delete data its owner kept: refuse instead.
  if (current.length >= max) return 'full';
  return [...current, entry];
}

/**
 * Pure: the list without entries whose owner has no object left on the host
 * (`liveUids`, from a listing that started at `listedAt`), or undefined when
 * nothing goes. Entries released shortly before the listing stay.
 */
export function prunedReleases(
  list: readonly ReleasedOwner[] | undefined,
  liveUids: ReadonlySet<string>,
  listedAt: Date,
  graceMs: number = PRUNE_GRACE_MS,
): ReleasedOwner[] | undefined {
  const current = list ?? [];
  const keep = current.filter(
    (e) => liveUids.has(e.uid) || !(Date.parse(e.releasedAt) < listedAt.getTime() - graceMs),
  );
  return keep.length === current.length ? undefined : keep;
}

export class ReleaseListFull extends Error {
  override readonly name = 'ReleaseListFull';
}

/**
 * Applies `change` to the host's releasedOwners on a fresh read, written only
 * if the host did not change meanwhile; retried on a conflict. `change`
 * returns undefined for "nothing to write". False when the host is gone.
 */
export function updateReleasedOwners(
  api: HostStatusApi,
  hostName: string,
  change: (list: readonly ReleasedOwner[] | undefined) => ReleasedOwner[] | 'full' | undefined,
  fieldManager: string,
): Promise<boolean> {
  return updateHostStatus({
    api,
    hostName,
    fieldManager,
    change: (status) => {
      const next = change(status?.releasedOwners);
      if (next === 'full')
        throw new ReleaseListFull(
          `DockerHost ${hostName} already records ${MAX_RELEASED_OWNERS} released owners; remove orphaned Docker objects there first`,
        );
      return next === undefined ? undefined : { releasedOwners: next };
    },
  });
}

/** Records that `owner` released its objects on `hostName` (deletionPolicy Orphan). */
export function recordRelease(
  api: HostStatusApi,
  hostName: string,
  owner: Omit<ReleasedOwner, 'releasedAt'>,
  opts: { now: Date; fieldManager: string },
): Promise<boolean> {
  const entry: ReleasedOwner = { ...owner, releasedAt: opts.now.toISOString().replace(/\.\d+Z$/, 'Z') };
  return updateReleasedOwners(api, hostName, (list) => withRelease(list, entry), opts.fieldManager);
}
