// Replacing a container without losing its data or leaving nothing running,
// the way `docker compose up` recreates: the old container is stopped and
// renamed aside, the new one is created at the name with the old one's
// anonymous volumes and started, and only then is the old one removed. A new
// container that cannot be created or started gives way to the old one,
// which is put back (and started again if it ran). leftovers.ts settles what
// a crash between two of these steps leaves.
//
// The stop runs off the reconcile worker (ContainerOps.stop): one that
// outlasts its short wait makes the replace return `stopping`, and the
// reconcile that comes when the stop ends does the rest. That one sees the
// old container stopped (and with restart policy `no`, see below), so what it
// was before the recreate began comes in as `before` (RecreateMemory).
//
// A controller that dies between the stop and the rest leaves a stopped old
// container with an outdated spec hash. The next process recreates it as
// usual, without the memory: `before` is read from the stopped container, so
// the new container is created and started when spec.state is Running (what
// would have happened anyway). Only if that new container then cannot be
// created or started is the difference seen: the old one is put back but not
// started again (it could have been stopped by someone else), and a policy
// `always` it had stays `no`; the next reconcile tries the recreate again.
import type Dockerode from 'dockerode';
import {
  containerClient,
  type ContainerUpdateBody,
  type ObservedContainer,
} from '../../docker/container-client.js';
import type { InheritedVolume } from '../../docker/container-spec.js';
import { errorMessage } from '../../docker/errors.js';
import { isFilesTempName } from '../../docker/files-image.js';
import { ownership, type OwnerRef } from '../../managed/ownership.js';
import type { ObservedRestartPolicy, RecreateBefore, StopReport } from './background-ops.js';
import { settleLeftovers, type LeftoverStep } from './leftovers.js';

/** The name the old container waits under while its successor starts (compose's spelling). */
export function asideName(id: string, name: string): string {
  return `${id.slice(0, 12)}_${name}`;
}

/** The new container could not be created or started; the old one was put back. */
export class ReplaceFailed extends Error {
  override readonly name = 'ReplaceFailed';
  constructor(
    readonly containerName: string,
    readonly restarted: boolean,
    cause: unknown,
  ) {
    super(
      `could not replace ${containerName}: ${errorMessage(cause)}; kept the previous container${restarted ? ' and started it again' : ''}`,
      { cause },
    );
  }
}

export interface ReplaceRequest {
  api: Dockerode;
  old: ObservedContainer;
  /** The resource's Docker name. */
  name: string;
  owner: Pick<OwnerRef, 'uid'>;
  /**
   * What `old` was when this recreate began, possibly reconciles ago
   * (RecreateMemory.begin): whether it ran, and its restart policy.
   */
  before: RecreateBefore;
  /**
   * Stops `old` off the worker (ContainerOps.stop): it waits a moment, then
   * answers `stopping` if the grace period goes on.
   */
  stop(): Promise<StopReport>;
  /** Start the new container (spec.state Running). */
  start: boolean;
  /** Creates the new container at `name` with these volumes carried over; returns its ID. */
  create(inherit: readonly InheritedVolume[]): Promise<string>;
  inherit: readonly InheritedVolume[];
}

/** Docker's restart-policy body for a policy (a retry count only with on-failure). */
function policyOf(p: ObservedRestartPolicy): ContainerUpdateBody['RestartPolicy'] {
  const { name, maximumRetryCount } = p;
  return name === 'on-failure' ? { Name: name, MaximumRetryCount: maximumRetryCount } : { Name: name };
}

/** The old container is replaced by the new one (its ID), or its stop goes on in the background. */
export type ReplaceOutcome = { state: 'replaced'; id: string } | Extract<StopReport, { state: 'stopping' }>;

/**
 * Pure: whether the old container's restart policy must be set to `no`
 * before its stop. Aside, it must stay down even across a daemon restart,
 * which starts `always` containers however they were stopped: two of ours
 * never run at once. Not again when an earlier reconcile of this recreate did.
 */
export function keepDownNeeded(before: RecreateBefore, current: ObservedRestartPolicy): boolean {
  return before.restartPolicy.name === 'always' && current.name !== 'no';
}

/**
 * Replaces `old` by a new container at the same name, or answers `stopping`
 * while its stop goes on (call again when it ended: see the file comment).
 */
export async function replaceContainer(r: ReplaceRequest): Promise<ReplaceOutcome> {
  const { api, old } = r;
  const keepsDown = r.before.restartPolicy.name === 'always';
  if (keepDownNeeded(r.before, old.hostConfig.restartPolicy))
    await containerClient.update(api, old.id, { RestartPolicy: { Name: 'no' } });
  // Stopped already (the usual second pass): no stop to ask Docker for.
  if (old.state.running || old.state.restarting) {
    const stop = await r.stop();
    if (stop.state === 'failed') throw new Error(stop.message);
    if (stop.state === 'stopping') return stop;
  }
  await containerClient.rename(api, old.id, asideName(old.id, r.name));
  let id: string;
  try {
    id = await r.create(r.inherit);
    if (r.start) await containerClient.start(api, id);
  } catch (err) {
    const restart = r.before.wasRunning && r.start;
    await putBack({ ...r, restart, restorePolicy: keepsDown });
    throw new ReplaceFailed(r.name, restart, err);
  }
  await containerClient.remove(api, old.id, { force: true });
  return { state: 'replaced', id };
}

/** Undoes a failed replace: our new container (if any) goes, the old one comes back as it was. */
async function putBack(r: ReplaceRequest & { restart: boolean; restorePolicy: boolean }): Promise<void> {
  const { api, old } = r;
  const current = await containerClient.observe(api, r.name);
  if (current && current.id !== old.id && ownership(current.labels, r.owner) === 'ours')
    await containerClient.remove(api, current.id, { force: true });
  await containerClient.rename(api, old.id, r.name);
  if (r.restorePolicy)
    await containerClient.update(api, old.id, { RestartPolicy: policyOf(r.before.restartPolicy) });
  if (r.restart) await containerClient.start(api, old.id);
}

/** The most owner/host pairs remembered as settled: one forgotten costs one list more, never a missed leftover. */
const MAX_SETTLED = 50_000;

/**
 * Which owners this process has settled on which hosts, so settleAside lists
 * the daemon's containers (a GET) only when leftovers can exist, not on every
 * reconcile. One per process: a process that starts knows nothing, so its
 * first look at every owner and host lists (the crash mid-replace case).
 */
export class AsideMemory {
  private readonly settled = new Set<string>();

  has(host: string, uid: string): boolean {
    return this.settled.has(`${uid}@${host}`);
  }

  remember(host: string, uid: string): void {
    const key = `${uid}@${host}`;
    this.settled.delete(key);
    this.settled.add(key);
    // Insertion order: the oldest first.
    if (this.settled.size > MAX_SETTLED) this.settled.delete(this.settled.values().next().value as string);
  }
}

/**
 * Pure: whether a container of ours can be aside, so the daemon must be
 * listed. replaceContainer moves the recorded container off the name before
 * its successor exists, and status records the successor only after the old
 * one is gone (or after a reconcile that listed); a process killed between
 * the steps leaves it to a new process, which has settled nothing yet. So
 * nothing can be aside while this process has settled the owner here and the
 * container at the name is ours and the one status recorded. A containerName
 * change also shows as a missing container, so its predecessor is found.
 */
export function asideListNeeded(f: {
  settledBefore: boolean;
  /** The container ID in this host's status entry (HostStatusEntry.id). */
  recordedId: string | undefined;
  current: { id: string; ours: boolean } | undefined;
}): boolean {
  if (!f.settledBefore) return true;
  return !(f.current?.ours && f.recordedId !== undefined && f.current.id === f.recordedId);
}

export interface AsideScope {
  memory: AsideMemory;
  host: string;
  recordedId: string | undefined;
}

/**
 * Looks for our containers under other names than `name` and settles them
 * (leftovers.ts). Returns the steps taken, so the caller observes again when
 * any were. With `scope`, lists only when asideListNeeded says leftovers can
 * exist; without, always.
 */
export async function settleAside(
  api: Dockerode,
  name: string,
  owner: Pick<OwnerRef, 'uid'>,
  current: ObservedContainer | undefined,
  scope?: AsideScope,
): Promise<LeftoverStep[]> {
  if (!owner.uid) return [];
  const ours = current !== undefined && ownership(current.labels, owner) === 'ours';
  if (
    scope &&
    !asideListNeeded({
      settledBefore: scope.memory.has(scope.host, owner.uid),
      recordedId: scope.recordedId,
      current: current && { id: current.id, ours },
    })
  )
    return [];
  const others = (await containerClient.listOwned(api, owner.uid)).filter((c) => c.name !== name);
  // A files build's temporary container (never started) is no predecessor: it just goes.
  const temps = others.filter((c) => isFilesTempName(c.name));
  for (const t of temps) await containerClient.remove(api, t.id, { force: true });
  const aside = others.filter((c) => !isFilesTempName(c.name));
  const steps = settleLeftovers({
    ...(current
      ? {
          current: {
            id: current.id,
            ownership: ownership(current.labels, owner),
            everStarted: current.state.startedAt !== undefined,
          },
        }
      : {}),
    aside,
  });
  for (const step of steps) {
    if (step.type === 'restore') await containerClient.rename(api, step.id, name);
    else await containerClient.remove(api, step.id, { force: true });
  }
  scope?.memory.remember(scope.host, owner.uid);
  return steps;
}

/** Removes (volumes kept) every container of ours not at `name`: for a deletion. */
export async function removeAside(api: Dockerode, name: string, uid: string): Promise<void> {
  if (!uid) return;
  for (const c of await containerClient.listOwned(api, uid)) {
    if (c.name !== name) await containerClient.remove(api, c.id, { force: true });
  }
}
