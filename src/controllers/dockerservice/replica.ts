// A replica as the rollout counts it: one DockerContainer the service owns,
// read into a Replica (src/controllers/dockerservice/types.ts). Pure.
//
// Its state, checks in priority order (the first that holds wins):
//   Terminating  metadata.deletionTimestamp is set
//   HostDown     its DockerHost is missing or not Ready (not a failure of the revision)
//   Failed       its host entry reports a failed phase, is unhealthy, or has restarted and is
//                not Ready again, or the container is Stalled: a service replica is never
//                meant to exit, so a restart after an exit is a failure too
//   Available    Ready (at the current generation, with a host entry) for minReadySeconds
//   Starting     anything else (ready=true when Ready for less than minReadySeconds)
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import { getCondition, READY, STALLED, type Condition } from '../../runtime/conditions.js';
import { PLACEMENT_HASH_ANNOTATION, SERVICE_LABELS, SLOT_ANNOTATION, type Replica } from './types.js';

/**
 * Per-host phases of a DockerContainer written while its host was not Ready.
 * Until the container is observed again they are what the container last
 * knew of its host, not news about the replica: it counts as HostDown, never
 * as a replica that is merely not Available (which a rollout replaces freely).
 */
const HOST_DOWN_PHASES: ReadonlySet<string> = new Set([Reason.HostNotReady, Reason.AgentDisconnected]);

/** Per-host phases of a DockerContainer that are a failure of the replica. */
const FAILED_REPLICA_PHASES: ReadonlySet<string> = new Set([
  Reason.CrashLoopBackOff,
  Reason.Unhealthy,
  Reason.Failed,
  // A run to completion that exited 0: a service replica is never meant to finish.
  EventReason.Completed,
  Reason.PolicyViolation,
  Reason.NameConflict,
  Reason.UnsupportedByEngine,
  Reason.InvalidName,
  Reason.DependencyCycle,
]);

/** Failure texts are for status messages: short. */
const MAX_FAILURE_LENGTH = 300;

type HostEntry = NonNullable<NonNullable<DockerContainer['status']>['hosts']>[number];

/** A metav1.Time as read from the API (a string despite client-node's Date typing), or undefined. */
export function timeOf(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function readyCondition(host: DockerHost | undefined): Condition | undefined {
  return getCondition(host?.status?.conditions, READY);
}

/** The DockerHost exists and its Ready condition is True. */
export function hostIsReady(host: DockerHost | undefined): boolean {
  return readyCondition(host)?.status === 'True';
}

/** When a host that is not Ready went so (its Ready condition's last transition); undefined when unknown or Ready. */
export function hostDownSince(host: DockerHost | undefined): Date | undefined {
  const ready = readyCondition(host);
  if (!ready || ready.status === 'True') return undefined;
  return timeOf(ready.lastTransitionTime);
}

/** The container's status is about its current spec (conditions of an older generation say nothing now). */
function isCurrent(container: DockerContainer): boolean {
  return container.status?.observedGeneration === container.metadata.generation;
}

/** Since when the container has been Ready at its current generation; undefined when it is not. */
export function readySince(container: DockerContainer): Date | undefined {
  if (!isCurrent(container)) return undefined;
  const ready = getCondition(container.status?.conditions, READY);
  if (ready?.status !== 'True') return undefined;
  return timeOf(ready.lastTransitionTime);
}

function shorten(text: string): string {
  return text.length <= MAX_FAILURE_LENGTH ? text : `${text.slice(0, MAX_FAILURE_LENGTH - 1)}…`;
}

/** Why the replica counts as failed, or undefined when it does not. */
export function failureOf(container: DockerContainer, entry: HostEntry | undefined): string | undefined {
  const withMessage = (what: string, message: string | undefined) =>
    shorten(message ? `${what}: ${message}` : what);
  if (entry && FAILED_REPLICA_PHASES.has(entry.phase)) return withMessage(entry.phase, entry.message);
  if (entry?.health === 'unhealthy') return withMessage('unhealthy', entry.message);
  // A restart is a failure while the container is down again; one that came
  // back and stays Ready is not (it counts from its new Ready time).
  const restarts = entry?.restartCount ?? 0;
  if (restarts > 0 && readySince(container) === undefined)
    return shorten(`restarted ${restarts} time${restarts === 1 ? '' : 's'}`);
  const stalled = getCondition(container.status?.conditions, STALLED);
  if (isCurrent(container) && stalled?.status === 'True')
    return withMessage(stalled.reason || STALLED, stalled.message);
  return undefined;
}

export interface ReplicaInput {
  container: DockerContainer;
  /** The DockerHost of this name, if it exists. */
  hostOf: (name: string) => DockerHost | undefined;
  /** updateStrategy.minReadySeconds. */
  minReadySeconds: number;
  now: Date;
}

type ReplicaStatus = Pick<Replica, 'state' | 'ready' | 'failure' | 'hostDownSince' | 'readySince'>;

function statusOf(input: ReplicaInput, hostName: string): ReplicaStatus {
  const { container, minReadySeconds, now } = input;
  if (container.metadata.deletionTimestamp) return { state: 'Terminating', ready: false };
  const host = input.hostOf(hostName);
  if (!hostIsReady(host)) {
    const since = hostDownSince(host);
    return { state: 'HostDown', ready: false, ...(since ? { hostDownSince: since } : {}) };
  }
  const entry = container.status?.hosts?.find((h) => h.name === hostName);
  if (entry && HOST_DOWN_PHASES.has(entry.phase)) return { state: 'HostDown', ready: false };
  const failure = failureOf(container, entry);
  if (failure !== undefined) return { state: 'Failed', ready: false, failure };
  const isReady =
    entry !== undefined &&
    isCurrent(container) &&
    getCondition(container.status?.conditions, READY)?.status === 'True';
  if (!isReady) return { state: 'Starting', ready: false };
  const since = readySince(container);
  // A Ready condition without a (readable) transition time has not been Ready long enough yet.
  const available = since !== undefined && now.getTime() - since.getTime() >= minReadySeconds * 1000;
  return {
    state: available ? 'Available' : 'Starting',
    ready: true,
    ...(since ? { readySince: since } : {}),
  };
}

/**
 * The Replica a DockerContainer of the service is, or undefined when it is not
 * one (no revision label, no slot annotation or no spec.hostName).
 */
export function replicaOf(input: ReplicaInput): Replica | undefined {
  const { metadata, spec } = input.container;
  const labels = metadata.labels ?? {};
  const revision = labels[SERVICE_LABELS.revision];
  const slot = metadata.annotations?.[SLOT_ANNOTATION];
  const host = spec.hostName;
  if (!revision || !slot || !host) return undefined;
  const placementHash = metadata.annotations?.[PLACEMENT_HASH_ANNOTATION];
  const createdAt = timeOf(metadata.creationTimestamp);
  return {
    name: metadata.name,
    slot,
    host,
    revision,
    ...statusOf(input, host),
    ...(placementHash !== undefined ? { placementHash } : {}),
    ...(createdAt ? { createdAt } : {}),
  };
}
