// The fleet grid: one row per DockerHost, with what is placed on it and what
// happened there. Pure: rows from the cached objects.

import type { CoreV1Event } from '@kubernetes/client-node';
import type { DockerHost } from '../../crds/dockerhost.js';
import { conditionCell, type DockyardObject } from './cells.js';
import type { HostConnection, HostRow } from './types.js';

/** Per-host phases that say the object's state there is not known now. */
const UNKNOWN_PHASES = new Set(['HostNotReady', 'AgentDisconnected']);
/** Per-host phases (the kinds' machine states) of an object that is as asked there. */
const SETTLED_PHASES = new Set(['Ready', 'Running', 'Healthy', 'Stopped', 'Completed']);
const REFUSED_PHASE = 'PolicyViolation';
const DRIFT_REPAIRED = 'DriftRepaired';

export interface FleetInput {
  hosts: readonly DockerHost[];
  /** Every placed kind's objects (those with status.hosts). */
  placed: readonly DockyardObject[];
  events: readonly CoreV1Event[];
}

interface Tally {
  total: number;
  ready: number;
  notReady: number;
  unknown: number;
  refused: number;
}

function emptyTally(): Tally {
  return { total: 0, ready: 0, notReady: 0, unknown: 0, refused: 0 };
}

/** What is placed on each host, from the objects' per-host entries. */
function tallyByHost(objects: readonly DockyardObject[]): Map<string, Tally> {
  const byHost = new Map<string, Tally>();
  for (const obj of objects) {
    for (const entry of obj.status?.hosts ?? []) {
      const t = byHost.get(entry.name) ?? emptyTally();
      t.total++;
      if (entry.phase === REFUSED_PHASE) t.refused++;
      if (UNKNOWN_PHASES.has(entry.phase)) t.unknown++;
      else if (SETTLED_PHASES.has(entry.phase)) t.ready++;
      else t.notReady++;
      byHost.set(entry.name, t);
    }
  }
  return byHost;
}

/** DriftRepaired Events per related host (an aggregated Event counts its occurrences). */
function repairsByHost(events: readonly CoreV1Event[]): Map<string, number> {
  const byHost = new Map<string, number>();
  for (const e of events) {
    if (e.reason !== DRIFT_REPAIRED || e.related?.kind !== 'DockerHost' || !e.related.name) continue;
    const count = e.series?.count ?? e.count ?? 1;
    byHost.set(e.related.name, (byHost.get(e.related.name) ?? 0) + Math.max(1, count));
  }
  return byHost;
}

function connectionOf(host: DockerHost): HostConnection {
  const ready = conditionCell(host.status, 'Ready');
  if (ready.status === 'True') return 'connected';
  if (host.status?.phase === 'Pending' || ready.reason === undefined) return 'pending';
  return 'disconnected';
}

function hostRow(host: DockerHost, tally: Tally, repairs: number): HostRow {
  const status = host.status;
  const ready = conditionCell(status, 'Ready');
  const connection = connectionOf(host);
  const agent = status?.agent;
  const lastSeen = agent?.lastSeenTime ?? status?.lastHeartbeatTime;
  return {
    key: host.metadata.name,
    name: host.metadata.name,
    ...(status?.connection ? { mode: status.connection } : {}),
    connection,
    ready,
    ...(lastSeen ? { lastSeen } : {}),
    ...(connection === 'disconnected' && ready.since ? { unknownSince: ready.since } : {}),
    ...(status?.engine?.version ? { engineVersion: status.engine.version } : {}),
    policy: host.spec.securityPolicy ?? 'baseline',
    ...(status?.containers ? { containers: status.containers } : {}),
    placed: { total: tally.total, ready: tally.ready, notReady: tally.notReady, unknown: tally.unknown },
    driftRepairs: repairs,
    policyRefusals: tally.refused,
    ...(agent
      ? {
          agent: {
            ...(agent.version ? { version: agent.version } : {}),
            ...(agent.connectedSince ? { connectedSince: agent.connectedSince } : {}),
            ...(agent.reconnects !== undefined ? { reconnects: agent.reconnects } : {}),
            ...(agent.roundTripMilliseconds !== undefined
              ? { roundTripMs: agent.roundTripMilliseconds }
              : {}),
          },
        }
      : {}),
    unschedulable: host.spec.unschedulable === true || host.spec.drain === true,
  };
}

/** The fleet grid's rows, by host name. */
export function fleetRows(input: FleetInput): HostRow[] {
  const tallies = tallyByHost(input.placed);
  const repairs = repairsByHost(input.events);
  return [...input.hosts]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((h) => hostRow(h, tallies.get(h.metadata.name) ?? emptyTally(), repairs.get(h.metadata.name) ?? 0));
}
