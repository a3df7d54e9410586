import type { DockerImage } from '../../crds/dockerimage.js';
import { NO_PUSH, observePushes, pushOwnerOf, type PushWork } from '../image-push/image-push.js';
import { pushEnded } from '../image-push/push-result.js';
import { imageClient, type ObservedImage } from '../../docker/image-client.js';
import type { Concluded, Observed } from '../../managed/host-flow.js';
import { admitOwnerImage, isPinnedVariant, refusedPushes } from './image-admission.js';
import { savedFromEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import type { HostContext } from '../../managed/types.js';
import { credentialIdentity, decideAccess, fromRegistry } from './image-access.js';
import { ownerHostKey, ownerId, type ImageKindState, type OwnerPull } from './image-kind-state.js';
import { INITIAL_IMAGE_CONTEXT, type ImageEvent, type ImageMachineContext } from './image-machine.js';
import { withNotes } from './image-messages.js';
import { imageRefOf, isPinned, pullPolicyOf, refreshIntervalMs, type PullPolicy } from './image-spec.js';
import { resolvePullCredentials, type PullCredentials } from './pull-credentials.js';
import type { PullResult } from './pull-jobs.js';

/** What the image flow knows about one owner on one host: observed first, then updated as it acts. */
export interface ImageWork {
  ref: string;
  /** The owner's id (PullJobs' subscriber) and its queue key `namespace/name`. */
  owner: string;
  ownerKey: string;
  /** The key of what the kind keeps in memory for this owner on this host. */
  hostKey: string;
  policy: PullPolicy;
  pinned: boolean;
  intervalMs: number;
  /** Epoch milliseconds of this reconcile. */
  now: number;
  /** The pull this owner had started or joined when observe looked. */
  pull: OwnerPull | undefined;
  /** How that pull ended, when it ended since the last look. */
  finished: PullResult | undefined;
  /** The image on the host under the reference. */
  local: ObservedImage | undefined;
  /** The local image ID this owner's credentials are proven for (resolve may prove it). */
  verifiedId: string | undefined;
  /** Present and usable by this owner as it is (no access check pending). */
  usable: boolean;
  /** The owner's pull credentials, read from its Secrets the first time they are needed. */
  credentials: () => Promise<PullCredentials>;
  /** Mirroring the image to spec.push (looked at once the image is present and usable). */
  push: PushWork;
}

/**
 * Where to resume: this process's own last decision for the object on the
 * host when it has one (always at least as new as the informer's copy of
 * status), otherwise what status saved (after a restart). Another image
 * reference than the saved one starts over.
 */
export function restoreImage(
  state: ImageKindState,
  ctx: HostContext<DockerImage>,
): SavedMachineState<ImageMachineContext> | undefined {
  const memo = state.memo.get(ownerHostKey(ctx.obj, ctx.host.metadata.name));
  const saved = memo ?? savedFromEntry<ImageMachineContext>(ctx.previous, INITIAL_IMAGE_CONTEXT);
  const specRef = imageRefOf(ctx.obj);
  if (!saved) return undefined;
  if (saved.context.image === specRef) return saved;
  // Pinned by the host's imagePolicy (image-admission.ts): kept until a refresh is due under Always.
  if (!isPinnedVariant(saved.context.image, specRef)) return undefined;
  return refreshDue(ctx.obj, saved.context, ctx.now.getTime()) ? undefined : saved;
}

/** Under pullPolicy Always, whether the pinned tag is due to be resolved again. */
function refreshDue(obj: DockerImage, context: ImageMachineContext, now: number): boolean {
  if (pullPolicyOf(obj) !== 'Always') return false;
  const last = Date.parse(context.lastCheckedAt ?? context.pulledAt ?? '');
  return Number.isNaN(last) || now - last >= refreshIntervalMs(obj);
}

/** Reads the owner's Secrets once per reconcile, and only when something needs them. */
function credentialsOnce(
  state: ImageKindState,
  ctx: HostContext<DockerImage>,
  ref: string,
): () => Promise<PullCredentials> {
  let creds: PullCredentials | undefined;
  const names = (ctx.obj.spec.pullSecrets ?? []).map((s) => s.name);
  return async () => (creds ??= await resolvePullCredentials(state.core, ctx.namespace, names, ref));
}

/** A background pull's end, as the event the machine decides on before the observation. */
async function pullEnded(
  finished: PullResult,
  credentials: () => Promise<PullCredentials>,
): Promise<ImageEvent> {
  if (finished.ok)
    return {
      type: 'PULL_SUCCEEDED',
      now: finished.finishedAt,
      ...(finished.digest ? { digest: finished.digest } : {}),
    };
  return {
    type: 'PULL_FAILED',
    now: finished.finishedAt,
    reason: finished.reason,
    message: withNotes(finished.message, (await credentials()).notes),
  };
}

/**
 * Whether the owner may use the present image as it is: it was not pulled
 * from the registry, or it is the one proven for this owner, or the
 * credentials it was pulled or verified with are this owner's (or anyone's).
 * Returns the image ID proven for the owner afterwards.
 */
async function accessTo(opts: {
  state: ImageKindState;
  host: string;
  ref: string;
  image: ObservedImage;
  verifiedId: string | undefined;
  credentials: () => Promise<PullCredentials>;
}): Promise<{ usable: boolean; verifiedId: string | undefined }> {
  const { image, verifiedId } = opts;
  if (!fromRegistry(image, opts.ref) || verifiedId === image.id) return { usable: true, verifiedId };
  const identity = credentialIdentity((await opts.credentials()).auth);
  const decision = decideAccess({
    fromRegistry: true,
    recorded: opts.state.access.recorded(opts.host, image.id),
    identity,
  });
  if (decision === 'verify') return { usable: false, verifiedId };
  return { usable: true, verifiedId: image.id };
}

/** The working record before anything is looked at: what the spec and memory say. */
function startWork(
  state: ImageKindState,
  ctx: HostContext<DockerImage>,
  saved: SavedMachineState<ImageMachineContext> | undefined,
): ImageWork {
  const { obj } = ctx;
  const ref = imageRefOf(obj);
  const hostKey = ownerHostKey(obj, ctx.host.metadata.name);
  return {
    ref,
    owner: ownerId(obj),
    ownerKey: `${ctx.namespace}/${obj.metadata.name}`,
    hostKey,
    policy: pullPolicyOf(obj),
    pinned: isPinned(ref),
    intervalMs: refreshIntervalMs(obj),
    now: ctx.now.getTime(),
    pull: state.ownerPulls.get(hostKey),
    finished: undefined,
    local: undefined,
    verifiedId: saved?.context.verifiedImageId,
    usable: false,
    credentials: credentialsOnce(state, ctx, ref),
    push: NO_PUSH,
  };
}

/**
 * Looks at the owner's pull, then at the image on the host: a pull that
 * ended since the last look is an earlier event, and the image it brought
 * is proven for the credentials it was pulled with.
 */
export async function observeImage(
  state: ImageKindState,
  ctx: HostContext<DockerImage>,
  saved: SavedMachineState<ImageMachineContext> | undefined,
): Promise<Observed<ImageWork, ImageEvent> | Concluded> {
  const pushRefused = refusedPushes(ctx, saved);
  if (pushRefused) return pushRefused;
  const work = startWork(state, ctx, saved);
  const refused = await admitOwnerImage({ state, ctx, work, saved });
  if (refused) return refused;
  const hostName = ctx.host.metadata.name;
  // Only the pull this owner started or joined: another owner's (other credentials) is not ours to see.
  const view = work.pull ? state.jobs.observe(work.pull.key, work.owner, work.ownerKey) : undefined;
  work.finished = view?.state === 'done' ? view.result : undefined;
  const earlier = work.finished ? [await pullEnded(work.finished, work.credentials)] : [];
  // After looking at the pull: a pull that just finished is seen here.
  const local = await imageClient.inspect(ctx.conn.api, work.ref);
  work.local = local;
  const { pull, finished } = work;
  if (
    finished?.ok &&
    pull &&
    state.access.recordPull(hostName, local, work.ref, pull.identity, finished.digest)
  )
    work.verifiedId = local?.id;
  if (local) {
    const access = await accessTo({
      state,
      host: hostName,
      ref: work.ref,
      image: local,
      verifiedId: work.verifiedId,
      credentials: work.credentials,
    });
    work.usable = access.usable;
    work.verifiedId = access.verifiedId;
  }
  if (local && work.usable && view?.state !== 'running' && (ctx.obj.spec.push ?? []).length > 0) {
    work.push = await observePushes({
      deps: state.pushDeps,
      owner: pushOwnerOf(ctx, work.hostKey),
      hash: local.id,
      local,
    });
    if (work.push.finished) earlier.push(pushEnded(work.push.finished));
  }
  return {
    work,
    earlier,
    event: {
      type: 'OBSERVED',
      now: work.now,
      image: work.ref,
      policy: work.policy,
      present: local !== undefined,
      verified: local === undefined || work.usable,
      pulling: view?.state === 'running',
      pushPending: work.push.pending.length > 0,
      pushing: work.push.running,
      pinned: work.pinned,
      refreshIntervalMs: work.intervalMs,
      paused: ctx.paused,
    },
  };
}
