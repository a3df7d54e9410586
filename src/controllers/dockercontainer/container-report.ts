import type { DockerContainerStatus } from '../../crds/dockercontainer.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import { machineEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { ownership } from '../../managed/ownership.js';
import type { HostOutcome } from '../../managed/types.js';
import { waitingOutcome } from './background-ops.js';
import { READY_PHASES, type ContainerMachineContext } from './container-machine.js';
import {
  containerConflictMessage,
  eventMessages,
  statusMessages,
  waitingMessage,
} from './container-messages.js';
import { ownerOf } from './container-owner.js';
import type { ContainerKindState, ContainerRun, ContainerWork } from './container-work.js';
import { heldMessage, withHeldOn } from './dependencies.js';
import { rerunRequestOf, withRerun } from './run-once.js';

/** This kind's status.hosts[] entry, as its CRD declares it. */
export type ContainerHostEntry = NonNullable<DockerContainerStatus['hosts']>[number];

/** Requeue backoff while crash-looping: Docker restarts it; we only look, and ever less often. */
export function crashBackoffMs(crashes: number): number {
  return Math.min(300_000, 5_000 * 2 ** Math.min(Math.max(crashes - 1, 0), 6));
}

/** Status facts of the container on this host. */
export function observedFields(o: ObservedContainer | undefined): Partial<ContainerHostEntry> {
  if (!o) return {};
  const ips = Object.fromEntries(
    Object.entries(o.networks).flatMap(([n, e]) => (e.ipAddress ? [[n, e.ipAddress]] : [])),
  );
  return {
    id: o.id,
    containerName: o.name,
    state: o.state.status,
    ...(o.state.health ? { health: o.state.health } : {}),
    restartCount: o.state.restartCount,
    ...(o.state.startedAt && !o.state.startedAt.startsWith('0001-')
      ? { startedAt: o.state.startedAt.replace(/\.\d+Z$/, 'Z') }
      : {}),
    ...(o.state.running ? {} : { exitCode: o.state.exitCode }),
    ...(!o.state.running && o.state.finishedAt && !o.state.finishedAt.startsWith('0001-')
      ? { finishedAt: o.state.finishedAt.replace(/\.\d+Z$/, 'Z') }
      : {}),
    imageId: o.imageId,
    ...(Object.keys(ips).length > 0 ? { ipAddresses: ips } : {}),
  };
}

/**
 * The DependencyNotReady Event, said once per change of what the container
 * does without (not on every look); returns the machine state that remembers it.
 */
function announceHeld(
  state: ContainerKindState,
  run: ContainerRun,
): SavedMachineState<ContainerMachineContext> {
  const { ctx, work, step } = run;
  const { held } = work.resolved;
  const key = `${ctx.obj.metadata.uid ?? work.name}@${work.hostName}`;
  const t = state.announced.transition(key, work.heldOnBefore, held);
  if (t.announce && held)
    ctx.events.event(
      ctx.obj,
      'Normal',
      EventReason.DependencyNotReady,
      'Observe',
      eventMessages.held(work.name, work.hostName, held),
    );
  return { ...step.saved, context: withHeldOn(step.saved.context, t.heldOn) };
}

/** Maps the phase to what the managed reconciler aggregates: ready, retrying (failure) or stalled. */
function phaseOutcome(
  entry: ContainerHostEntry,
  work: ContainerWork,
  after: { crashes: number; recheck: boolean },
): HostOutcome {
  const { crashes } = after;
  const withMessage = (message: string) => ({ ...entry, message });
  const found = work.observed;
  switch (entry.phase) {
    case 'PolicyViolation':
      return {
        entry: withMessage(work.violations),
        ready: false,
        stalled: { reason: Reason.PolicyViolation, message: work.violations },
      };
    case 'NameConflict': {
      // The name we asked for (entry.containerName is only set for a container of ours).
      const message = containerConflictMessage(work.name, entry.name, work.claim?.refusal);
      return { entry: withMessage(message), ready: false, stalled: { reason: Reason.NameConflict, message } };
    }
    case 'Failed': {
      const message = statusMessages.failed(found);
      const logs = work.lastLogLines !== undefined ? { lastLogLines: work.lastLogLines } : {};
      return {
        entry: { ...withMessage(message), ...logs },
        ready: false,
        stalled: { reason: Reason.Failed, message },
      };
    }
    case 'WaitingForDependencies':
      return waitingForDependencies(entry, work);
    case 'Completed':
      return { entry: withMessage(statusMessages.completed), ready: true };
    case 'CrashLoopBackOff': {
      const message = statusMessages.crashLoop(found);
      return {
        entry: withMessage(message),
        ready: false,
        failure: { reason: Reason.CrashLoopBackOff, message },
        requeueAfterMs: crashBackoffMs(crashes),
      };
    }
    case 'Unhealthy': {
      const message = statusMessages.unhealthy;
      return {
        entry: withMessage(message),
        ready: false,
        failure: { reason: Reason.Unhealthy, message },
        requeueAfterMs: 2_000,
      };
    }
    case 'Paused':
      return { entry: withMessage(statusMessages.paused), ready: found?.state.running ?? false };
    default:
      if (READY_PHASES.has(entry.phase))
        return { entry, ready: true, ...(after.recheck ? { requeueAfterMs: 1_000 } : {}) };
      return { entry, ready: false, requeueAfterMs: 1_000 };
  }
}

/**
 * A missing Secret or ConfigMap says so; dependencies not ready yet are
 * DependenciesNotReady; a dependsOn cycle never resolves by itself: stalled.
 */
function waitingForDependencies(entry: ContainerHostEntry, work: ContainerWork): HostOutcome {
  const { env, missing, cycle } = work.resolved;
  if (cycle) {
    const message = statusMessages.cycle(cycle);
    return {
      entry: { ...entry, message },
      ready: false,
      stalled: { reason: Reason.DependencyCycle, message },
    };
  }
  const message = waitingMessage(missing, env);
  const reason = env && !env.ok ? env.reason : Reason.DependenciesNotReady;
  return { entry: { ...entry, message }, ready: false, failure: { reason, message } };
}

/** Docker is removing it outside Dockyard: put back once gone (its destroy event brings the next look). */
function removingOutcome(entry: ContainerHostEntry, name: string): HostOutcome {
  const message = statusMessages.removing(name);
  return {
    entry: { ...entry, message },
    ready: false,
    failure: { reason: Reason.RemovedOutOfBand, message },
    requeueAfterMs: 500,
  };
}

/** The host's status entry and outcome, once the flow has acted. */
export function reportContainer(state: ContainerKindState, run: ContainerRun): HostOutcome {
  const { ctx, work } = run;
  const announced = announceHeld(state, run);
  // Every look remembers the rerun value it saw (run-once.ts); paused, nothing was honoured.
  const saved = ctx.paused
    ? announced
    : { ...announced, context: withRerun(announced.context, rerunRequestOf(ctx.obj)) };
  const { observed } = work;
  const { held } = work.resolved;
  const entry: ContainerHostEntry = {
    name: work.hostName,
    phase: saved.state,
    ...observedFields(
      observed && ownership(observed.labels, ownerOf(ctx.obj)) === 'ours' ? observed : undefined,
    ),
    ...(held ? { message: heldMessage(held) } : {}),
    ...(work.imagePin ? { imagePin: work.imagePin } : {}),
    machine: machineEntry(saved),
  };
  if (work.situation.type === 'REMOVING') return removingOutcome(entry, work.name);
  if (work.background) return waitingOutcome(entry, work.background);
  // Just created or started: a container that exits within a second must not
  // look Ready for a whole poll interval. Docker's die event says so when the
  // host's event stream is followed; otherwise look again in a second.
  const recheck = work.acted && ctx.eventsFollowed !== true;
  return phaseOutcome(entry, work, { crashes: saved.context.crashes, recheck });
}
