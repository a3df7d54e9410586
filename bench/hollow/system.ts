import type { Handler } from './context.js';

// GET /_ping, /version and /info with the values of the lab's Engine
// (Debian's docker.io 20.10.24) so code that reads engine facts sees the
// engine the conformance test compared against.

export const ENGINE_VERSION = '20.10.24+dfsg1';
export const API_VERSION = '1.41';

export const ping: Handler = ({ res }) => {
  res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Builder-Version', '1');
  return { status: 200, text: 'OK' };
};

const details = {
  GitCommit: '5d6db84',
  GoVersion: 'go1.19.8',
  KernelVersion: 'hollow',
  BuildTime: '2023-01-01T00:00:00.000000000+00:00',
};

export const version: Handler = () => ({
  status: 200,
  json: {
    Platform: { Name: '' },
    Components: [
      {
        Name: 'Engine',
        Version: ENGINE_VERSION,
        Details: {
          ApiVersion: API_VERSION,
          Arch: 'amd64',
          BuildTime: details.BuildTime,
          Experimental: 'false',
          GitCommit: details.GitCommit,
          GoVersion: details.GoVersion,
          KernelVersion: details.KernelVersion,
          MinAPIVersion: '1.12',
          Os: 'linux',
        },
      },
      { Name: 'containerd', Version: '1.6.20~ds1', Details: { GitCommit: '1.6.20~ds1-1+deb12u3' } },
      { Name: 'runc', Version: '1.1.5+ds1', Details: { GitCommit: '1.1.5+ds1-1+deb12u1' } },
      { Name: 'docker-init', Version: '0.19.0', Details: { GitCommit: '' } },
    ],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: '1.12',
    GitCommit: details.GitCommit,
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: 'amd64',
    KernelVersion: details.KernelVersion,
    BuildTime: details.BuildTime,
  },
});

function counts(ctx: Parameters<Handler>[0]) {
  const all = [...ctx.state.containers.values()];
  const running = all.filter((c) => c.state.status === 'running').length;
  return { total: all.length, running, stopped: all.length - running, images: ctx.state.images.size };
}

/** The static parts of /info: what a Debian 12 node with overlay2 and cgroupfs reports. */
const INFO_STATIC = {
  Driver: 'overlay2',
  DriverStatus: [
    ['Backing Filesystem', 'extfs'],
    ['Supports d_type', 'true'],
    ['Native Overlay Diff', 'true'],
    ['userxattr', 'false'],
  ],
  Plugins: {
    Volume: ['local'],
    Network: ['bridge', 'host', 'ipvlan', 'macvlan', 'null', 'overlay'],
    Authorization: null,
    Log: [
      'awslogs',
      'fluentd',
      'gcplogs',
      'gelf',
      'journald',
      'json-file',
      'local',
      'logentries',
      'splunk',
      'syslog',
    ],
  },
  MemoryLimit: true,
  SwapLimit: true,
  KernelMemory: true,
  KernelMemoryTCP: true,
  CpuCfsPeriod: true,
  CpuCfsQuota: true,
  CPUShares: true,
  CPUSet: true,
  PidsLimit: true,
  IPv4Forwarding: true,
  BridgeNfIptables: true,
  BridgeNfIp6tables: true,
  Debug: false,
};

export const info: Handler = (ctx) => {
  const n = counts(ctx);
  return {
    status: 200,
    json: {
      ID: ctx.state.id,
      Containers: n.total,
      ContainersRunning: n.running,
      ContainersPaused: 0,
      ContainersStopped: n.stopped,
      Images: n.images,
      ...INFO_STATIC,
      NFd: 27,
      OomKillDisable: true,
      NGoroutines: 40,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      NEventsListener: ctx.state.events.subscribers,
      KernelVersion: details.KernelVersion,
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm) (containerized)',
      OSVersion: '12',
      OSType: 'linux',
      Architecture: 'x86_64',
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      NCPU: 2,
      MemTotal: 8 * 1024 ** 3,
      GenericResources: null,
      DockerRootDir: '/var/lib/docker',
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: ctx.state.name,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: {
        'io.containerd.runc.v2': { path: 'runc' },
        'io.containerd.runtime.v1.linux': { path: 'runc' },
        runc: { path: 'runc' },
      },
      DefaultRuntime: 'runc',
      Swarm: {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: 'docker-init',
      ContainerdCommit: { ID: '1.6.20~ds1-1+deb12u3', Expected: '1.6.20~ds1-1+deb12u3' },
      RuncCommit: { ID: '1.1.5+ds1-1+deb12u1', Expected: '1.1.5+ds1-1+deb12u1' },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: ['name=seccomp,profile=default'],
      // What the daemon says about any plain-TCP listener, as every hollow host is one.
      Warnings: [
        `WARNING: API is accessible on http://${ctx.state.listenAddress} without encryption.\n         Access to the remote API is equivalent to root access on the host. Refer\n         to the 'Docker daemon attack surface' section in the documentation for\n         more information: https://docs.docker.com/go/attack-surface/`,
      ],
    },
  };
};
