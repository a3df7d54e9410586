// Where each replica of a service belongs: its slots and their hosts. Pure.
//
// Two questions about a host, as for any placed object (src/managed/placement.ts):
//   takes a new replica   the service's hostSelector selects it, it admits the namespace, it is
//                         not draining, unschedulable or being deleted, and it is Ready
//   keeps a replica       it exists and is not draining, and either the selector still selects
//                         it or the replica was placed under the selector of today (or before
//                         hashes were recorded): a change of the world (host labels, admission,
//                         deletion) never evicts, like a Node keeps its Pods; a change of the
//                         service's own selector moves replicas away
// A host NotReady for hostDownGraceMs or longer is out of service.
//
//   Replicated  slots "0".."replicas-1". A slot stays on the host of its newest replica there
//               that is kept and in service (sticky: never moved for a better balance), else
//               goes to the eligible host with the fewest slots in its spread domain, then the
//               fewest slots, then the first name; placement.maxPerHost bounds every host.
//   Global      a slot per host that takes a new replica or keeps one of the service's; a
//               NotReady host past the grace keeps its slot, out of service.
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerServiceSpec } from '../../crds/dockerservice.js';
import { resolvePlacement } from '../../managed/placement.js';
import { matchesSelector } from '../../policy/label-selector.js';
import { hostDownSince, hostIsReady } from './replica.js';
import type { Replica, Slot } from './types.js';

export interface ScheduleInput {
  spec: Pick<DockerServiceSpec, 'mode' | 'replicas' | 'placement' | 'hostSelector'>;
  namespace: string;
  namespaceLabels: Record<string, string> | undefined;
  hosts: readonly DockerHost[];
  replicas: readonly Replica[];
  /** Hash of spec.hostSelector now (placementHash({ hostSelector }) of src/managed/placement.ts). */
  placementHash: string;
  now: Date;
  /** A host NotReady this long is out of service (Replicated slots move; Global slots are left out). */
  hostDownGraceMs: number;
}

export interface Schedule {
  slots: Slot[];
  /** Replicas that belong to no slot: scaled down, a stray slot label, a host that no longer keeps them. */
  surplus: Replica[];
  /** Replicated slots no host can take. */
  unplaced: number;
}

/** Code-point order: the same whatever the locale. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byName = (a: Replica, b: Replica) => compare(a.name, b.name);

interface World {
  input: ScheduleInput;
  hosts: Map<string, DockerHost>;
  /** Names of the hosts that take a new replica, sorted. */
  eligible: string[];
}

/** Hosts that take a new replica: new placements as src/managed/placement.ts decides them, and Ready. */
function eligibleHosts(input: ScheduleInput): string[] {
  const { placed } = resolvePlacement({
    spec: { hostSelector: input.spec.hostSelector },
    namespace: input.namespace,
    namespaceLabels: input.namespaceLabels,
    hosts: input.hosts,
    previouslyPlaced: [],
  });
  return placed
    .filter(hostIsReady)
    .map((h) => h.metadata.name)
    .sort(compare);
}

function keeps(world: World, replica: Replica): boolean {
  const host = world.hosts.get(replica.host);
  if (!host || host.spec.drain) return false;
  if (matchesSelector(world.input.spec.hostSelector, host.metadata.labels ?? {})) return true;
  return replica.placementHash === undefined || replica.placementHash === world.input.placementHash;
}

/** NotReady for the grace period or longer; a host that never reported Ready counts as down all along. */
function outOfService(world: World, hostName: string): boolean {
  const host = world.hosts.get(hostName);
  if (hostIsReady(host)) return false;
  const since = hostDownSince(host);
  return since === undefined || world.input.now.getTime() - since.getTime() >= world.input.hostDownGraceMs;
}

function groupBy(replicas: readonly Replica[], key: (r: Replica) => string): Map<string, Replica[]> {
  const groups = new Map<string, Replica[]>();
  for (const r of replicas) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return groups;
}

/** Newest first (creation time, then name), replicas being deleted after all others. */
function newestFirst(a: Replica, b: Replica): number {
  const terminating = Number(a.state === 'Terminating') - Number(b.state === 'Terminating');
  if (terminating !== 0) return terminating;
  const age = (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0);
  return age !== 0 ? age : compare(a.name, b.name);
}

/**
 * The host a slot's existing replicas hold it on: the newest replica's that
 * its host keeps and that is in service. A replica being deleted counts only
 * when no other does, so a StopFirst replacement starts where the old one was.
 */
function stickyHost(world: World, replicas: readonly Replica[]): string | undefined {
  return [...replicas].sort(newestFirst).find((r) => keeps(world, r) && !outOfService(world, r.host))?.host;
}

/** Slots per host and per spread domain, as slots are assigned. */
class Load {
  private readonly perHost = new Map<string, number>();
  private readonly perDomain = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly maxPerHost = Infinity,
  ) {}

  domainOf(host: string): string {
    const label = this.world.input.spec.placement?.spreadByHostLabel;
    if (label === undefined) return '';
    return this.world.hosts.get(host)?.metadata.labels?.[label] ?? '';
  }

  onHost(host: string): number {
    return this.perHost.get(host) ?? 0;
  }

  inDomain(host: string): number {
    return this.perDomain.get(this.domainOf(host)) ?? 0;
  }

  fits(host: string): boolean {
    return this.onHost(host) < this.maxPerHost;
  }

  add(host: string): void {
    this.perHost.set(host, this.onHost(host) + 1);
    const domain = this.domainOf(host);
    this.perDomain.set(domain, (this.perDomain.get(domain) ?? 0) + 1);
  }

  /** The eligible host a new slot goes to: fewest in its domain, then on it, then the first name. */
  pick(): string | undefined {
    let best: string | undefined;
    for (const host of this.world.eligible) {
      if (!this.fits(host)) continue;
      if (best === undefined || this.inDomain(host) < this.inDomain(best)) best = host;
      else if (this.inDomain(host) === this.inDomain(best) && this.onHost(host) < this.onHost(best))
        best = host;
    }
    return best;
  }
}

function scheduleReplicated(world: World): Schedule {
  const { spec, replicas } = world.input;
  const ids = Array.from({ length: spec.replicas ?? 1 }, (_, i) => String(i));
  const wanted = new Set(ids);
  const bySlot = groupBy(replicas, (r) => r.slot);
  const load = new Load(world, spec.placement?.maxPerHost);
  const hostOf = new Map<string, string | undefined>();
  // Kept slots first, in slot order, so a moving slot never takes a place a staying one holds.
  const moving: string[] = [];
  for (const id of ids) {
    const host = stickyHost(world, bySlot.get(id) ?? []);
    if (host !== undefined && load.fits(host)) {
      load.add(host);
      hostOf.set(id, host);
    } else moving.push(id);
  }
  let unplaced = 0;
  for (const id of moving) {
    const host = load.pick();
    if (host === undefined) unplaced++;
    else load.add(host);
    hostOf.set(id, host);
  }
  const slots = ids.map((id): Slot => {
    const host = hostOf.get(id);
    return {
      id,
      ...(host !== undefined ? { host } : {}),
      replicas: [...(bySlot.get(id) ?? [])].sort(byName),
      outOfService: false,
    };
  });
  const surplus = replicas.filter((r) => !wanted.has(r.slot)).sort(byName);
  return { slots, surplus, unplaced };
}

function scheduleGlobal(world: World): Schedule {
  const eligible = new Set(world.eligible);
  const byHost = groupBy(world.input.replicas, (r) => r.host);
  const slots: Slot[] = [];
  const surplus: Replica[] = [];
  for (const name of [...world.hosts.keys()].sort(compare)) {
    const here = byHost.get(name) ?? [];
    const kept = here.filter((r) => r.slot === name && keeps(world, r));
    surplus.push(...here.filter((r) => !kept.includes(r)));
    if (!eligible.has(name) && kept.length === 0) continue;
    slots.push({
      id: name,
      host: name,
      replicas: kept.sort(byName),
      outOfService: outOfService(world, name),
    });
  }
  // Replicas on hosts that no longer exist.
  surplus.push(...world.input.replicas.filter((r) => !world.hosts.has(r.host)));
  return { slots, surplus: surplus.sort(byName), unplaced: 0 };
}

/** The service's slots, where each goes, and the replicas that belong nowhere. */
export function scheduleSlots(input: ScheduleInput): Schedule {
  const world: World = {
    input,
    hosts: new Map(input.hosts.map((h) => [h.metadata.name, h])),
    eligible: eligibleHosts(input),
  };
  return input.spec.mode === 'Global' ? scheduleGlobal(world) : scheduleReplicated(world);
}
