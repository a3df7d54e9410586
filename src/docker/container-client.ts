import type Dockerode from 'dockerode';
import { OWNER_LABELS } from '../crds/kit.js';
import { statusOf } from './status-code.js';

/** Docker's health states; `none` (no healthcheck) is reported as undefined. */
export type ContainerHealth = 'starting' | 'healthy' | 'unhealthy';

/** What Docker reports about a container, reduced to what Dockyard decides on. */
export interface ObservedContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  labels: Record<string, string>;
  /** The image reference the container was created from (Config.Image). */
  image: string;
  /** The image ID it runs (sha256:…). */
  imageId: string;
  created: string;
  state: {
    /** created, running, paused, restarting, removing, exited or dead. */
    status: string;
    running: boolean;
    paused: boolean;
    restarting: boolean;
    exitCode: number;
    /** Unset until the container first started. */
    startedAt?: string;
    /** Unset until the container first stopped. */
    finishedAt?: string;
    restartCount: number;
    health?: ContainerHealth;
    oomKilled: boolean;
  };
  /** The fields POST /containers/{id}/update changes, as the daemon holds them. */
  hostConfig: {
    restartPolicy: { name: string; maximumRetryCount: number };
    memory: number;
    memorySwap: number;
    memoryReservation: number;
    nanoCpus: number;
    /** 0 when unlimited (Docker reports null, 0 or -1 for that). */
    pidsLimit: number;
  };
  /** Attached networks by Docker network name. */
  networks: Record<string, ObservedEndpoint>;
  /** What is mounted where (volumes, binds, tmpfs), as Docker reports it. */
  mounts: ObservedMount[];
  /**
   * Paths declared as volumes (Config.Volumes): the image's VOLUME lines,
   * which Docker merges into the container's config at create.
   */
  declaredVolumes: string[];
}

export interface ObservedMount {
  /** volume, bind, tmpfs… */
  type: string;
  /** The volume's name; only for volumes. */
  name?: string;
  destination: string;
  readOnly: boolean;
}

export interface ObservedEndpoint {
  /**
   * Aliases the user asked for. Left out: the short container ID and the
   * container's hostname, which Engine 20.10 adds on every user-defined network.
   */
  aliases: string[];
  /** The static address asked for at connect time (IPAMConfig), if any. */
  ipv4Address?: string;
  /** The static IPv6 address asked for at connect time (IPAMConfig), if any. */
  ipv6Address?: string;
  /** The MAC in use; only while the container runs. */
  macAddress?: string;
  /** The address in use; only while the container runs. */
  ipAddress?: string;
}

/** The subset of `GET /containers/{id}/json` that toObserved reads. */
export interface ContainerInspectJson {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  RestartCount?: number;
  State?: {
    Status?: string;
    Running?: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    OOMKilled?: boolean;
    ExitCode?: number;
    StartedAt?: string;
    FinishedAt?: string;
    Health?: { Status?: string } | null;
  };
  Config?: {
    Image?: string;
    Hostname?: string;
    Labels?: Record<string, string> | null;
    Volumes?: Record<string, unknown> | null;
  };
  Mounts?: Array<{ Type?: string; Name?: string; Destination?: string; RW?: boolean }> | null;
  HostConfig?: {
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
    Memory?: number;
    MemorySwap?: number;
    MemoryReservation?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
  };
  NetworkSettings?: {
    Networks?: Record<
      string,
      {
        Aliases?: string[] | null;
        IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
        IPAddress?: string;
        MacAddress?: string;
      } | null
    > | null;
  };
}

/** Docker's zero time, reported for "never". */
const ZERO_TIME = /^0001-01-01T/;

function time(value: string | undefined): string | undefined {
  return value && !ZERO_TIME.test(value) ? value : undefined;
}

function health(status: string | undefined): ContainerHealth | undefined {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : undefined;
}

/** The pure part of observe(): inspect JSON → ObservedContainer. */
export function toObserved(c: ContainerInspectJson): ObservedContainer {
  const s = c.State ?? {};
  const h = c.HostConfig ?? {};
  const added = new Set([c.Id, c.Id.slice(0, 12), c.Config?.Hostname ?? '']);
  const networks: Record<string, ObservedEndpoint> = {};
  for (const [name, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
    const ipv4Address = ep?.IPAMConfig?.IPv4Address;
    const ipv6Address = ep?.IPAMConfig?.IPv6Address;
    networks[name] = {
      aliases: (ep?.Aliases ?? []).filter((a) => !added.has(a)),
      ...(ipv4Address ? { ipv4Address } : {}),
      ...(ipv6Address ? { ipv6Address } : {}),
      ...(ep?.MacAddress ? { macAddress: ep.MacAddress } : {}),
      ...(ep?.IPAddress ? { ipAddress: ep.IPAddress } : {}),
    };
  }
  const startedAt = time(s.StartedAt);
  const finishedAt = time(s.FinishedAt);
  const healthStatus = health(s.Health?.Status);
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    labels: c.Config?.Labels ?? {},
    image: c.Config?.Image ?? '',
    imageId: c.Image,
    created: c.Created,
    state: {
      status: s.Status ?? 'unknown',
      running: s.Running ?? false,
      paused: s.Paused ?? false,
      restarting: s.Restarting ?? false,
      exitCode: s.ExitCode ?? 0,
      ...(startedAt ? { startedAt } : {}),
      ...(finishedAt ? { finishedAt } : {}),
      restartCount: c.RestartCount ?? 0,
      ...(healthStatus ? { health: healthStatus } : {}),
      oomKilled: s.OOMKilled ?? false,
    },
    hostConfig: {
      restartPolicy: {
        // An empty name is Docker's spelling of "no".
        name: h.RestartPolicy?.Name || 'no',
        maximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0,
      },
      memory: h.Memory ?? 0,
      memorySwap: h.MemorySwap ?? 0,
      // update clears a reservation by setting -1
      memoryReservation: Math.max(0, h.MemoryReservation ?? 0),
      nanoCpus: h.NanoCpus ?? 0,
      pidsLimit: h.PidsLimit !== null && h.PidsLimit !== undefined && h.PidsLimit > 0 ? h.PidsLimit : 0,
    },
    networks,
    mounts: (c.Mounts ?? []).map((m) => ({
      type: m.Type ?? '',
      ...(m.Name ? { name: m.Name } : {}),
      destination: m.Destination ?? '',
      readOnly: m.RW === false,
    })),
    declaredVolumes: Object.keys(c.Config?.Volumes ?? {}).sort(),
  };
}

/** The body of POST /containers/{id}/update: only the fields Dockyard updates in place. */
export interface ContainerUpdateBody {
  RestartPolicy?: { Name: string; MaximumRetryCount?: number };
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  PidsLimit?: number;
}

/** A container listed by its owner label (GET /containers/json), without an inspect. */
export interface OwnedContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  /** created, running, exited… */
  state: string;
  /** Unix seconds. */
  created: number;
}

/** Another container already has the name; the caller re-observes and adopts it if it is ours. */
export class ContainerNameConflict extends Error {
  override readonly name = 'ContainerNameConflict';
  constructor(
    readonly containerName: string,
    cause: unknown,
  ) {
    super(`a container named ${containerName} already exists`, { cause });
  }
}

export interface StopOptions {
  /** Seconds between the stop signal and SIGKILL. */
  timeoutSeconds: number;
  /** Sent only to daemons with API ≥ 1.42; older ones use the StopSignal set at create time. */
  signal?: string;
  /** The daemon's API version (DockerHost status), deciding whether `signal` can be sent. */
  apiVersion?: string;
  /** Cuts the request (the daemon still finishes the stop): give it a deadline past the grace period. */
  abort?: AbortSignal;
}

export interface ConnectOptions {
  aliases?: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  /** Honoured from API 1.44 (Engine 25); the spec is refused on older hosts (engine-support.ts). */
  macAddress?: string;
}

/** True when `version` (e.g. "1.41") is at least `major.minor`. */
export function apiAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (typeof json?.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The external client for Docker containers. Every call is idempotent: it
 * tolerates the outcome already being there (started, stopped, gone,
 * connected, disconnected) and throws only what the caller must act on.
 */
export const containerClient = {
  /** Inspect by name or ID; undefined when there is no such container. */
  async observe(api: Dockerode, nameOrId: string): Promise<ObservedContainer | undefined> {
    try {
      const json = (await api.getContainer(nameOrId).inspect()) as unknown as ContainerInspectJson;
      return toObserved(json);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  },

  /**
   * Creates the container and returns its ID. The name goes in the query and
   * everything else in the body, so environment values never end up in a URL.
   * A name that is taken throws ContainerNameConflict.
   */
  async create(api: Dockerode, options: Dockerode.ContainerCreateOptions): Promise<string> {
    const { name, platform, ...body } = options;
    const query: Record<string, string> = {};
    if (name !== undefined) query.name = name;
    if (platform !== undefined) query.platform = platform;
    try {
      const container = await api.createContainer({
        _query: query,
        _body: body,
      } as unknown as Dockerode.ContainerCreateOptions);
      return container.id;
    } catch (err) {
      if (statusOf(err) === 409) throw new ContainerNameConflict(name ?? '', err);
      throw err;
    }
  },

  /**
   * Every container, running or not, whose owner uid label is `uid`: the one
   * at its name and any a recreate left under another name.
   */
  async listOwned(api: Dockerode, uid: string): Promise<OwnedContainer[]> {
    const list = await api.listContainers({ all: true, filters: { label: [`${OWNER_LABELS.uid}=${uid}`] } });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      state: c.State ?? '',
      created: c.Created ?? 0,
    }));
  },

  /** Renames the container; a name already taken throws ContainerNameConflict. */
  async rename(api: Dockerode, id: string, name: string): Promise<void> {
    try {
      await api.getContainer(id).rename({ name });
    } catch (err) {
      if (statusOf(err) === 409) throw new ContainerNameConflict(name, err);
      throw err;
    }
  },

  /**
   * The last `lines` lines of its stdout and stderr, as Docker sends them
   * (multiplexed unless it has a TTY); an empty buffer when it is gone.
   */
  async tailLogs(api: Dockerode, id: string, lines: number): Promise<Buffer> {
    try {
      return await api.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false });
    } catch (err) {
      if (statusOf(err) === 404) return Buffer.alloc(0);
      throw err;
    }
  },

  /** Starts the container; already running counts as done. */
  async start(api: Dockerode, id: string): Promise<void> {
    try {
      await api.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw err;
    }
  },

  /** Stops the container; already stopped or gone counts as done. */
  async stop(api: Dockerode, id: string, opts: StopOptions): Promise<void> {
    const query: Dockerode.ContainerStopOptions = { t: Math.max(0, Math.ceil(opts.timeoutSeconds)) };
    if (opts.signal && apiAtLeast(opts.apiVersion, 1, 42)) query.signal = opts.signal;
    if (opts.abort) query.abortSignal = opts.abort;
    try {
      await api.getContainer(id).stop(query);
    } catch (err) {
      const code = statusOf(err);
      if (code === 304 || code === 404) return;
      throw err;
    }
  },

  /**
   * Removes the container but never its volumes: anonymous volumes an image's
   * VOLUME created hold data too, and a recreate (a spec change) must not lose
   * it; the orphan sweep and the user decide about them. Gone, or a removal
   * already in progress, counts as done.
   */
  async remove(api: Dockerode, id: string, opts: { force: boolean }): Promise<void> {
    try {
      await api.getContainer(id).remove({ force: opts.force, v: false });
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return;
      if (code === 409 && /already in progress/i.test(messageOf(err))) return;
      throw err;
    }
  },

  /** Applies restart policy and resource limits in place; returns Docker's warnings. */
  async update(api: Dockerode, id: string, body: ContainerUpdateBody): Promise<string[]> {
    const res = (await api.getContainer(id).update(body)) as { Warnings?: string[] | null } | undefined;
    return res?.Warnings ?? [];
  },

  /** Connects the container to a network; already connected counts as done. */
  async connect(api: Dockerode, network: string, id: string, opts: ConnectOptions = {}): Promise<void> {
    const endpoint: Dockerode.EndpointSettings = {};
    if (opts.aliases && opts.aliases.length > 0) endpoint.Aliases = opts.aliases;
    if (opts.ipv4Address || opts.ipv6Address)
      endpoint.IPAMConfig = {
        ...(opts.ipv4Address ? { IPv4Address: opts.ipv4Address } : {}),
        ...(opts.ipv6Address ? { IPv6Address: opts.ipv6Address } : {}),
      };
    if (opts.macAddress) endpoint.MacAddress = opts.macAddress;
    try {
      await api.getNetwork(network).connect({ Container: id, EndpointConfig: endpoint });
    } catch (err) {
      if (/already exists in network|already connected/i.test(messageOf(err))) return;
      throw err;
    }
  },

  /** Disconnects the container from a network; not connected (or either gone) counts as done. */
  async disconnect(api: Dockerode, network: string, id: string): Promise<void> {
    try {
      await api.getNetwork(network).disconnect({ Container: id });
    } catch (err) {
      if (statusOf(err) === 404 || /is not connected/i.test(messageOf(err))) return;
      throw err;
    }
  },
};
