import type { DockerBuildStatus } from '../../crds/dockerbuild.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import { Reason } from '../../crds/reasons.js';
import { phaseIn } from '../../managed/host-flow.js';
import { machineEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import type { HostOutcome } from '../../managed/types.js';
import type { BuildFlowRun } from './build-effects.js';
import type { BuildKindState } from './build-kind-state.js';
import { buildRequeueAfterMs, type BuildMachineContext } from './build-machine.js';
import { buildMessages } from './build-messages.js';
import type { BuildWork } from './build-observe.js';
import { pushedFields } from '../image-push/image-push.js';
import { pushMessages } from '../image-push/push-machine.js';

/** This kind's status.hosts[] entry, as its CRD declares it. */
type BuildHostEntry = NonNullable<DockerBuildStatus['hosts']>[number];

/** Stalled phases, named as the reasons they stall with: nothing changes until the user or admin acts. */
const STALLED = {
  [Reason.PolicyViolation]: (w: BuildWork) => w.violation ?? '',
  [Reason.NameConflict]: (w: BuildWork, host: string) => buildMessages.nameConflict(w.tag, host),
} satisfies Partial<Record<Reason, (w: BuildWork, host: string) => string>>;

/** The reconcile's end in memory: the result acted on, the state reached, the last build's log. */
function remember(state: BuildKindState, run: BuildFlowRun): SavedMachineState<BuildMachineContext> {
  const { work } = run;
  if (work.finished) {
    state.jobs.take(work.hostKey);
    state.logs.set(work.hostKey, work.finished.log);
  }
  if (work.push.finished) state.pushes.take(work.hostKey);
  state.memo.set(work.hostKey, run.step.saved);
  return run.step.saved;
}

function buildEntry(run: BuildFlowRun, saved: SavedMachineState<BuildMachineContext>): BuildHostEntry {
  const { ctx, work } = run;
  const c = saved.context;
  const ours = work.tagOwner === 'ours' ? work.local : undefined;
  // After a restart, status is all there is of the last build's log.
  const log = ctx.previous?.log;
  return {
    name: ctx.host.metadata.name,
    phase: saved.state,
    ...(ours ? { id: ours.id, imageId: ours.id } : {}),
    ...(ours?.labels?.[OWNER_LABELS.specHash] ? { buildHash: ours.labels[OWNER_LABELS.specHash] } : {}),
    ...(c.builtAt ? { builtAt: c.builtAt } : {}),
    ...(c.durationMs !== undefined ? { durationSeconds: Math.round(c.durationMs / 100) / 10 } : {}),
    ...pushedFields({
      spec: ctx.obj.spec,
      push: work.push,
      previous: ctx.previous?.pushed,
      pushedAt: c.pushedAt,
    }),
    ...(typeof log === 'string' && log ? { log } : {}),
    machine: machineEntry(saved),
  };
}

/** The host's status entry, outcome and next look, from the state reached. */
export function reportBuild(state: BuildKindState, run: BuildFlowRun): HostOutcome {
  const { ctx, work } = run;
  const saved = remember(state, run);
  const phase = saved.state;
  const host = ctx.host.metadata.name;
  const log = state.logs.get(work.hostKey);
  const entry = { ...buildEntry(run, saved), ...(log ? { log } : {}) };
  const requeue = buildRequeueAfterMs(phase, saved.context, work.now, {
    watchContext: ctx.obj.spec.context !== undefined,
  });
  const later = requeue !== undefined ? { requeueAfterMs: requeue } : {};
  if (phaseIn(STALLED, phase)) {
    const message = STALLED[phase](work, host);
    return { entry: { ...entry, message }, ready: false, stalled: { reason: phase, message } };
  }
  switch (phase) {
    case 'Ready':
      return { entry, ready: true, ...later };
    case 'Building': {
      const view = state.jobs.view(work.hostKey);
      const since = view?.state === 'running' ? work.now - view.startedAt : 0;
      const message = buildMessages.buildingFor(work.tag, host, since);
      return { entry: { ...entry, message }, ready: false, ...later };
    }
    case 'Pushing': {
      const destinations = (ctx.obj.spec.push ?? []).map((p) => p.image);
      const message = pushMessages.pushing(work.tag, host, destinations);
      return { entry: { ...entry, message }, ready: false, ...later };
    }
    case 'PushFailed': {
      const reason = saved.context.lastPushError?.reason ?? Reason.PushFailed;
      const message = pushMessages.failed(saved.context, work.now);
      return { entry: { ...entry, message }, ready: false, failure: { reason, message }, ...later };
    }
    case 'Failed': {
      const reason = saved.context.lastError?.reason ?? Reason.BuildFailed;
      const message = buildMessages.failed({ tag: work.tag, context: saved.context, now: work.now });
      return { entry: { ...entry, message }, ready: false, failure: { reason, message }, ...later };
    }
    case 'Paused':
      return {
        entry: { ...entry, message: buildMessages.paused },
        ready: work.tagOwner === 'ours',
      };
    default:
      return { entry, ready: false, ...later };
  }
}
