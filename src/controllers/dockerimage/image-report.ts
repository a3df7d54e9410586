import type { DockerImage, DockerImageStatus } from '../../crds/dockerimage.js';
import { pushedFields } from '../image-push/image-push.js';
import { pushMessages } from '../image-push/push-machine.js';
import { Reason } from '../../crds/reasons.js';
import type { ObservedImage, PullProgress } from '../../docker/image-client.js';
import { repoDigestFor } from '../../docker/image-reference.js';
import { machineEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import type { HostContext, HostOutcome } from '../../managed/types.js';
import { fromRegistry } from './image-access.js';
import type { ImageRun } from './image-effects.js';
import type { ImageKindState } from './image-kind-state.js';
import { requeueAfterMs, type ImageMachineContext } from './image-machine.js';
import { imageMessages } from './image-messages.js';
import type { ImageWork } from './image-observe.js';
import { describeProgress } from './image-spec.js';

/** This kind's status.hosts[] entry, as its CRD declares it. */
type ImageHostEntry = NonNullable<DockerImageStatus['hosts']>[number];

/** How often status shows a running pull's progress. */
const PROGRESS_REQUEUE_MS = 2_000;
const NO_PROGRESS: PullProgress = { currentBytes: 0, totalBytes: 0, percent: 0 };

/**
 * The reconcile's end in memory: the owner has acted on its pull's result,
 * and the state reached (with the image proven for the owner, which the
 * kind, not the machine, writes) is where the next reconcile resumes.
 */
function remember(state: ImageKindState, run: ImageRun): SavedMachineState<ImageMachineContext> {
  const { work } = run;
  if (work.finished && work.pull) state.jobs.take(work.pull.key, work.owner);
  if (work.push.finished) state.pushes.take(work.hostKey);
  const { local, verifiedId } = work;
  let saved = run.step.saved;
  if (local && verifiedId === local.id && saved.context.verifiedImageId !== verifiedId)
    saved = { ...saved, context: { ...saved.context, verifiedImageId: verifiedId } };
  state.memo.set(work.hostKey, saved);
  return saved;
}

/** The progress of the pull the owner waits for (it may have started one in this reconcile). */
function progressOf(state: ImageKindState, work: ImageWork, phase: string): PullProgress {
  const current = state.ownerPulls.get(work.hostKey);
  const running =
    phase === 'Pulling' && current ? state.jobs.observe(current.key, work.owner, work.ownerKey) : undefined;
  return running?.state === 'running' ? running.progress : NO_PROGRESS;
}

/** The image as this owner may see it: one it has not been granted is not described to it. */
function describedImage(work: ImageWork): ObservedImage | undefined {
  const { local } = work;
  // Its digest is the registry's to tell.
  return local && (local.id === work.verifiedId || !fromRegistry(local, work.ref)) ? local : undefined;
}

function imageEntry(opts: {
  ctx: HostContext<DockerImage>;
  work: ImageWork;
  saved: SavedMachineState<ImageMachineContext>;
  progress: PullProgress;
}): ImageHostEntry {
  const { ctx, saved } = opts;
  const phase = saved.state;
  const mine = describedImage(opts.work);
  const repoDigest = mine ? repoDigestFor(mine.repoDigests, opts.work.ref, saved.context.digest) : undefined;
  // After a restart status may be all there is to say when the image was pulled.
  const pulledAt =
    saved.context.pulledAt ??
    (repoDigest && ctx.previous?.repoDigest === repoDigest && typeof ctx.previous.pulledAt === 'string'
      ? ctx.previous.pulledAt
      : undefined);
  return {
    name: ctx.host.metadata.name,
    phase,
    ...(mine ? { id: mine.id, imageId: mine.id, sizeBytes: mine.sizeBytes } : {}),
    ...(repoDigest ? { repoDigest } : {}),
    ...(pulledAt ? { pulledAt } : {}),
    ...(phase === 'Pulling' ? { progress: opts.progress } : {}),
    ...pushedFields({
      spec: ctx.obj.spec,
      push: opts.work.push,
      previous: ctx.previous?.pushed,
      pushedAt: saved.context.pushedAt,
    }),
    machine: machineEntry(saved),
  };
}

interface PhaseReport {
  entry: ImageHostEntry;
  spec: DockerImage['spec'];
  context: ImageMachineContext;
  work: ImageWork;
  host: string;
  progress: PullProgress;
  later: { requeueAfterMs?: number };
}

/** The outcome of each phase: Ready, in progress, retried after a failure, or waiting for the user. */
function phaseOutcome(phase: string, r: PhaseReport): HostOutcome {
  const { entry, later, work } = r;
  switch (phase) {
    case 'Ready':
      return { entry, ready: true, ...later };
    case 'Pulling':
      return { entry: { ...entry, message: describeProgress(work.ref, r.progress) }, ready: false, ...later };
    case 'Failed': {
      const reason = r.context.lastError?.reason ?? Reason.PullError;
      const message = imageMessages.failed({ ref: work.ref, context: r.context, now: work.now });
      return { entry: { ...entry, message }, ready: false, failure: { reason, message }, ...later };
    }
    case 'Pushing': {
      const destinations = (r.spec.push ?? []).map((p) => p.image);
      const message = pushMessages.pushing(work.ref, r.host, destinations);
      return { entry: { ...entry, message }, ready: false, ...later };
    }
    case 'PushFailed': {
      const reason = r.context.lastPushError?.reason ?? Reason.PushFailed;
      const message = pushMessages.failed(r.context, work.now);
      return { entry: { ...entry, message }, ready: false, failure: { reason, message }, ...later };
    }
    case 'NotPresent': {
      const message = imageMessages.notPresent(work.ref, r.host);
      return {
        entry: { ...entry, message },
        ready: false,
        failure: { reason: Reason.ImageNotPresent, message },
      };
    }
    case 'Paused':
      return {
        entry: { ...entry, message: imageMessages.paused },
        ready: describedImage(work) !== undefined,
      };
    default:
      return { entry, ready: false, ...later };
  }
}

/** The host's status entry, outcome and next look, from the state reached. */
export function reportImage(state: ImageKindState, run: ImageRun): HostOutcome {
  const { ctx, work } = run;
  const saved = remember(state, run);
  const phase = saved.state;
  const progress = progressOf(state, work, phase);
  const requeue = requeueAfterMs(
    phase,
    saved.context,
    work.now,
    { always: work.policy === 'Always', pinned: work.pinned, intervalMs: work.intervalMs },
    PROGRESS_REQUEUE_MS,
  );
  return phaseOutcome(phase, {
    entry: imageEntry({ ctx, work, saved, progress }),
    spec: ctx.obj.spec,
    context: saved.context,
    work,
    host: ctx.host.metadata.name,
    progress,
    later: requeue !== undefined ? { requeueAfterMs: requeue } : {},
  });
}
