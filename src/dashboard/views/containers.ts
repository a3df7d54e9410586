// Every container across hosts: one row per DockerContainer and host, with a
// health column that names the failing container and why. Pure.

import type { DockerContainer } from '../../crds/dockercontainer.js';
import { conditionCell, controllerOwner } from './cells.js';
import type { ContainerRow } from './types.js';

type HostEntry = NonNullable<NonNullable<DockerContainer['status']>['hosts']>[number];

const FAILING_PHASES = new Set([
  'Unhealthy',
  'CrashLoopBackOff',
  'Failed',
  'PolicyViolation',
  'NameConflict',
]);
const UNKNOWN_PHASES = new Set(['HostNotReady', 'AgentDisconnected']);
const OK_PHASES = new Set(['Running', 'Healthy', 'Stopped', 'Completed']);

/** The health column: ok, failing with the container's name and the reason, or still on its way. */
function health(entry: HostEntry, name: string): Pick<ContainerRow, 'healthText' | 'healthy'> {
  const who = entry.containerName ?? name;
  const why = entry.message ? `: ${entry.message}` : '';
  if (entry.health === 'unhealthy' || entry.phase === 'Unhealthy')
    return { healthy: 'failing', healthText: `Unhealthy: ${who} on ${entry.name}${why}` };
  if (FAILING_PHASES.has(entry.phase))
    return { healthy: 'failing', healthText: `${entry.phase}: ${who} on ${entry.name}${why}` };
  if (UNKNOWN_PHASES.has(entry.phase)) return { healthy: 'unknown', healthText: `Unknown${why}` };
  if (OK_PHASES.has(entry.phase))
    return { healthy: 'ok', healthText: entry.health ? capitalise(entry.health) : entry.phase };
  return { healthy: 'pending', healthText: entry.phase };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function row(c: DockerContainer, entry: HostEntry): ContainerRow {
  const namespace = c.metadata.namespace ?? '';
  const owner = controllerOwner(c);
  const ready = conditionCell(c.status, 'Ready');
  return {
    key: `${namespace}/${c.metadata.name}/${entry.name}`,
    namespace,
    name: c.metadata.name,
    host: entry.name,
    ...(entry.containerName ? { containerName: entry.containerName } : {}),
    ...(owner ? { owner } : {}),
    image: typeof c.spec.image === 'string' ? c.spec.image : '',
    phase: entry.phase,
    ...(entry.state ? { state: entry.state } : {}),
    ...(entry.health ? { health: entry.health } : {}),
    ...health(entry, c.metadata.name),
    ready,
    ...(entry.restartCount !== undefined ? { restarts: entry.restartCount } : {}),
    ...(entry.message ? { message: entry.message } : {}),
    ...(UNKNOWN_PHASES.has(entry.phase) && entry.lastUpdateTime
      ? { unknownSince: entry.lastUpdateTime }
      : {}),
  };
}

/** A row per container and host; a DockerContainer not placed yet shows once, without a host. */
export function containerRows(containers: readonly DockerContainer[]): ContainerRow[] {
  const rows = containers.flatMap((c) => {
    const entries = c.status?.hosts ?? [];
    if (entries.length > 0) return entries.map((e) => row(c, e));
    return [row(c, { name: '', phase: c.status?.phase ?? 'Pending' })];
  });
  return rows.sort((a, b) => a.key.localeCompare(b.key));
}
