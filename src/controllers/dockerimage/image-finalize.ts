import type { DockerImage } from '../../crds/dockerimage.js';
import { removePushTags } from '../image-push/image-push.js';
import { EventReason } from '../../crds/reasons.js';
import { imageClient } from '../../docker/image-client.js';
import type { FinalizeOutcome, HostContext } from '../../managed/types.js';
import { ownerHostKey, ownerId, type ImageKindState } from './image-kind-state.js';
import { imageMessages } from './image-messages.js';
import { familiarString } from '../../docker/image-reference.js';
import { isPinnedVariant } from './image-admission.js';
import { imageRefOf } from './image-spec.js';

/**
 * The owner leaves the host (under either deletion policy): it stops
 * waiting for its pull there (the pull stops when nobody else waits for it)
 * and the kind forgets it. A pull that has not ended yet is remembered
 * until it ends, so a Delete does not remove the image under it.
 */
export function releaseImage(state: ImageKindState, ctx: HostContext<DockerImage>): void {
  const key = ownerHostKey(ctx.obj, ctx.host.metadata.name);
  const pull = state.ownerPulls.get(key);
  const settling = pull ? state.jobs.release(pull.key, ownerId(ctx.obj)) : undefined;
  state.memo.delete(key);
  state.ownerPulls.delete(key);
  void state.pushes.release(key);
  if (!settling) return;
  state.stopping.set(key, settling);
  const ended = () => {
    if (state.stopping.get(key) === settling) state.stopping.delete(key);
  };
  void settling.then(ended, ended);
}

/** Who else wants the image on the host, worded for this owner; undefined when nobody does. */
function otherOwners(state: ImageKindState, ctx: HostContext<DockerImage>): string | undefined {
  const { obj } = ctx;
  const ref = imageRefOf(obj);
  const hostName = ctx.host.metadata.name;
  const peers = state
    .objects()
    .filter(
      (o) =>
        ownerId(o) !== ownerId(obj) &&
        !o.metadata.deletionTimestamp &&
        imageRefOf(o) === ref &&
        (o.status?.hosts ?? []).some((h) => h.name === hostName),
    );
  if (peers.length === 0) return undefined;
  // Another namespace's objects are counted, never named.
  const mine = peers.filter((p) => p.metadata.namespace === ctx.namespace).map((p) => p.metadata.name);
  const others = peers.length - mine.length;
  return [
    ...(mine.length > 0 ? [`DockerImage ${mine.join(', ')}`] : []),
    ...(others > 0 ? [`${others} DockerImage(s) in other namespaces`] : []),
  ].join(' and ');
}

/** The containers using the image, named up to five. */
function describeUsers(users: readonly string[]): string {
  return users.length > 5 ? `${users.slice(0, 5).join(', ')} and ${users.length - 5} more` : users.join(', ');
}

/**
 * The owner's image on the host: by its tag, or, when the host's imagePolicy
 * pinned it (pulled by digest: the host has no tag for it), by the
 * repository digest its status entry recorded.
 */
async function localRef(ctx: HostContext<DockerImage>): Promise<string> {
  const ref = imageRefOf(ctx.obj);
  const recorded = (ctx.previous as { repoDigest?: string } | undefined)?.repoDigest;
  if (!recorded) return ref;
  const pinned = familiarString(recorded);
  if (!isPinnedVariant(pinned, ref)) return ref;
  return (await imageClient.inspect(ctx.conn.api, ref)) ? ref : pinned;
}

/**
 * deletionPolicy Delete: images carry no owner labels and are shared, so the
 * image is removed only once the owner's pull stopped, no other DockerImage
 * wants it on the host and no container uses it (it is never forced out).
 */
export async function deleteImage(
  state: ImageKindState,
  ctx: HostContext<DockerImage>,
): Promise<FinalizeOutcome> {
  const { obj, conn } = ctx;
  const hostName = ctx.host.metadata.name;
  const ref = await localRef(ctx);
  if (state.stopping.has(ownerHostKey(obj, hostName)))
    return { done: false, message: imageMessages.waitingForPull(ref, hostName) };
  const who = otherOwners(state, ctx);
  if (who !== undefined) {
    ctx.events.event(obj, 'Normal', EventReason.Kept, 'Delete', imageMessages.kept(ref, hostName, who));
    return { done: true };
  }
  const local = await imageClient.inspect(conn.api, ref);
  if (!local) return { done: true };
  const inUse = (by: string): FinalizeOutcome => ({
    done: false,
    message: imageMessages.inUse(ref, hostName, by),
  });
  const users = await imageClient.containersUsing(conn.api, ref);
  if (users.length > 0) return inUse(describeUsers(users));
  await removePushTags(conn.api, obj.spec, local.id);
  if ((await imageClient.remove(conn.api, ref)) === 'inUse') return inUse('a container');
  return { done: true };
}
