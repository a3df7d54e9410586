import type Dockerode from 'dockerode';
import { statusOf } from './status-code.js';

/** A container attached to a network (running, or configured to join it at start). */
export interface AttachedContainer {
  id: string;
  name: string;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  driver: string;
  /** As Docker reports it (RFC 3339 with nanoseconds). */
  created: string;
  labels: Record<string, string>;
  /** Subnets Docker assigned (or was given). */
  subnets: string[];
  containers: AttachedContainer[];
}

export interface IpamPool {
  subnet: string;
  gateway?: string;
  ipRange?: string;
}

export interface NetworkCreate {
  name: string;
  driver: string;
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  ipam: { driver: string; config: IpamPool[]; options: Record<string, string> };
  options: Record<string, string>;
  labels: Record<string, string>;
}

/** Pure: the Docker API body for a network create. Docker must check names too (best effort before Engine 25). */
export function toCreateOptions(n: NetworkCreate): Dockerode.NetworkCreateOptions {
  return {
    Name: n.name,
    CheckDuplicate: true,
    Driver: n.driver,
    Internal: n.internal,
    Attachable: n.attachable,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipam.driver,
      Config: n.ipam.config.map((c) => ({
        Subnet: c.subnet,
        ...(c.gateway !== undefined ? { Gateway: c.gateway } : {}),
        ...(c.ipRange !== undefined ? { IPRange: c.ipRange } : {}),
      })),
      Options: n.ipam.options,
    },
    Options: n.options,
    Labels: n.labels,
  };
}

/**
 * Pure: containers attached to a network, from the network's endpoints
 * (running containers) and from the container list filtered by the network
 * (also stopped and never-started containers that join it at start), by id.
 */
export function attachedContainers(
  endpoints: Record<string, { Name?: string }> | null | undefined,
  listed: ReadonlyArray<{ Id: string; Names?: string[] }>,
): AttachedContainer[] {
  const byId = new Map<string, string>();
  for (const [id, e] of Object.entries(endpoints ?? {})) byId.set(id, e.Name ?? id.slice(0, 12));
  for (const c of listed) {
    if (!byId.has(c.Id)) byId.set(c.Id, (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''));
  }
  return [...byId]
    .map(([id, name]) => ({ id, name }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/**
 * Runs async work one at a time per key. Engine 20.10 lets concurrent
 * creates make two networks with the same name, so every network create on
 * one daemon goes through here.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const done = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => done);
    this.tails.set(key, tail);
    await before;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with work running or waiting (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

interface InspectedNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Created: string;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null } | null;
  Containers?: Record<string, { Name?: string }> | null;
}

async function inspect(api: Dockerode, id: string): Promise<ObservedNetwork | undefined> {
  let n: InspectedNetwork;
  try {
    n = (await api.getNetwork(id).inspect()) as InspectedNetwork;
  } catch (err) {
    if (statusOf(err) === 404) return undefined; // removed meanwhile
    throw err;
  }
  // Containers that join at start are only found through the container list:
  // by id (stopped ones keep the network id) and by name (never-started ones
  // only know the name). A container of a same-named foreign network counts
  // too: in doubt, a network is in use.
  const listed = await api.listContainers({ all: true, filters: { network: [n.Id, n.Name] } });
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    created: n.Created,
    labels: n.Labels ?? {},
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
    containers: attachedContainers(n.Containers, listed),
  };
}

const mutex = new KeyedMutex();

export type CreateResult = { created: true; network: ObservedNetwork } | { created: false };

/**
 * The external client for Docker networks: observe / create / remove, each
 * idempotent. Networks are addressed by id (names can be ambiguous).
 */
export const networkClient = {
  /**
   * Every network named `name` (exactly; Docker's name filter matches
   * substrings) plus every network carrying `ownerLabel` (duplicates from
   * racing creates, or ours under an older name), with attached containers.
   */
  async observe(api: Dockerode, name: string, ownerLabel: string): Promise<ObservedNetwork[]> {
    const [byName, byOwner] = await Promise.all([
      api.listNetworks({ filters: { name: [name] } }),
      api.listNetworks({ filters: { label: [ownerLabel] } }),
    ]);
    const ids = new Set([...byName.filter((n) => n.Name === name), ...byOwner].map((n) => n.Id));
    const found = await Promise.all([...ids].map((id) => inspect(api, id)));
    return found.filter((n): n is ObservedNetwork => n !== undefined);
  },

  /**
   * Creates the network unless one with its name exists, serialised per
   * daemon (`lockKey`): Engine 20.10 does not refuse concurrent duplicates.
   * `created: false` when the name is taken; observe() then decides whose it is.
   */
  async create(api: Dockerode, lockKey: string, n: NetworkCreate): Promise<CreateResult> {
    return mutex.run(lockKey, async () => {
      const existing = await api.listNetworks({ filters: { name: [n.name] } });
      if (existing.some((e) => e.Name === n.name)) return { created: false };
      let id: string;
      try {
        id = (await api.createNetwork(toCreateOptions(n))).id;
      } catch (err) {
        if (statusOf(err) === 409) return { created: false };
        throw err;
      }
      const network = await inspect(api, id);
      if (!network) throw new Error(`network ${n.name} (${id.slice(0, 12)}) vanished right after its create`);
      return { created: true, network };
    });
  },

  /** Removes a network by id; gone already counts as done. 'inUse' while a container is attached. */
  async remove(api: Dockerode, id: string): Promise<'removed' | 'inUse'> {
    try {
      await api.getNetwork(id).remove();
      return 'removed';
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return 'removed';
      // "has active endpoints" is 403 on Engine 20.10; 409 elsewhere.
      if (code === 403 || code === 409) return 'inUse';
      throw err;
    }
  },
};
