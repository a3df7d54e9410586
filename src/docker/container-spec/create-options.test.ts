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
  ])('refuses an unresolved %s', (_kind, patch, message) => {
    expect(() => toCreateOptions(spec(patch), inputs, 'h')).toThrow(UnresolvedReferenceError);
    expect(() => toCreateOptions(spec(patch), inputs, 'h')).toThrow(message);
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
