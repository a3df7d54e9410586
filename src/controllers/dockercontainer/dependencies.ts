import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import { BASE_IMAGE_LABEL } from '../../docker/files-image.js';
import {
  groupHashes,
  parseGroupHashes,
  recreateHash,
  removedLimits,
  SPEC_GROUPS_LABEL,
  type ContainerInputs,
} from '../../docker/container-spec.js';

/*
 * A container waits for its DockerVolumes, DockerNetworks and DockerImage
 * only before it is created, or when it must be recreated: like a Pod, whose
 * readiness does not follow its volume objects' later status, and like
 * Compose's depends_on, which orders creation only. An existing container of
 * ours whose dependency later stops being ready (a failed re-pull, a paused
 * volume, an object deleted) keeps running and is read from Docker alone.
 *
 *   dependencies | container            | decision
 *   -------------+----------------------+------------------------------------------
 *   all ready    | any                  | proceed (create, recreate, update as usual)
 *   not all      | none (or not ours)   | wait: WaitingForDependencies, Ready=False
 *   not all      | ours, spec changed   | wait: the recreate waits, the old one stays
 *   not all      | ours, spec unchanged | hold: kept as it is, readiness from Docker
 */

/** How a referenced object stands on one host. */
export type DependencyState = 'ready' | 'notReady' | 'deleted';

export interface DependencyStatus {
  /** `DockerVolume/data`, `DockerNetwork/backend`, `DockerImage/app`, `DockerContainer/db`. */
  ref: string;
  state: DependencyState;
  /** For a DockerContainer: the condition waited for and what it is now (`Ready; now Starting`). */
  note?: string;
}

/** `DockerContainer/db (Ready; now Starting)`, or the bare ref when there is nothing to add. */
export function labelOf(d: DependencyStatus): string {
  return d.note ? `${d.ref} (${d.note})` : d.ref;
}

export type DependencyDecision =
  | { type: 'proceed' }
  /** Not created yet, or a recreate is due: nothing is created until these are ready. */
  | { type: 'wait'; missing: string[] }
  /** The existing container is kept as it is (no recreate, no reconnect) while these are not ready. */
  | { type: 'hold'; notReady: DependencyStatus[] };

export function decideDependencies(f: {
  dependencies: readonly DependencyStatus[];
  /** A container of ours exists on the host. */
  existing: boolean;
  /**
   * Its own spec asks for a recreate, judged without what the not-ready
   * dependencies would feed in (true also when that cannot be judged).
   */
  specChanged: boolean;
}): DependencyDecision {
  const notReady = f.dependencies.filter((d) => d.state !== 'ready');
  if (notReady.length === 0) return { type: 'proceed' };
  if (!f.existing || f.specChanged) return { type: 'wait', missing: notReady.map(labelOf) };
  return { type: 'hold', notReady };
}

/**
 * Whether the container's own spec changed since it was created, leaving
 * out the recreate groups in `unknownGroups` (an image a not-ready DockerImage
 * no longer names on this host: comparing its stand-in would recreate on a
 * guess, and again on every look). Uses the per-group label Dockyard sets at
 * create; a container without it is judged unchanged unless every group is known.
 */
export function ownSpecChanged(opts: {
  spec: DockerContainerSpec;
  inputs: ContainerInputs;
  running: ObservedContainer;
  unknownGroups: readonly string[];
}): boolean {
  const { spec, inputs, running, unknownGroups } = opts;
  if (removedLimits(spec, running).length > 0) return true;
  if (unknownGroups.length === 0) return running.labels[OWNER_LABELS.specHash] !== recreateHash(spec, inputs);
  const old = parseGroupHashes(running.labels[SPEC_GROUPS_LABEL]);
  if (!old) return false;
  const now = parseGroupHashes(groupHashes(spec, inputs)) ?? new Map<string, string>();
  const groups = new Set([...old.keys(), ...now.keys()]);
  return [...groups].some((g) => !unknownGroups.includes(g) && old.get(g) !== now.get(g));
}

/** The image reference and digest a container was created from (Config.Image), as create inputs name them. */
export function imageOfRunning(running: ObservedContainer): Pick<ContainerInputs, 'image' | 'imageDigest'> {
  // Created from a files image: the base image it stands for (files-image.ts).
  const image = running.labels[BASE_IMAGE_LABEL] ?? running.image;
  const digest = image.split('@')[1];
  return { image, ...(digest ? { imageDigest: digest } : {}) };
}

/** The Docker volume mounted at `target` in the running container (a deleted DockerVolume's name). */
export function mountedVolume(running: ObservedContainer | undefined, target: string): string | undefined {
  return running?.mounts.find((m) => m.type === 'volume' && m.destination === target)?.name;
}

/** `DockerImage/app, DockerVolume/data (deleted)`. */
function describe(list: readonly DependencyStatus[]): string {
  return list.map((d) => (d.state === 'deleted' && !d.note ? `${d.ref} (deleted)` : labelOf(d))).join(', ');
}

/** The host entry message while a container is held: what is not ready, and that it keeps running. */
export function heldMessage(notReady: readonly DependencyStatus[]): string {
  const what = describe(notReady);
  const verb = notReady.length === 1 ? 'is' : 'are';
  return `${what} ${verb} not ready on this host; the existing container is kept as it is, its state read from Docker (not recreated or reconnected until ${notReady.length === 1 ? 'it is' : 'they are'} ready again)`;
}

/**
 * What the machine context remembers of a hold (`heldOn`: the refs, joined),
 * and whether this look starts or changes one: the one time a
 * DependencyNotReady Event is due.
 */
export function heldTransition(
  previous: string | undefined,
  held: readonly DependencyStatus[] | undefined,
): { heldOn?: string; announce: boolean } {
  const heldOn = held ? describe(held) : undefined;
  if (!heldOn) return { announce: false };
  return { heldOn, announce: heldOn !== previous };
}

/** The context with `heldOn` set, or without the key when nothing is held (status stays as it was). */
export function withHeldOn<C extends { heldOn?: string }>(context: C, heldOn: string | undefined): C {
  const { heldOn: _previous, ...rest } = context;
  return (heldOn ? { ...rest, heldOn } : rest) as C;
}

/**
 * What was last announced per container and host, kept in memory as well:
 * a look that reads the object before the previous status write reached the
 * cache would otherwise record the Event again. The machine context carries
 * it across restarts. Entries go when the hold ends.
 */
export class HeldAnnouncements {
  private readonly last = new Map<string, string>();

  transition(
    key: string,
    fromStatus: string | undefined,
    held: readonly DependencyStatus[] | undefined,
  ): ReturnType<typeof heldTransition> {
    const t = heldTransition(this.last.get(key) ?? fromStatus, held);
    if (t.heldOn) this.last.set(key, t.heldOn);
    else this.last.delete(key);
    return t;
  }
}

// --- spec.dependsOn: other DockerContainers on the same host -----------------
//
// Compose's depends_on conditions, read from the dependency's own status
// entry for this host (what its controller last saw in Docker), never from
// Docker directly: the entry is what `kubectl get` shows, and its changes are
// what requeue the dependent (register.ts).
//
//   condition | met when the dependency's entry on this host is
//   ----------+-------------------------------------------------------------
//   Started   | running (Docker state), or Completed (it ran and finished)
//   Ready     | phase Running or Healthy: running, healthy if it has a healthcheck
//   Completed | phase Completed: exited 0 under restart policy no / on-failure

export type DependsOnCondition = 'Started' | 'Ready' | 'Completed';

/** The fields of a DockerContainer's host entry a dependent decides on. */
export interface DependencyEntry {
  phase: string;
  state?: string;
  exitCode?: number;
}

function conditionMet(condition: DependsOnCondition, e: DependencyEntry): boolean {
  switch (condition) {
    case 'Started':
      return e.state === 'running' || e.phase === 'Completed';
    case 'Ready':
      return e.state === 'running' && (e.phase === 'Running' || e.phase === 'Healthy');
    case 'Completed':
      return e.phase === 'Completed';
  }
}

/**
 * How a `dependsOn` entry stands on this host: `entry` is the dependency's
 * status entry there (undefined: not placed there, or not reported yet),
 * `exists` whether the DockerContainer is in the cache at all.
 */
export function containerDependency(d: {
  name: string;
  condition: DependsOnCondition;
  exists: boolean;
  entry: DependencyEntry | undefined;
}): DependencyStatus {
  const ref = `DockerContainer/${d.name}`;
  const { condition, entry } = d;
  if (!d.exists) return { ref, state: 'deleted', note: `${condition}; not found` };
  if (!entry) return { ref, state: 'notReady', note: `${condition}; not placed on this host` };
  if (conditionMet(condition, entry)) return { ref, state: 'ready' };
  const exit =
    entry.phase === 'Failed' && entry.exitCode !== undefined ? `, exit code ${entry.exitCode}` : '';
  return { ref, state: 'notReady', note: `${condition}; now ${entry.phase}${exit}` };
}

/**
 * The dependsOn cycle through `start` (`['a', 'b', 'a']`), if there is one:
 * a container that waits for itself, directly or through others, would wait
 * forever, so it says so instead (DependencyCycle). Cycles further down that
 * do not come back to `start` are the other containers' to report.
 * `dependsOnOf` gives a container's dependsOn names (undefined: no such container).
 */
export function dependencyCycle(
  start: string,
  dependsOnOf: (name: string) => readonly string[] | undefined,
): string[] | undefined {
  const seen = new Set<string>();
  const walk = (name: string, path: string[]): string[] | undefined => {
    for (const next of dependsOnOf(name) ?? []) {
      if (next === start) return [...path, next];
      if (seen.has(next)) continue;
      seen.add(next);
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}
