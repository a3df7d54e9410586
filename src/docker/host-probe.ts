import type Dockerode from 'dockerode';
import type { DockerHostStatus } from '../crds/dockerhost.js';
import { loopClock } from './loop-clock.js';

export interface HostFacts {
  engine: NonNullable<DockerHostStatus['engine']>;
  containers: NonNullable<DockerHostStatus['containers']>;
}

interface InfoLike {
  Containers?: number;
  ContainersRunning?: number;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  KernelVersion?: string;
  NCPU?: number;
  MemTotal?: number;
  Driver?: string;
  Name?: string;
}

interface VersionLike {
  Version?: string;
  ApiVersion?: string;
  Os?: string;
  Arch?: string;
}

/** Pure: the status facts from Docker's /info and /version answers. */
export function hostFacts(
  info: InfoLike,
  version: VersionLike,
  managedContainers: number | undefined,
): HostFacts {
  const engine: HostFacts['engine'] = {};
  if (version.Version) engine.version = version.Version;
  if (version.ApiVersion) engine.apiVersion = version.ApiVersion;
  const os = info.OperatingSystem ?? version.Os ?? info.OSType;
  if (os) engine.os = os;
  const arch = version.Arch ?? info.Architecture;
  if (arch) engine.arch = arch;
  if (info.KernelVersion) engine.kernelVersion = info.KernelVersion;
  if (typeof info.NCPU === 'number') engine.cpus = info.NCPU;
  if (typeof info.MemTotal === 'number') engine.memoryBytes = info.MemTotal;
  if (info.Driver) engine.storageDriver = info.Driver;
  if (info.Name) engine.name = info.Name;
  const containers: HostFacts['containers'] = {
    total: info.Containers ?? 0,
    running: info.ContainersRunning ?? 0,
  };
  if (managedContainers !== undefined) containers.managed = managedContainers;
  return { engine, containers };
}

/** dockerode passes `abortSignal` through to the request; its typings omit it for these. */
type WithSignal = {
  ping(o: { abortSignal: AbortSignal }): Promise<unknown>;
  info(o: { abortSignal: AbortSignal }): Promise<InfoLike>;
  version(o: { abortSignal: AbortSignal }): Promise<VersionLike>;
};

/** The short heartbeat: /_ping alone, with the same deadline in usable time as probeHost's. */
export async function pingHost(api: Dockerode, timeoutMs: number): Promise<void> {
  await (api as unknown as WithSignal).ping({ abortSignal: loopClock.timeout(timeoutMs) });
}

/**
 * The heartbeat: /_ping, then /info and /version (and a count of containers
 * carrying Dockyard's owner label). Throws the Docker error for the caller to
 * classify.
 */
export async function probeHost(api: Dockerode, timeoutMs: number): Promise<HostFacts> {
  // The heartbeat has its own short deadline (a hung daemon must turn
  // NotReady quickly); other requests keep the pool's longer timeout. The
  // deadline is in usable time (loop-clock.ts): a wall-clock one expired for
  // the controller's own event-loop lag, so a saturated controller (1,000
  // hosts converging on 2 cores) declared healthy hosts Unreachable, and the
  // status writes of every object on them added to the load that caused it.
  const abortSignal = loopClock.timeout(timeoutMs);
  const withSignal = api as unknown as WithSignal;
  await withSignal.ping({ abortSignal });
  const [info, version, managed] = await Promise.all([
    withSignal.info({ abortSignal }),
    withSignal.version({ abortSignal }),
    api.listContainers({ all: true, filters: { label: ['dockyard.io/uid'] }, abortSignal }),
  ]);
  return hostFacts(info, version, managed.length);
}
