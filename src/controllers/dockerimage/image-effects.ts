import type { DockerImage } from '../../crds/dockerimage.js';
import { pushedEventMessage, pushOwnerOf, startPushJob } from '../image-push/image-push.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import { ImagePullError, imageClient, type ObservedImage } from '../../docker/image-client.js';
import { digestMoved } from '../../docker/image-reference.js';
import type { EffectResult, EffectTable, FlowRun } from '../../managed/host-flow.js';
import type { EventType } from '../../runtime/events.js';
import { credentialIdentity, judgeVerification } from './image-access.js';
import { IMAGE_KIND, type ImageKindState } from './image-kind-state.js';
import type { ImageEffect, ImageEvent, ImageMachineContext } from './image-machine.js';
import { imageMessages, withNotes } from './image-messages.js';
import type { ImageWork } from './image-observe.js';
import { startPull } from './image-pull.js';
import type { PullCredentials } from './pull-credentials.js';

export type ImageRun = FlowRun<DockerImage, ImageWork, ImageMachineContext, ImageEffect, ImageEvent>;
export type ImageEffects = EffectTable<DockerImage, ImageWork, ImageMachineContext, ImageEffect, ImageEvent>;

/**
 * What re-resolving the tag with the owner's credentials says. When it is an
 * access check (`checking`: the image is present but not proven for this
 * owner), a refusal is ImagePullCredentialsRejected, and under Never another
 * digest cannot be pulled instead, so it refuses as well. Messages name only
 * this owner's own Secrets.
 */
export async function resolveEvent(opts: {
  api: Parameters<typeof imageClient.remoteDigest>[0];
  ref: string;
  local: ObservedImage | undefined;
  creds: PullCredentials;
  checking: boolean;
  policy: string;
  now: number;
}): Promise<ImageEvent> {
  const { ref, local, creds, now } = opts;
  let digest: string;
  try {
    digest = await imageClient.remoteDigest(opts.api, ref, creds.auth);
  } catch (err) {
    const e = ImagePullError.from(err, `resolving ${ref}`);
    const v = opts.checking && local ? judgeVerification({ error: e }, local, ref) : undefined;
    if (v?.outcome === 'rejected')
      return {
        type: 'RESOLVE_FAILED',
        now,
        reason: v.reason,
        message: imageMessages.rejected({ ref, creds, detail: v.detail }),
      };
    return { type: 'RESOLVE_FAILED', now, reason: e.reason, message: withNotes(e.message, creds.notes) };
  }
  const moved = digestMoved(local?.repoDigests ?? [], ref, digest);
  if (moved && opts.checking && opts.policy === 'Never')
    return {
      type: 'RESOLVE_FAILED',
      now,
      reason: Reason.ImagePullCredentialsRejected,
      message: imageMessages.movedUnderNever({ ref, digest, creds }),
    };
  return { type: 'RESOLVED', now, digest, moved };
}

/**
 * Re-resolves the tag (a refresh under Always, or an access check); the
 * answer is the machine's next event. A present image whose digest the
 * owner's credentials resolve to is proven for them.
 */
async function resolve(state: ImageKindState, { ctx, work }: ImageRun): Promise<EffectResult<ImageEvent>> {
  const creds = await work.credentials();
  const { local } = work;
  // A present image not yet proven for this owner: this resolve is its access check.
  const checking = local !== undefined && !work.usable;
  const next = await resolveEvent({
    api: ctx.conn.api,
    ref: work.ref,
    local,
    creds,
    checking,
    policy: work.policy,
    now: work.now,
  });
  if (next.type === 'RESOLVED' && !next.moved && local) {
    state.access.record(ctx.host.metadata.name, local.id, credentialIdentity(creds.auth));
    work.verifiedId = local.id;
  }
  return { send: next };
}

/** An Event about the owner, worded from the run. */
const event =
  (type: EventType, reason: Reason | EventReason, action: string, message: (run: ImageRun) => string) =>
  (run: ImageRun) =>
    run.ctx.events.event(run.ctx.obj, type, reason, action, message(run));

/** A failed pull or re-resolution; a refusal of this owner's credentials is named as such. */
function recordPullFailed(run: ImageRun): void {
  const e = run.event;
  if (e.type !== 'PULL_FAILED' && e.type !== 'RESOLVE_FAILED') return;
  const reason =
    e.reason === Reason.ImagePullCredentialsRejected
      ? Reason.ImagePullCredentialsRejected
      : EventReason.PullFailed;
  event('Warning', reason, 'Pull', ({ ctx }) => imageMessages.pullFailed(ctx.host.metadata.name, e))(run);
}

/** Mirrors the present image to the destinations that lack it, in the background. */
function startPush(state: ImageKindState, run: ImageRun): void {
  const { ctx, work } = run;
  if (!work.local) return;
  ctx.logger.info({ image: work.ref, destinations: work.push.pending.map((t) => t.image) }, 'pushing image');
  startPushJob({
    deps: state.pushDeps,
    owner: pushOwnerOf(ctx, work.hostKey),
    ownerKey: work.ownerKey,
    hash: work.local.id,
    imageId: work.local.id,
    push: work.push,
  });
}

/** A failed push, under its reason. */
function recordPushFailed(run: ImageRun): void {
  const e = run.event;
  if (e.type !== 'PUSH_FAILED') return;
  event('Warning', e.reason, 'Push', ({ ctx }) => imageMessages.pullFailed(ctx.host.metadata.name, e))(run);
}

/** The image kind's effects, acting with the kind instance's pulls and access records. */
export function imageEffects(state: ImageKindState): ImageEffects {
  return {
    startPull: async ({ ctx, work, step, event: decidedOn }) => {
      // Ready, then found missing: removed outside Dockyard.
      if (step.from === 'Ready' && decidedOn.type === 'OBSERVED') ctx.metrics.driftRepaired(IMAGE_KIND);
      startPull({ state, ctx, ref: work.ref, creds: await work.credentials() });
    },
    resolve: (run) => resolve(state, run),
    recordPulled: event('Normal', EventReason.Pulled, 'Pull', ({ ctx, work }) =>
      imageMessages.pulled({ ref: work.ref, host: ctx.host.metadata.name, result: work.finished }),
    ),
    recordPullFailed,
    recordNotPresent: event('Warning', Reason.ImageNotPresent, 'Check', ({ ctx, work }) =>
      imageMessages.notPresentEvent(work.ref, ctx.host.metadata.name),
    ),
    startPush: (run) => startPush(state, run),
    recordPushed: event('Normal', EventReason.Pushed, 'Push', ({ ctx, work }) =>
      pushedEventMessage(ctx, work.push),
    ),
    recordPushFailed,
  };
}
