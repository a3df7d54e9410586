import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { stopTimeoutSeconds, toCreateOptions } from './create-options.js';
import { UnresolvedReferenceError, type ContainerInputs } from './inputs.js';
import { groupHashes, SPEC_GROUPS_LABEL } from './recreate-hash.js';
import { ANON, ANON2, base, inputs, spec, withInputs } from './test-support.js';

/** Create options without the labels (tested on their own), so each case shows every other field set. */
function create(s: DockerContainerSpec, i: ContainerInputs = inputs): Dockerode.ContainerCreateOptions {
  const { Labels: _labels, ...rest } = toCreateOptions(s, i, 'hash');
  return rest;
}

const minimal = {
  name: 'team-a.web',
  Image: 'busybox:1.36',
  HostConfig: { RestartPolicy: { Name: 'unless-stopped' } },
};

describe('toCreateOptions', () => {
  it('sets nothing the user did not specify, except the restart policy default', () => {
    expect(create(base)).toEqual(minimal);
  });

  type Case = [
    string,
    Partial<DockerContainerSpec>,
    Partial<Dockerode.ContainerCreateOptions>,
    Partial<Dockerode.HostConfig>?,
  ];
  const cases: Case[] = [
    ['command → Entrypoint', { command: ['/bin/sh', '-c'] }, { Entrypoint: ['/bin/sh', '-c'] }],
    ['empty command clears the image entrypoint', { command: [] }, { Entrypoint: [] }],
    ['args → Cmd', { args: ['sleep', '60'] }, { Cmd: ['sleep', '60'] }],
    ['workingDir', { workingDir: '/srv' }, { WorkingDir: '/srv' }],
    ['user', { user: '1000:1000' }, { User: '1000:1000' }],
    ['hostname', { hostname: 'web-1' }, { Hostname: 'web-1' }],
    ['stopSignal as given', { stopSignal: 'SIGQUIT' }, { StopSignal: 'SIGQUIT' }],
    ['stopGracePeriod → StopTimeout seconds', { stopGracePeriod: '1m30s' }, { StopTimeout: 90 }],
    ['stopGracePeriod rounds up', { stopGracePeriod: '1500ms' }, { StopTimeout: 2 }],
    [
      'port without hostPort is exposed only',
      { ports: [{ containerPort: 80 }] },
      { ExposedPorts: { '80/tcp': {} } },
    ],
    [
      'port with hostPort and hostIP, protocol lowercased',
      { ports: [{ containerPort: 53, hostPort: 5353, hostIP: '127.0.0.1', protocol: 'UDP' }] },
      { ExposedPorts: { '53/udp': {} } },
      { PortBindings: { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] } },
    ],
    [
      'one container port on two host ports',
      {
        ports: [
          { containerPort: 80, hostPort: 8080 },
          { containerPort: 80, hostPort: 8081, protocol: 'TCP' },
          { containerPort: 9, protocol: 'SCTP' },
        ],
      },
      { ExposedPorts: { '80/tcp': {}, '9/sctp': {} } },
      { PortBindings: { '80/tcp': [{ HostPort: '8080' }, { HostPort: '8081' }] } },
    ],
    [
      'volume mount uses the resolved Docker volume name',
      { mounts: [{ type: 'volume', volume: 'data', target: '/data', readOnly: true }] },
      {},
      { Mounts: [{ Type: 'volume', Source: 'team-a.data', Target: '/data', ReadOnly: true }] },
    ],
    [
      'bind mount',
      { mounts: [{ type: 'bind', hostPath: '/etc/ssl', target: '/etc/ssl', readOnly: false }] },
      {},
      { Mounts: [{ Type: 'bind', Source: '/etc/ssl', Target: '/etc/ssl' }] },
    ],
    [
      'tmpfs mount with a size',
      { mounts: [{ type: 'tmpfs', target: '/tmp', tmpfsSize: '64Mi' }] },
      {},
      { Mounts: [{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 67_108_864 } }] } as never,
    ],
    [
      'tmpfs mount without a size',
      { mounts: [{ type: 'tmpfs', target: '/run' }] },
      {},
      { Mounts: [{ Type: 'tmpfs', Target: '/run' }] } as never,
    ],
    [
      'tmpfs mode is octal in the spec, a number in the API',
      { mounts: [{ type: 'tmpfs', target: '/t', tmpfsSize: '1Mi', tmpfsMode: '1777' }] },
      {},
      {
        Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1_048_576, Mode: 0o1777 } }],
      } as never,
    ],
    [
      'tmpfs mode without a size',
      { mounts: [{ type: 'tmpfs', target: '/t', tmpfsMode: '700' }] },
      {},
      { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Mode: 0o700 } }] } as never,
    ],
    [
      'volume subPath and noCopy → VolumeOptions',
      { mounts: [{ type: 'volume', volume: 'data', target: '/d', subPath: 'app/conf', noCopy: true }] },
      {},
      {
        Mounts: [
          {
            Type: 'volume',
            Source: 'team-a.data',
            Target: '/d',
            VolumeOptions: { NoCopy: true, Subpath: 'app/conf' },
          },
        ],
      } as never,
    ],
    [
      'volume noCopy false sets no VolumeOptions',
      { mounts: [{ type: 'volume', volume: 'data', target: '/d', noCopy: false }] },
      {},
      { Mounts: [{ Type: 'volume', Source: 'team-a.data', Target: '/d' }] },
    ],
    [
      'bind propagation → BindOptions',
      { mounts: [{ type: 'bind', hostPath: '/srv', target: '/srv', propagation: 'rslave' }] },
      {},
      { Mounts: [{ Type: 'bind', Source: '/srv', Target: '/srv', BindOptions: { Propagation: 'rslave' } }] },
    ],
    [
      'an SELinux-relabelled bind goes to Binds (the Mounts API cannot relabel); the others stay Mounts',
      {
        mounts: [
          { type: 'bind', hostPath: '/a', target: '/a', selinuxRelabel: 'shared' },
          {
            type: 'bind',
            hostPath: '/b',
            target: '/b',
            readOnly: true,
            propagation: 'rshared',
            selinuxRelabel: 'private',
          },
          { type: 'tmpfs', target: '/t' },
        ],
      },
      {},
      { Mounts: [{ Type: 'tmpfs', Target: '/t' }], Binds: ['/a:/a:z', '/b:/b:ro,rshared,Z'] } as never,
    ],
    [
      'restartPolicy always',
      { restartPolicy: { name: 'always' } },
      {},
      { RestartPolicy: { Name: 'always' } },
    ],
    ['restartPolicy no', { restartPolicy: { name: 'no' } }, {}, { RestartPolicy: { Name: 'no' } }],
    [
      'restartPolicy on-failure with retries',
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 5 } },
      {},
      { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } },
    ],
    [
      'restartPolicy on-failure without retries',
      { restartPolicy: { name: 'on-failure' } },
      {},
      { RestartPolicy: { Name: 'on-failure' } },
    ],
    ['resources.memory', { resources: { memory: '256Mi' } }, {}, { Memory: 268_435_456 }],
    [
      'resources.memoryReservation',
      { resources: { memoryReservation: '1.5Gi' } },
      {},
      { MemoryReservation: 1_610_612_736 },
    ],
    ['resources.cpus', { resources: { cpus: '500m' } }, {}, { NanoCpus: 500_000_000 }],
    ['resources.pidsLimit', { resources: { pidsLimit: 100 } }, {}, { PidsLimit: 100 }],
    [
      'healthcheck with every field, durations in ns',
      {
        healthcheck: {
          command: ['nc', '-z', '127.0.0.1', '80'],
          interval: '30s',
          timeout: '5s',
          retries: 3,
          startPeriod: '1m',
        },
      },
      {
        Healthcheck: {
          Test: ['CMD', 'nc', '-z', '127.0.0.1', '80'],
          Interval: 30e9,
          Timeout: 5e9,
          Retries: 3,
          StartPeriod: 60e9,
        },
      },
    ],
    [
      'healthcheck with the command only',
      { healthcheck: { command: ['true'] } },
      { Healthcheck: { Test: ['CMD', 'true'] } },
    ],
    [
      'healthcheck in shell form with startInterval',
      { healthcheck: { shell: 'nc -z 127.0.0.1 80 || exit 1', startPeriod: '1m', startInterval: '500ms' } },
      {
        Healthcheck: {
          Test: ['CMD-SHELL', 'nc -z 127.0.0.1 80 || exit 1'],
          StartPeriod: 60e9,
          StartInterval: 500e6,
        },
      },
    ],
    [
      'healthcheck disabled: NONE alone',
      { healthcheck: { disable: true, interval: '5s' } },
      { Healthcheck: { Test: ['NONE'] } },
    ],
    [
      'healthcheck disable false runs the command',
      { healthcheck: { disable: false, command: ['true'] } },
      { Healthcheck: { Test: ['CMD', 'true'] } },
    ],
    ['tty', { tty: true }, { Tty: true }],
    ['stdinOpen', { stdinOpen: true }, { OpenStdin: true }],
    ['tty and stdinOpen false set nothing', { tty: false, stdinOpen: false }, {}],
    ['init', { init: true }, {}, { Init: true }],
    ['init false turns a daemon default off', { init: false }, {}, { Init: false }],
    [
      'sysctls',
      { sysctls: { 'net.ipv4.tcp_keepalive_time': '600', 'kernel.shm_rmid_forced': '1' } },
      {},
      { Sysctls: { 'net.ipv4.tcp_keepalive_time': '600', 'kernel.shm_rmid_forced': '1' } },
    ],
    [
      'ulimits, hard defaulting to soft, -1 unlimited',
      {
        ulimits: [
          { name: 'nofile', soft: 1024, hard: 4096 },
          { name: 'core', soft: 0 },
          { name: 'stack', soft: -1, hard: -1 },
        ],
      },
      {},
      {
        Ulimits: [
          { Name: 'nofile', Soft: 1024, Hard: 4096 },
          { Name: 'core', Soft: 0, Hard: 0 },
          { Name: 'stack', Soft: -1, Hard: -1 },
        ],
      },
    ],
    ['resources.shmSize → ShmSize bytes', { resources: { shmSize: '128Mi' } }, {}, { ShmSize: 134_217_728 }],
    [
      'hostAliases → ExtraHosts name:ip, IPv6 and host-gateway',
      {
        hostAliases: [
          { ip: '10.0.0.5', hostnames: ['db', 'db.internal'] },
          { ip: 'fd00::5', hostnames: ['db6'] },
          { ip: 'host-gateway', hostnames: ['host.docker.internal'] },
        ],
      },
      {},
      {
        ExtraHosts: [
          'db:10.0.0.5',
          'db.internal:10.0.0.5',
          'db6:fd00::5',
          'host.docker.internal:host-gateway',
        ],
      },
    ],
    [
      'dnsConfig → Dns, DnsSearch, DnsOptions',
      {
        dnsConfig: {
          nameservers: ['10.0.0.53', '2001:db8::53'],
          searches: ['svc.example.com'],
          options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }],
        },
      },
      {},
      {
        Dns: ['10.0.0.53', '2001:db8::53'],
        DnsSearch: ['svc.example.com'],
        DnsOptions: ['ndots:2', 'rotate'],
      },
    ],
    [
      'empty runtime lists and maps set nothing',
      {
        sysctls: {},
        ulimits: [],
        hostAliases: [],
        dnsConfig: { nameservers: [], searches: [], options: [] },
      },
      {},
      {},
    ],
    ['privileged', { security: { privileged: true } }, {}, { Privileged: true }],
    ['privileged false sets nothing', { security: { privileged: false } }, {}, {}],
    [
      'capabilities',
      { security: { capAdd: ['NET_ADMIN'], capDrop: ['ALL'] } },
      {},
      { CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'] },
    ],
    ['empty capability lists set nothing', { security: { capAdd: [], capDrop: [] } }, {}, {}],
    ['readOnlyRootFilesystem', { security: { readOnlyRootFilesystem: true } }, {}, { ReadonlyRootfs: true }],
    [
      'noNewPrivileges',
      { security: { noNewPrivileges: true } },
      {},
      { SecurityOpt: ['no-new-privileges:true'] },
    ],
    ['networkMode host', { security: { networkMode: 'host' } }, {}, { NetworkMode: 'host' }],
    ['networkMode none', { security: { networkMode: 'none' } }, {}, { NetworkMode: 'none' }],
    ['networkMode default sets nothing', { security: { networkMode: 'default' } }, {}, {}],
    ['pidMode host', { security: { pidMode: 'host' } }, {}, { PidMode: 'host' }],
    ['pidMode private is the default', { security: { pidMode: 'private' } }, {}, {}],
    ['ipcMode shareable', { security: { ipcMode: 'shareable' } }, {}, { IpcMode: 'shareable' }],
    ['ipcMode private', { security: { ipcMode: 'private' } }, {}, { IpcMode: 'private' }],
    ['utsMode host', { security: { utsMode: 'host' } }, {}, { UTSMode: 'host' }],
    ['utsMode private is the default', { security: { utsMode: 'private' } }, {}, {}],
    [
      'devices with defaults',
      {
        security: {
          devices: [
            { hostPath: '/dev/fuse' },
            { hostPath: '/dev/sda', containerPath: '/dev/xvda', permissions: 'r' },
          ],
        },
      },
      {},
      {
        Devices: [
          { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
          { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
        ],
      },
    ],
    [
      'device request without count or IDs asks for all (Count -1, as --gpus all)',
      { resources: { deviceRequests: [{ capabilities: [['gpu']] }] } },
      {},
      { DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }] },
    ],
    [
      'device requests by count, by IDs, with driver and options',
      {
        resources: {
          deviceRequests: [
            { driver: 'nvidia', count: 2, capabilities: [['gpu', 'utility'], ['compute']] },
            { deviceIDs: ['0', 'GPU-1'], capabilities: [['gpu']], options: { mode: 'x' } },
          ],
        },
      },
      {},
      {
        DeviceRequests: [
          { Driver: 'nvidia', Count: 2, Capabilities: [['gpu', 'utility'], ['compute']] },
          { DeviceIDs: ['0', 'GPU-1'], Capabilities: [['gpu']], Options: { mode: 'x' } },
        ],
      },
    ],
    [
      'device cgroup rules',
      { security: { deviceCgroupRules: ['c 1:3 mr', 'a *:* rwm'] } },
      {},
      { DeviceCgroupRules: ['c 1:3 mr', 'a *:* rwm'] },
    ],
    ['groupAdd', { security: { groupAdd: ['1000', 'audio'] } }, {}, { GroupAdd: ['1000', 'audio'] }],
    [
      'empty confinement lists set nothing',
      { resources: { deviceRequests: [] }, security: { deviceCgroupRules: [], groupAdd: [] } },
      {},
      {},
    ],
    [
      'RuntimeDefault seccomp and AppArmor are the daemon defaults: nothing to send',
      {
        security: { seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'RuntimeDefault' } },
      },
      {},
      {},
    ],
    [
      'seccomp Unconfined',
      { security: { seccompProfile: { type: 'Unconfined' } } },
      {},
      { SecurityOpt: ['seccomp=unconfined'] },
    ],
    [
      'AppArmor Unconfined',
      { security: { appArmorProfile: { type: 'Unconfined' } } },
      {},
      { SecurityOpt: ['apparmor=unconfined'] },
    ],
    [
      'AppArmor Localhost names the host profile, after no-new-privileges and seccomp',
      {
        security: {
          noNewPrivileges: true,
          seccompProfile: { type: 'Unconfined' },
          appArmorProfile: { type: 'Localhost', localhostProfile: 'dockyard-web' },
        },
      },
      {},
      { SecurityOpt: ['no-new-privileges:true', 'seccomp=unconfined', 'apparmor=dockyard-web'] },
    ],
    [
      'usernsMode and cgroupnsMode',
      { security: { usernsMode: 'host', cgroupnsMode: 'private' } },
      {},
      { UsernsMode: 'host', CgroupnsMode: 'private' } as Partial<Dockerode.HostConfig>,
    ],
    [
      'logging',
      { logging: { driver: 'json-file', options: { 'max-size': '10m' } } },
      {},
      { LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } } },
    ],
    [
      'logging without options',
      { logging: { driver: 'local' } },
      {},
      { LogConfig: { Type: 'local', Config: {} } },
    ],
    [
      'first network at create, with aliases and static IPv4',
      {
        networks: [
          { name: 'front', aliases: ['web', 'www'], ipv4Address: '10.1.0.5' },
          { name: 'back', aliases: ['api'] },
        ],
      },
      {
        NetworkingConfig: {
          EndpointsConfig: {
            'team-a.front': { Aliases: ['web', 'www'], IPAMConfig: { IPv4Address: '10.1.0.5' } },
          },
        },
      },
      { NetworkMode: 'team-a.front' },
    ],
    [
      'first network with static IPv6 and MAC: the MAC also in Config for engines before API 1.44',
      {
        networks: [
          {
            name: 'front',
            ipv4Address: '10.1.0.5',
            ipv6Address: 'fd00:1::5',
            macAddress: '02:42:0a:01:00:05',
          },
        ],
      },
      {
        MacAddress: '02:42:0a:01:00:05',
        NetworkingConfig: {
          EndpointsConfig: {
            'team-a.front': {
              IPAMConfig: { IPv4Address: '10.1.0.5', IPv6Address: 'fd00:1::5' },
              MacAddress: '02:42:0a:01:00:05',
            },
          },
        },
      },
      { NetworkMode: 'team-a.front' },
    ],
    [
      "a later network's MAC is not the container's (connected after create)",
      { networks: [{ name: 'front' }, { name: 'back', macAddress: '02:00:00:00:00:01' }] },
      { NetworkingConfig: { EndpointsConfig: { 'team-a.front': {} } } },
      { NetworkMode: 'team-a.front' },
    ],
    [
      'network without aliases',
      { networks: [{ name: 'back' }] },
      { NetworkingConfig: { EndpointsConfig: { 'team-a.back': {} } } },
      { NetworkMode: 'team-a.back' },
    ],
    [
      'networkMode host wins over networks',
      { networks: [{ name: 'front' }], security: { networkMode: 'host' } },
      {},
      { NetworkMode: 'host' },
    ],
    ['empty lists set nothing', { ports: [], mounts: [], networks: [] }, {}, {}],
    [
      'state, placement, deletionPolicy and stopGracePeriod-less fields do not reach Docker',
      { state: 'Stopped', deletionPolicy: 'Orphan', hostSelector: { matchLabels: { a: 'b' } } },
      {},
      {},
    ],
  ];

  it.each(cases)('%s', (_title, patch, expected, expectedHost = {}) => {
    expect(create(spec(patch))).toEqual({
      ...minimal,
      ...expected,
      HostConfig: { ...minimal.HostConfig, ...expectedHost },
    });
  });

  it('sets Env as NAME=value in the resolved order', () => {
    const opts = create(
      base,
      withInputs({
        env: [
          { name: 'B', value: '2' },
          { name: 'A', value: 'x=y' },
          { name: 'EMPTY', value: '' },
        ],
      }),
    );
    expect(opts.Env).toEqual(['B=2', 'A=x=y', 'EMPTY=']);
  });

  it('creates from the image reference the inputs give (digest-pinned)', () => {
    const pinned = 'busybox@sha256:' + 'a'.repeat(64);
    expect(
      create(spec({ imageRef: { name: 'bb' }, image: undefined }), withInputs({ image: pinned })).Image,
    ).toBe(pinned);
  });

  it('labels: the spec labels, then owner labels, the spec hash and the group hashes', () => {
    const s = spec({ labels: { team: 'a', 'dockyard.io/uid': 'spoofed' } });
    const labels = toCreateOptions(s, inputs, 'abc123').Labels;
    expect(labels).toEqual({
      team: 'a',
      ...inputs.ownerLabels,
      'dockyard.io/spec-hash': 'abc123',
      [SPEC_GROUPS_LABEL]: groupHashes(s, inputs),
    });
  });

  it.each([
    [
      'volume',
      { mounts: [{ type: 'volume' as const, volume: 'nope', target: '/x' }] },
      /DockerVolume "nope"/,
    ],
    ['network', { networks: [{ name: 'nope' }] }, /DockerNetwork "nope"/],
    [
      'networkContainer',
      { security: { networkMode: 'container' as const, networkContainer: 'vpn' } },
      /DockerContainer "vpn"/,
    ],
  ])('refuses an unresolved %s', (_kind, patch, message) => {
    expect(() => toCreateOptions(spec(patch), inputs, 'h')).toThrow(UnresolvedReferenceError);
    expect(() => toCreateOptions(spec(patch), inputs, 'h')).toThrow(message);
  });

  it.each<[string, NonNullable<DockerContainerSpec['security']>, string[]]>([
    [
      'seccomp Localhost: the resolved JSON text',
      { seccompProfile: { type: 'Localhost', localhostProfile: 'no-chmod' } },
      ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'],
    ],
    [
      'seccomp Localhost between no-new-privileges and AppArmor',
      {
        noNewPrivileges: true,
        seccompProfile: { type: 'Localhost', localhostProfile: 'no-chmod' },
        appArmorProfile: { type: 'Localhost', localhostProfile: 'dockyard-web' },
      },
      ['no-new-privileges:true', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'apparmor=dockyard-web'],
    ],
  ])('%s', (_title, security, securityOpt) => {
    const resolved = withInputs({
      seccompProfile: { json: '{"defaultAction":"SCMP_ACT_ALLOW"}', sha256: 'x' },
    });
    expect(toCreateOptions(spec({ security }), resolved, 'h').HostConfig?.SecurityOpt).toEqual(securityOpt);
  });

  it('refuses a Localhost seccomp profile that is not resolved (never the default profile instead)', () => {
    const s = spec({ security: { seccompProfile: { type: 'Localhost', localhostProfile: 'no-chmod' } } });
    expect(() => toCreateOptions(s, inputs, 'h')).toThrow(UnresolvedReferenceError);
    expect(() => toCreateOptions(s, inputs, 'h')).toThrow(/seccomp profile "no-chmod"/);
  });

  it("networkMode container joins the target's network namespace by container ID, no network of its own", () => {
    const s = spec({ security: { networkMode: 'container', networkContainer: 'vpn' } });
    const opts = toCreateOptions(s, withInputs({ networkContainerId: 'f00d' }), 'h');
    expect(opts.HostConfig?.NetworkMode).toBe('container:f00d');
    expect(opts.NetworkingConfig).toBeUndefined();
  });

  it('mounts inherited anonymous volumes after the spec mounts, and leaves the hash alone', () => {
    const s = spec({ mounts: [{ type: 'volume', volume: 'data', target: '/data' }] });
    const opts = toCreateOptions(s, inputs, 'h', {
      inherit: [
        { name: ANON, target: '/var/lib/db', readOnly: false },
        { name: ANON2, target: '/ro', readOnly: true },
      ],
    });
    expect(opts.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'team-a.data', Target: '/data' },
      { Type: 'volume', Source: ANON, Target: '/var/lib/db' },
      { Type: 'volume', Source: ANON2, Target: '/ro', ReadOnly: true },
    ]);
    expect(opts.Labels?.['dockyard.io/spec-hash']).toBe('h');
    expect(toCreateOptions(base, inputs, 'h', { inherit: [] }).HostConfig?.Mounts).toBeUndefined();
  });
});

describe('stopTimeoutSeconds', () => {
  it.each([
    [undefined, 10],
    ['30s', 30],
    ['2m', 120],
    ['100ms', 1],
  ])('%s → %d', (grace, seconds) => {
    expect(stopTimeoutSeconds(spec(grace === undefined ? {} : { stopGracePeriod: grace }))).toBe(seconds);
  });
});
