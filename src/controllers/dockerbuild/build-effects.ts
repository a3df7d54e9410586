import { MAX_BUILD_LOG_CHARS, type DockerBuild } from '../../crds/dockerbuild.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import { BuildError, buildClient } from '../../docker/build-client.js';
import type { EffectTable, FlowRun } from '../../managed/host-flow.js';
import { ownerLabels } from '../../managed/ownership.js';
import type { HostContext } from '../../managed/types.js';
import type { EventType } from '../../runtime/events.js';
import type { BuildRun as JobRun, BuildResult } from './build-jobs.js';
import { BUILD_KIND, buildOwner, type BuildKindState } from './build-kind-state.js';
import type { BuildEffect, BuildEvent, BuildMachineContext } from './build-machine.js';
import { buildMessages } from './build-messages.js';
import type { BuildWork } from './build-observe.js';
import { pushedEventMessage, pushOwnerOf, startPushJob } from '../image-push/image-push.js';

export type BuildFlowRun = FlowRun<DockerBuild, BuildWork, BuildMachineContext, BuildEffect, BuildEvent>;
type BuildEffects = EffectTable<DockerBuild, BuildWork, BuildMachineContext, BuildEffect, BuildEvent>;

/** The build itself, in the background: never rejects, it reports how it ended. */
function buildRun(opts: { state: BuildKindState; ctx: HostContext<DockerBuild>; work: BuildWork }): JobRun {
  const { state, ctx, work } = opts;
  const { inputs } = work;
  if (!inputs?.ok) throw new Error('startBuild without inputs');
  const { obj } = ctx;
  const labels = {
    ...(obj.spec.labels ?? {}),
    ...ownerLabels(buildOwner(obj), {
      specHash: inputs.hash,
      deletionPolicy: obj.spec.deletionPolicy ?? 'Orphan',
      ...(ctx.clusterId ? { clusterId: ctx.clusterId } : {}),
    }),
  };
  return async (signal): Promise<BuildResult> => {
    const started = state.clock();
    const timeout = AbortSignal.timeout(state.buildTimeoutMs);
    const ended = () => ({
      hash: inputs.hash,
      durationMs: state.clock() - started,
      finishedAt: state.clock(),
    });
    try {
      const out = await buildClient.build(ctx.conn.stream, {
        context: inputs.context,
        ...(inputs.remote ? { remote: inputs.remote } : {}),
        tag: work.tag,
        dockerfile: inputs.dockerfile,
        ...(obj.spec.target ? { target: obj.spec.target } : {}),
        ...(obj.spec.platform ? { platform: obj.spec.platform } : {}),
        buildArgs: inputs.buildArgs,
        labels,
        secrets: inputs.secrets,
        credentials: new Map(),
        redact: inputs.redact,
        logChars: MAX_BUILD_LOG_CHARS,
        signal: AbortSignal.any([signal, timeout]),
      });
      state.metrics.built(ctx.host.metadata.name, 'success', (state.clock() - started) / 1000);
      return { ok: true, imageId: out.imageId, log: out.log, ...ended() };
    } catch (err) {
      const e = err instanceof BuildError ? err : undefined;
      const message =
        timeout.aborted && !signal.aborted
          ? `not finished after ${state.buildTimeoutMs / 1000}s`
          : (e?.message ?? String(err));
      state.metrics.built(ctx.host.metadata.name, Reason.BuildFailed, (state.clock() - started) / 1000);
      return { ok: false, reason: Reason.BuildFailed, message, log: e?.log ?? '', ...ended() };
    }
  };
}

/** Pushes (and signs) the current image to the destinations that lack it, in the background. */
function startPush(state: BuildKindState, run: BuildFlowRun): void {
  const { ctx, work } = run;
  const hash = work.inputs?.ok ? work.inputs.hash : undefined;
  if (!hash || !work.local) return;
  ctx.logger.info({ image: work.tag, destinations: work.push.pending.map((t) => t.image) }, 'pushing image');
  startPushJob({
    deps: state.pushDeps,
    owner: pushOwnerOf(ctx, work.hostKey),
    ownerKey: work.ownerKey,
    hash,
    imageId: work.local.id,
    push: work.push,
  });
}

/** An Event about the owner, worded from the run. */
const event =
  (type: EventType, reason: Reason | EventReason, action: string, message: (run: BuildFlowRun) => string) =>
  (run: BuildFlowRun) =>
    run.ctx.events.event(run.ctx.obj, type, reason, action, message(run));

/** The kind's effects, acting with the kind instance's builds. */
export function buildEffects(state: BuildKindState): BuildEffects {
  return {
    startBuild: (run) => {
      const { ctx, work } = run;
      if (!work.inputs?.ok) return;
      ctx.logger.info({ image: work.tag, buildHash: work.inputs.hash }, 'building image');
      state.jobs.start({
        key: work.hostKey,
        ownerKey: work.ownerKey,
        hash: work.inputs.hash,
        run: buildRun({ state, ctx, work }),
      });
      event('Normal', EventReason.Building, 'Build', ({ work: w }) =>
        buildMessages.building(w.tag, ctx.host.metadata.name),
      )(run);
    },
    recordBuilt: event('Normal', EventReason.Built, 'Build', ({ ctx, work }) =>
      buildMessages.built({ tag: work.tag, host: ctx.host.metadata.name, result: work.finished }),
    ),
    recordBuildFailed: (run) => {
      const e = run.event;
      const failure =
        e.type === 'BUILD_FAILED'
          ? { reason: e.reason, message: e.message }
          : e.type === 'OBSERVED'
            ? e.inputsFailure
            : undefined;
      if (!failure) return;
      event('Warning', failure.reason, 'Build', ({ ctx }) =>
        buildMessages.failedEvent(ctx.host.metadata.name, failure),
      )(run);
    },
    recordDriftRepaired: (run) => {
      run.ctx.metrics.driftRepaired(BUILD_KIND);
      event('Normal', EventReason.DriftRepaired, 'Build', ({ ctx, work }) =>
        buildMessages.drift(work.tag, ctx.host.metadata.name),
      )(run);
    },
    recordPolicyViolation: event(
      'Warning',
      Reason.PolicyViolation,
      'Build',
      ({ work }) => work.violation ?? '',
    ),
    recordNameConflict: event('Warning', Reason.NameConflict, 'Build', ({ ctx, work }) =>
      buildMessages.nameConflict(work.tag, ctx.host.metadata.name),
    ),
    startPush: (run) => startPush(state, run),
    recordPushed: event('Normal', EventReason.Pushed, 'Push', ({ ctx, work }) =>
      pushedEventMessage(ctx, work.push),
    ),
    recordPushFailed: (run) => {
      const e = run.event;
      if (e.type !== 'PUSH_FAILED') return;
      event('Warning', e.reason, 'Push', ({ ctx }) => buildMessages.failedEvent(ctx.host.metadata.name, e))(
        run,
      );
    },
  };
}
