import { ZERO_TIME } from './ids.js';
import type { Endpoint, HollowContainer, HostState } from './state.js';

// Pure views of a hollow container in the JSON shapes Engine 20.10 answers
// (GET /containers/{id}/json and GET /containers/json), key for key, so
// clients that read any field find it with the type a real daemon gives.

/** HostConfig as 20.10 reports it for a container created through the API with no extras. */
export const HOST_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  Binds: null,
  ContainerIDFile: '',
  LogConfig: { Type: 'json-file', Config: {} },
  NetworkMode: 'default',
  PortBindings: null,
  RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
  AutoRemove: false,
  VolumeDriver: '',
  VolumesFrom: null,
  CapAdd: null,
  CapDrop: null,
  CgroupnsMode: 'host',
  Dns: null,
  DnsOptions: null,
  DnsSearch: null,
  ExtraHosts: null,
  GroupAdd: null,
  IpcMode: 'private',
  Cgroup: '',
  Links: null,
  OomScoreAdj: 0,
  PidMode: '',
  Privileged: false,
  PublishAllPorts: false,
  ReadonlyRootfs: false,
  SecurityOpt: null,
  UTSMode: '',
  UsernsMode: '',
  ShmSize: 67108864,
  Runtime: 'runc',
  ConsoleSize: [0, 0],
  Isolation: '',
  CpuShares: 0,
  Memory: 0,
  NanoCpus: 0,
  CgroupParent: '',
  BlkioWeight: 0,
  BlkioWeightDevice: null,
  BlkioDeviceReadBps: null,
  BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpusetCpus: '',
  CpusetMems: '',
  Devices: null,
  DeviceCgroupRules: null,
  DeviceRequests: null,
  KernelMemory: 0,
  KernelMemoryTCP: 0,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  OomKillDisable: false,
  PidsLimit: null,
  Ulimits: null,
  CpuCount: 0,
  CpuPercent: 0,
  IOMaximumIOps: 0,
  IOMaximumBandwidth: 0,
  MaskedPaths: [
    '/proc/asound',
    '/proc/acpi',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/proc/scsi',
    '/sys/firmware',
  ],
  ReadonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
};

/** The MAC Docker derives from an IPv4 address: 02:42 then the four octets. */
export function macOf(ip: string): string {
  if (!ip) return '';
  const hex = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return `02:42:${hex.join(':')}`;
}

function prefixOf(subnet: string): number {
  return Number(/\/(\d+)$/.exec(subnet)?.[1] ?? 0);
}

/**
 * One entry of NetworkSettings.Networks. A never-started container has the
 * entry with empty IDs; a stopped one keeps the NetworkID; addresses exist
 * only while it runs.
 */
function endpointJson(
  state: HostState,
  c: HollowContainer,
  ep: Endpoint,
  forList: boolean,
): Record<string, unknown> {
  const running = c.state.status === 'running';
  const network = state.networks.get(ep.networkId);
  const started = c.state.startedAt !== undefined;
  return {
    IPAMConfig: ep.ipamConfig,
    Links: null,
    // The daemon adds the short ID to the aliases of user networks, but only inspect shows it.
    Aliases: forList ? null : ep.aliases,
    NetworkID: started || network?.builtin === false ? ep.networkId : '',
    EndpointID: running ? ep.endpointId : '',
    Gateway: running ? (network?.gateway ?? '') : '',
    IPAddress: running ? ep.ip : '',
    IPPrefixLen: running ? prefixOf(network?.subnet ?? '') : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: running ? ep.mac : '',
    DriverOpts: null,
  };
}

export function networksJson(state: HostState, c: HollowContainer, forList = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, ep] of c.networks) out[name] = endpointJson(state, c, ep, forList);
  return out;
}

function mountsJson(c: HollowContainer): Array<Record<string, unknown>> {
  return c.mounts.map((m) =>
    m.type === 'volume'
      ? {
          Type: 'volume',
          Name: m.name,
          Source: m.source,
          Destination: m.destination,
          Driver: 'local',
          Mode: 'z',
          RW: m.rw,
          Propagation: '',
        }
      : {
          Type: 'bind',
          Source: m.source,
          Destination: m.destination,
          Mode: '',
          RW: m.rw,
          Propagation: 'rprivate',
        },
  );
}

/** The default network's values that 20.10 still copies to the top of NetworkSettings. */
function primaryEndpoint(state: HostState, c: HollowContainer): Record<string, unknown> {
  const running = c.state.status === 'running';
  const ep = c.networks.get('bridge');
  const network = ep ? state.networks.get(ep.networkId) : undefined;
  const on = running && ep !== undefined;
  return {
    EndpointID: on ? ep.endpointId : '',
    Gateway: on ? (network?.gateway ?? '') : '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: on ? ep.ip : '',
    IPPrefixLen: on ? 16 : 0,
    IPv6Gateway: '',
    MacAddress: on ? ep.mac : '',
  };
}

function networkSettingsJson(state: HostState, c: HollowContainer): Record<string, unknown> {
  const started = c.state.startedAt !== undefined;
  // The sandbox outlives a stop: 20.10 keeps its ID and key until the next start.
  const sandbox = started ? c.id.split('').reverse().join('') : '';
  return {
    Bridge: '',
    SandboxID: sandbox,
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SandboxKey: started ? `/var/run/docker/netns/${sandbox.slice(0, 12)}` : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    ...primaryEndpoint(state, c),
    Networks: networksJson(state, c),
  };
}

function stateJson(c: HollowContainer): Record<string, unknown> {
  const s = c.state;
  return {
    Status: s.status,
    Running: s.status === 'running',
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: s.status === 'running' ? s.pid : 0,
    ExitCode: s.exitCode,
    Error: '',
    StartedAt: s.startedAt ?? ZERO_TIME,
    FinishedAt: s.finishedAt ?? ZERO_TIME,
  };
}

/** GET /containers/{id}/json. */
export function inspectJson(state: HostState, c: HollowContainer): Record<string, unknown> {
  const dir = `/var/lib/docker/containers/${c.id}`;
  const layer = c.id.slice(0, 64);
  const [path, ...args] = [...((c.config.Entrypoint as string[] | null) ?? []), ...(c.config.Cmd ?? [])];
  return {
    Id: c.id,
    Created: c.created,
    Path: path ?? '',
    Args: args,
    State: stateJson(c),
    Image: c.imageId,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: `${dir}/${c.id}-json.log`,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: c.hostConfig,
    GraphDriver: {
      Data: {
        LowerDir: `/var/lib/docker/overlay2/${layer}-init/diff`,
        MergedDir: `/var/lib/docker/overlay2/${layer}/merged`,
        UpperDir: `/var/lib/docker/overlay2/${layer}/diff`,
        WorkDir: `/var/lib/docker/overlay2/${layer}/work`,
      },
      Name: 'overlay2',
    },
    Mounts: mountsJson(c),
    Config: c.config,
    NetworkSettings: networkSettingsJson(state, c),
  };
}

/** The human Status column: "Created", "Up 3 seconds", "Exited (137) 2 minutes ago". */
export function statusText(c: HollowContainer, now = Date.now()): string {
  const since = (iso: string | undefined) => humanDuration(now - Date.parse(iso ?? ''));
  if (c.state.status === 'created') return 'Created';
  if (c.state.status === 'running') return `Up ${since(c.state.startedAt)}`;
  return `Exited (${c.state.exitCode}) ${since(c.state.finishedAt)} ago`;
}

/** Go's units.HumanDuration, which the daemon uses for Status. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** One entry of GET /containers/json. */
export function listJson(state: HostState, c: HollowContainer): Record<string, unknown> {
  const [path, ...args] = [...((c.config.Entrypoint as string[] | null) ?? []), ...(c.config.Cmd ?? [])];
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: c.imageId,
    Command: [path ?? '', ...args].join(' '),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: [],
    Labels: c.config.Labels,
    State: c.state.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.hostConfig.NetworkMode },
    NetworkSettings: { Networks: networksJson(state, c, true) },
    Mounts: mountsJson(c),
  };
}
