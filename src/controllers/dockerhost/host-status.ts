import type { AgentStatus, ConnectionMode, DockerHostSpec, DockerHostStatus } from '../../crds/dockerhost.js';
import { Reason, type HostFailureReason } from '../../crds/reasons.js';
import type { HostFacts } from '../../docker/host-probe.js';
import { jsonEqual } from '../../runtime/json-merge.js';
import { formatTime, markReady, markRetrying } from '../../runtime/conditions.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { HOST_MACHINE_VERSION, type HostMachineContext } from './host-machine.js';

/** How often lastHeartbeatTime is refreshed in status when nothing else changed (like a Node's status report). */
export const HEARTBEAT_REPORT_MS = 5 * 60_000;

/**
 * How often changed container counts alone are written. While a fleet
 * converges every host's counts move at every heartbeat: written each time,
 * 1,000 hosts at a 10 s heartbeat cost 100 status writes a second, taken
 * from the objects whose status the rollout waits on. Counts still ride
 * along with any other change at once.
 */
export const CONTAINER_COUNTS_REPORT_MS = 60_000;

export type HostObservationResult =
  | { ok: true; facts: HostFacts }
  | {
      ok: false;
      reason: HostFailureReason | typeof Reason.SecretNotFound;
      message: string;
    };

export interface HostStatusInput {
  generation: number | undefined;
  /** spec.endpoint, or how an agent-connected host is reached (for messages). */
  endpoint: string;
  connection: ConnectionMode;
  /** For a host with spec.agent: its tunnel, as the hub sees it now. */
  agent?: AgentStatus;
  observation: HostObservationResult;
  /** The machine's decision (only the state it reached is reported). */
  step: { saved: SavedMachineState<HostMachineContext> };
  warnings: string[];
  now: Date;
}

/**
 * The DockerHost's next status. Pure. Writes are avoided when nothing
 * changed: the heartbeat time only moves when something else changes or it is
 * older than HEARTBEAT_REPORT_MS, so an idle healthy host costs no API writes.
 */
export function nextHostStatus(prev: DockerHostStatus | undefined, input: HostStatusInput): DockerHostStatus {
  const { observation: obs, now } = input;
  const detail = (reason: string, message: string) => ({
    reason,
    message,
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
  });
  // A failure the machine tolerates (the host stays Ready until the next
  // probe confirms it) leaves the conditions as they were.
  const tolerated = !obs.ok && input.step.saved.state === 'Ready' && prev?.conditions !== undefined;
  const next: DockerHostStatus = {
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    conditions: tolerated
      ? (prev?.conditions ?? [])
      : obs.ok
        ? markReady(
            prev?.conditions,
            detail(
              Reason.Connected,
              `Docker ${obs.facts.engine.version ?? '(unknown version)'} reachable at ${input.endpoint}`,
            ),
            now,
          )
        : markRetrying(prev?.conditions, detail(obs.reason, `${input.endpoint}: ${obs.message}`), now),
    phase: input.step.saved.state as NonNullable<DockerHostStatus['phase']>,
    machine: {
      state: input.step.saved.state,
      version: HOST_MACHINE_VERSION,
      context: { ...input.step.saved.context },
    },
    endpoint: input.endpoint,
    connection: input.connection,
  };
  // Engine facts survive an outage: the last known version is still useful.
  const engine = obs.ok ? obs.facts.engine : prev?.engine;
  if (engine) next.engine = engine;
  const containers = obs.ok ? obs.facts.containers : prev?.containers;
  const reported = prev?.containers ?? containers;
  if (reported) next.containers = reported;
  if (input.warnings.length > 0) next.warnings = input.warnings;
  // Written by the managed reconcilers and the orphan sweep, never here: carrying it
  // over keeps it out of the merge patch, so even a write from a stale cache keeps
  // the server's list.
  if (prev?.releasedOwners) next.releasedOwners = prev.releasedOwners;
  if (prev?.adoptedObjects) next.adoptedObjects = prev.adoptedObjects;
  if (prev?.lastHeartbeatTime) next.lastHeartbeatTime = prev.lastHeartbeatTime;
  // The agent's last-seen time and round trip move every heartbeat: like the
  // heartbeat time they are written only with another change or once stale,
  // except that a disconnected agent's last-seen time is always the true one.
  if (input.agent) next.agent = withSteadyAgentFields(input.agent, prev?.agent);
  const last = prev?.lastHeartbeatTime ? Date.parse(prev.lastHeartbeatTime) : Number.NaN;
  const since = Number.isNaN(last) ? Number.POSITIVE_INFINITY : now.getTime() - last;
  // Counts are reported with the last heartbeat time: fresh ones go out with
  // another change, or alone once CONTAINER_COUNTS_REPORT_MS has passed.
  const countsDue = since >= CONTAINER_COUNTS_REPORT_MS && !jsonEqual(reported, containers);
  if (containers && (countsDue || !jsonEqual(prev ?? {}, next))) next.containers = containers;
  const stale = since >= HEARTBEAT_REPORT_MS;
  if (obs.ok && (stale || !jsonEqual(prev ?? {}, next))) {
    next.lastHeartbeatTime = formatTime(now);
    if (input.agent) next.agent = input.agent;
  }
  return next;
}

/** The agent status with last heartbeat's moving fields where it had them, while connected. */
function withSteadyAgentFields(agent: AgentStatus, prev: AgentStatus | undefined): AgentStatus {
  if (!agent.connected || !prev?.connected) return agent;
  const steady: AgentStatus = { ...agent };
  if (prev.lastSeenTime) steady.lastSeenTime = prev.lastSeenTime;
  if (prev.roundTripMilliseconds !== undefined) steady.roundTripMilliseconds = prev.roundTripMilliseconds;
  return steady;
}

/** How a DockerHost's spec reaches its daemon (the Mode printer column). */
export function connectionMode(spec: Pick<DockerHostSpec, 'endpoint' | 'agent' | 'tls'>): ConnectionMode {
  if (spec.agent) return 'agent';
  if (spec.endpoint?.startsWith('tcp://')) return spec.tls ? 'tcp+tls' : 'tcp';
  return 'unix';
}

/** When to look again: the heartbeat interval when healthy, a short backoff while failing. */
export function nextHeartbeatMs(intervalMs: number, ok: boolean, failures: number): number {
  if (ok) return intervalMs;
  return Math.min(intervalMs, 1000 * 2 ** Math.min(Math.max(failures - 1, 0), 10));
}

/** Warnings about how a host is configured, shown in status and as Warning Events. */
export function hostWarnings(spec: { endpoint?: string; insecure?: boolean; tls?: unknown }): string[] {
  if (spec.endpoint?.startsWith('tcp://') && spec.insecure && !spec.tls) {
    return [
      'spec.insecure: the daemon is reached over plain TCP without TLS; anyone on that network has root-equivalent access to it',
    ];
  }
  return [];
}
