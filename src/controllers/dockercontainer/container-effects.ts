import type { DockerContainer } from '../../crds/dockercontainer.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import {
  ContainerNameConflict,
  containerClient,
  type ObservedContainer,
} from '../../docker/container-client.js';
import {
  inheritedVolumes,
  networkChanges,
  recreateReasons,
  stopTimeoutSeconds,
  updateNeeded,
  type InheritedVolume,
} from '../../docker/container-spec.js';
import { FILES_HASH_LABEL, removeUnusedFilesImages } from '../../docker/files-image.js';
import type { EffectResult } from '../../managed/host-flow.js';
import { ownership } from '../../managed/ownership.js';
import type { HostContext } from '../../managed/types.js';
import type { ContainerEvent } from './container-machine.js';
import { applyNetworkChanges, createAndConnect, startOrDiscard } from './container-docker.js';
import {
  containerConflictMessage,
  eventMessages as say,
  statusMessages,
  waitingMessage,
} from './container-messages.js';
import { containerFacts } from './container-observe.js';
import { OWNER_KIND, ownerOf } from './container-owner.js';
import {
  creatable,
  type ContainerEffects,
  type ContainerKindState,
  type ContainerRun,
  type ContainerWork,
} from './container-work.js';
import type { Note } from './background-ops.js';
import { replaceContainer, ReplaceFailed, type ReplaceOutcome } from './replace.js';
import { rerunRequestOf } from './run-once.js';
import { classify } from './situation.js';

/** Records an Event on the container resource. */
function noteOn(ctx: HostContext<DockerContainer>): Note {
  return (type, reason, action, message) => ctx.events.event(ctx.obj, type, reason, action, message);
}

/** An effect that only records an Event, worded from what the flow knows. */
const event =
  (
    type: 'Normal' | 'Warning',
    reason: Reason | EventReason,
    action: string,
    message: (work: ContainerWork, run: ContainerRun) => string,
  ) =>
  (run: ContainerRun) =>
    noteOn(run.ctx)(type, reason, action, message(run.work, run));

/**
 * Waiting: a Warning when it never ends by itself (a dependsOn cycle) or
 * waits for the host's administrator (an unreadable seccomp profile), else a
 * Normal Event.
 */
function recordWaiting({ ctx, work }: ContainerRun): void {
  const { cycle, missing, env } = work.resolved;
  if (cycle) noteOn(ctx)('Warning', Reason.DependencyCycle, 'Create', statusMessages.cycle(cycle));
  else if (env?.ok === false && env.reason === Reason.SeccompProfileUnavailable)
    noteOn(ctx)('Warning', env.reason, 'Create', env.message);
  else noteOn(ctx)('Normal', EventReason.WaitingForDependencies, 'Create', waitingMessage(missing, env));
}

/** `namespace/name`: the key the background operations enqueue when they end. */
const ownerKey = (ctx: HostContext<DockerContainer>) => `${ctx.namespace}/${ctx.obj.metadata.name}`;

/** In the background (background-ops.ts): Pulling until it ends, which enqueues us again. */
function pull(state: ContainerKindState, { ctx, work }: ContainerRun): void {
  const { inputs } = work.resolved;
  if (!inputs) return;
  work.background = state.ops.pull({
    host: work.hostName,
    image: inputs.image,
    owner: { uid: ownerOf(ctx.obj).uid, key: ownerKey(ctx) },
    conn: ctx.conn,
    access: state.imageAccess,
    signal: ctx.signal,
    note: noteOn(ctx),
  });
}

async function create({ ctx, work }: ContainerRun): Promise<EffectResult<ContainerEvent>> {
  const target = creatable(work);
  if (!target) return;
  try {
    work.id = await createAndConnect(ctx.conn.api, { spec: work.spec, ...target });
    // Its create event is ours: the look after acting covers it (event-coverage.ts).
    ctx.coverage?.acted(work.id, 'create');
  } catch (err) {
    if (!(err instanceof ContainerNameConflict)) throw err;
    work.nameTaken = true;
  }
  work.acted = true;
  return work.nameTaken ? nameTakenMeanwhile({ ctx, work }) : undefined;
}

/**
 * Created meanwhile by someone else: the same NameConflict a fresh look
 * finds. Nothing queued runs any more; a container that turns out ours (or
 * gone) is left to the next reconcile.
 */
async function nameTakenMeanwhile({
  ctx,
  work,
}: Pick<ContainerRun, 'ctx' | 'work'>): Promise<EffectResult<ContainerEvent>> {
  work.observed = await containerClient.observe(ctx.conn.api, work.name);
  const theirs = work.observed ? ownership(work.observed.labels, ownerOf(ctx.obj)) : 'ours';
  if (!work.observed || theirs === 'ours') return { dropRest: true };
  const container = containerFacts(work.observed, { ownership: theirs, upToDate: false, now: ctx.now });
  return { send: classify({ ...work.facts, container }), dropRest: true };
}

/** Stops the old container through ContainerOps, as the Stopped path's stop does (replace.ts). */
function replaceOld(
  state: ContainerKindState,
  { ctx, work }: ContainerRun,
  replace: { old: ObservedContainer; createNew: (inherit: readonly InheritedVolume[]) => Promise<string> },
): Promise<ReplaceOutcome> {
  const { old, createNew } = replace;
  const uid = ownerOf(ctx.obj).uid;
  const note = noteOn(ctx);
  return replaceContainer({
    api: ctx.conn.api,
    old,
    name: work.name,
    owner: ownerOf(ctx.obj),
    // What it was before this recreate began, kept across the reconciles its stop spans.
    before: state.ops.recreates.begin(work.hostName, uid, old),
    stop: () =>
      state.ops.stop({
        host: work.hostName,
        id: old.id,
        name: work.name,
        purpose: 'to recreate it',
        graceSeconds: stopTimeoutSeconds(work.spec),
        ownerKey: ownerKey(ctx),
        stream: ctx.conn.stream,
        signal: ctx.signal,
        onEnded: (r) => {
          if (!r.ok) note('Warning', EventReason.StopFailed, 'Stop', say.onHost(work.hostName, r.message));
        },
      }),
    start: work.facts.desired === 'Running',
    create: createNew,
    inherit: inheritedVolumes(work.spec, old),
  });
}

/** Replaces ours by a container created from the spec (or creates one where ours went missing). */
async function recreate(state: ContainerKindState, run: ContainerRun): Promise<void> {
  const { ctx, work } = run;
  const target = creatable(work);
  if (!target) return;
  const { ours, hostName } = work;
  const note = noteOn(ctx);
  const reasons = ours ? recreateReasons(work.spec, target.inputs, ours) : ['spec changed'];
  const createNew = (inherit: readonly InheritedVolume[]) =>
    createAndConnect(ctx.conn.api, { spec: work.spec, ...target, inherit });
  let replaced: ReplaceOutcome;
  try {
    replaced = ours
      ? await replaceOld(state, run, { old: ours, createNew })
      : { state: 'replaced', id: await createNew([]) };
  } catch (err) {
    if (err instanceof ReplaceFailed) {
      // Put back as it was before: nothing left to remember.
      if (ours) state.ops.recreates.forget(hostName, ours.id);
      note('Warning', EventReason.RecreateFailed, 'Recreate', err.message);
    }
    throw err;
  }
  if (replaced.state === 'stopping') {
    // Its stop goes on off the worker; its end enqueues us, and that reconcile goes on.
    work.background = {
      phase: 'Stopping',
      message: replaced.message,
      requeueAfterMs: replaced.requeueAfterMs,
    };
    if (replaced.started)
      note('Normal', EventReason.Stopping, 'Recreate', say.stoppingToRecreate(replaced.message, hostName));
    return;
  }
  if (ours) state.ops.recreates.forget(hostName, ours.id);
  work.id = replaced.id;
  if (work.claim?.adopting) note('Normal', EventReason.Adopted, 'Adopt', say.adopted(work.name, hostName));
  else note('Normal', EventReason.Recreated, 'Recreate', say.recreated(work.name, hostName, reasons));
  work.acted = true;
  if (ours?.labels[FILES_HASH_LABEL] !== undefined) await dropOldFilesImages(ctx);
}

/**
 * After a recreate of a container with files: its old files image goes once
 * no container uses it. Best effort: the container is replaced already; one
 * left behind goes at the next recreate or the deletion.
 */
async function dropOldFilesImages(ctx: HostContext<DockerContainer>): Promise<void> {
  try {
    await removeUnusedFilesImages(ctx.conn.api, ownerOf(ctx.obj).uid);
  } catch {
    // Nothing to undo; the next recreate or the deletion tries again.
  }
}

async function start({ ctx, work }: ContainerRun): Promise<void> {
  if (!work.resolved.inputs) return;
  if (work.id) {
    await startOrDiscard(ctx.conn.api, work.id, (message) =>
      noteOn(ctx)('Warning', EventReason.Recreated, 'Start', message),
    );
    ctx.coverage?.acted(work.id, 'start');
  }
  work.acted = true;
}

/** In place: restart policy and resources. */
async function update({ ctx, work }: ContainerRun): Promise<void> {
  if (!work.resolved.inputs) return;
  const body = work.ours ? updateNeeded(work.spec, work.ours) : undefined;
  if (work.ours && body) await containerClient.update(ctx.conn.api, work.ours.id, body);
  work.acted = true;
}

async function reconnect({ ctx, work }: ContainerRun): Promise<void> {
  const { inputs } = work.resolved;
  if (!inputs) return;
  if (work.ours)
    await applyNetworkChanges(ctx.conn.api, work.ours.id, networkChanges(work.spec, inputs, work.ours));
  work.acted = true;
}

/** spec.state Stopped: a long grace period is waited out in the background (background-ops.ts). */
async function stop(state: ContainerKindState, { ctx, work }: ContainerRun): Promise<void> {
  const { ours, name, hostName } = work;
  const note = noteOn(ctx);
  if (ours) {
    const stopped = await state.ops.stop({
      host: hostName,
      id: ours.id,
      name,
      graceSeconds: stopTimeoutSeconds(work.spec),
      ownerKey: ownerKey(ctx),
      stream: ctx.conn.stream,
      signal: ctx.signal,
      onEnded: (r) =>
        r.ok
          ? note('Normal', EventReason.Stopped, 'Stop', say.stopped(name, hostName))
          : note('Warning', EventReason.StopFailed, 'Stop', say.onHost(hostName, r.message)),
    });
    if (stopped.state === 'failed') throw new Error(stopped.message);
    if (stopped.state === 'stopping') {
      work.background = {
        phase: 'Stopping',
        message: stopped.message,
        requeueAfterMs: stopped.requeueAfterMs,
      };
      work.stopStarted = stopped.started;
    }
  }
  work.acted = true;
}

/** Still stopping: the Stopped Event comes when it ends (the stop's onEnded). */
function recordStopped({ ctx, work }: ContainerRun): void {
  const note = noteOn(ctx);
  if (!work.background) note('Normal', EventReason.Stopped, 'Stop', say.stopped(work.name, work.hostName));
  else if (work.stopStarted)
    note('Normal', EventReason.Stopping, 'Stop', say.stopping(work.background.message, work.hostName));
}

function recordDriftRepaired(run: ContainerRun): void {
  run.ctx.metrics.driftRepaired(OWNER_KIND);
  event('Normal', EventReason.DriftRepaired, 'Start', (w) =>
    say.driftRepaired(w.name, w.hostName, w.observed),
  )(run);
}

/**
 * Also after a create that lost the name to a container not ours
 * (nameTakenMeanwhile): the machine enters NameConflict once, so this is the
 * only Warning the user gets (the loop before the flow skipped it).
 */
function recordNameConflict(run: ContainerRun): void {
  event('Warning', Reason.NameConflict, 'Create', (w) =>
    containerConflictMessage(w.name, w.hostName, w.claim?.refusal),
  )(run);
}

/** Every effect the container machine names, with what it does. */
export function containerEffects(state: ContainerKindState): ContainerEffects {
  return {
    pull: (run) => pull(state, run),
    create,
    recreate: (run) => recreate(state, run),
    start,
    update,
    reconnect,
    stop: (run) => stop(state, run),
    recordCreated: event('Normal', EventReason.Created, 'Create', (w) => say.created(w.name, w.hostName)),
    recordDriftRepaired,
    // The recreate itself says Recreated or Adopted: which one, and why, only it knows.
    recordRecreated: () => undefined,
    recordUpdated: event('Normal', EventReason.Updated, 'Update', (w) => say.updated(w.name, w.hostName)),
    recordStopped,
    recordOOMKilled: event('Warning', EventReason.OOMKilled, 'Start', (w, run) =>
      say.oomKilled(w.name, w.hostName, {
        found: w.observed,
        retries: run.step.saved.context.retries,
        maxRetries: w.spec.restartPolicy?.maximumRetryCount,
      }),
    ),
    recordHealthy: event('Normal', EventReason.Healthy, 'Observe', (w) => say.healthy(w.name, w.hostName)),
    recordUnhealthy: event('Warning', Reason.Unhealthy, 'Observe', (w) => say.unhealthy(w.name, w.hostName)),
    recordBackOff: event('Warning', EventReason.BackOff, 'Observe', (w) =>
      say.backOff(w.name, w.hostName, w.observed),
    ),
    recordFailed: event('Warning', Reason.Failed, 'Observe', (w) =>
      say.failed(w.name, w.hostName, w.observed),
    ),
    recordCompleted: event('Normal', EventReason.Completed, 'Observe', (w) =>
      say.completed(w.name, w.hostName),
    ),
    recordRerun: event('Normal', EventReason.Rerun, 'Start', (w, run) =>
      say.rerun(w.name, w.hostName, rerunRequestOf(run.ctx.obj)),
    ),
    recordPolicyViolation: event('Warning', Reason.PolicyViolation, 'Create', (w) => w.violations),
    recordNameConflict,
    recordWaiting,
  };
}
