import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import type { ObservedContainer } from './container-client.js';
import {
  desiredUpdate,
  groupHashes,
  needsRecreate,
  networkChanges,
  recreateHash,
  recreateReasons,
  removedLimits,
  SPEC_GROUPS_LABEL,
  stopTimeoutSeconds,
  toCreateOptions,
  UnresolvedReferenceError,
  updateNeeded,
  inheritedVolumes,
  type ContainerInputs,
} from './container-spec.js';
import { observedContainer } from './test-support.js';

const base: DockerContainerSpec = { hostName: 'h1', image: 'busybox:1.36' };

const inputs: ContainerInputs = {
  name: 'team-a.web',
  image: 'busybox:1.36',
  env: [],
  volumeNames: { data: 'team-a.data', cache: 'team-a.cache' },
  networkNames: { front: 'team-a.front', back: 'team-a.back' },
  ownerLabels: {
    'dockyard.io/uid': 'u1',
    'dockyard.io/namespace': 'team-a',
    'dockyard.io/name': 'web',
    'dockyard.io/kind': 'DockerContainer',
    'dockyard.io/deletion-policy': 'Delete',
  },
};

const spec = (patch: Partial<DockerContainerSpec>): DockerContainerSpec => ({ ...base, ...patch });
const withInputs = (patch: Partial<ContainerInputs>): ContainerInputs => ({ ...inputs, ...patch });

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

const ANON = 'a'.repeat(64);
const ANON2 = 'b'.repeat(64);

describe('inheritedVolumes', () => {
  type Mounts = ObservedContainer['mounts'];
  const vol = (name: string, destination: string, readOnly = false) => ({
    type: 'volume',
    name,
    destination,
    readOnly,
  });
  it.each<[string, Partial<DockerContainerSpec>, Mounts, string[], unknown]>([
    ['no mounts: nothing', {}, [], ['/var/lib/db'], []],
    [
      "the image VOLUME's anonymous volume is carried over",
      {},
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [{ name: ANON, target: '/var/lib/db', readOnly: false }],
    ],
    [
      'read-only stays read-only',
      {},
      [vol(ANON, '/var/lib/db', true)],
      ['/var/lib/db'],
      [{ name: ANON, target: '/var/lib/db', readOnly: true }],
    ],
    [
      'a DockerVolume the spec no longer mounts is not (named, not anonymous)',
      {},
      [vol('team-a.data', '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    [
      'a path the spec now mounts a DockerVolume at belongs to the spec',
      { mounts: [{ type: 'volume', volume: 'data', target: '/var/lib/db' }] },
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    [
      'a path the spec now mounts a tmpfs at belongs to the spec',
      { mounts: [{ type: 'tmpfs', target: '/var/lib/db' }] },
      [vol(ANON, '/var/lib/db')],
      ['/var/lib/db'],
      [],
    ],
    ['a volume at a path nobody declared is not anonymous', {}, [vol(ANON, '/other')], ['/var/lib/db'], []],
    [
      'binds and tmpfs are never carried over',
      {},
      [
        { type: 'bind', destination: '/var/lib/db', readOnly: false },
        { type: 'tmpfs', destination: '/cache', readOnly: false },
      ],
      ['/var/lib/db', '/cache'],
      [],
    ],
    [
      'several, sorted by target',
      {},
      [vol(ANON2, '/z'), vol(ANON, '/a')],
      ['/a', '/z'],
      [
        { name: ANON, target: '/a', readOnly: false },
        { name: ANON2, target: '/z', readOnly: false },
      ],
    ],
  ])('%s', (_name, patch, mounts, declaredVolumes, expected) => {
    expect(inheritedVolumes(spec(patch), observed({ mounts, declaredVolumes }))).toEqual(expected);
  });
});

describe('recreateHash', () => {
  const h = (patch: Partial<DockerContainerSpec>, i: Partial<ContainerInputs> = {}) =>
    recreateHash(spec(patch), withInputs(i));
  const baseHash = h({});

  it('is a short stable hex string', () => {
    expect(baseHash).toMatch(/^[0-9a-f]{16}$/);
    expect(h({})).toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<ContainerInputs>?]>([
    ['container name', {}, { name: 'other' }],
    ['image', {}, { image: 'busybox:1.37' }],
    ['image digest', {}, { imageDigest: 'sha256:' + 'b'.repeat(64) }],
    ['command', { command: ['sh'] }],
    ['empty command (clears the entrypoint)', { command: [] }],
    ['args', { args: ['a'] }],
    ['workingDir', { workingDir: '/w' }],
    ['user', { user: 'nobody' }],
    ['hostname', { hostname: 'h' }],
    ['env', {}, { env: [{ name: 'A', value: '1' }] }],
    ['a port', { ports: [{ containerPort: 80 }] }],
    ['a mount', { mounts: [{ type: 'tmpfs', target: '/t' }] }],
    ['the healthcheck', { healthcheck: { command: ['true'] } }],
    ['privileged', { security: { privileged: true } }],
    ['capAdd', { security: { capAdd: ['NET_ADMIN'] } }],
    ['capDrop', { security: { capDrop: ['ALL'] } }],
    ['readOnlyRootFilesystem', { security: { readOnlyRootFilesystem: true } }],
    ['noNewPrivileges', { security: { noNewPrivileges: true } }],
    ['networkMode host', { security: { networkMode: 'host' } }],
    ['pidMode host', { security: { pidMode: 'host' } }],
    ['ipcMode', { security: { ipcMode: 'shareable' } }],
    ['utsMode host', { security: { utsMode: 'host' } }],
    ['devices', { security: { devices: [{ hostPath: '/dev/fuse' }] } }],
    ['labels', { labels: { a: 'b' } }],
    ['stopSignal', { stopSignal: 'SIGINT' }],
    ['logging', { logging: { driver: 'local' } }],
  ])('changes with %s', (_what, patch, i) => {
    expect(h(patch, i)).not.toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>]>([
    ['restartPolicy', { restartPolicy: { name: 'always' } }],
    ['resources', { resources: { memory: '1Gi', memoryReservation: '512Mi', cpus: '2', pidsLimit: 10 } }],
    ['networks', { networks: [{ name: 'front', aliases: ['a'] }] }],
    ['state', { state: 'Stopped' }],
    ['placement', { hostName: 'other' }],
    ['deletionPolicy', { deletionPolicy: 'Orphan' }],
    ['stopGracePeriod', { stopGracePeriod: '1m' }],
    ['empty lists and maps', { ports: [], mounts: [], labels: {}, command: undefined }],
    [
      'off switches',
      {
        security: {
          privileged: false,
          networkMode: 'default',
          pidMode: 'private',
          utsMode: 'private',
          capAdd: [],
        },
      },
    ],
    ['logging options {}', {}],
  ])('ignores %s', (_what, patch) => {
    expect(h(patch)).toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<DockerContainerSpec>]>([
    [
      'port order',
      { ports: [{ containerPort: 80 }, { containerPort: 443 }] },
      { ports: [{ containerPort: 443 }, { containerPort: 80 }] },
    ],
    [
      'default protocol',
      { ports: [{ containerPort: 80 }] },
      { ports: [{ containerPort: 80, protocol: 'TCP' }] },
    ],
    [
      'mount order',
      {
        mounts: [
          { type: 'tmpfs', target: '/a' },
          { type: 'tmpfs', target: '/b' },
        ],
      },
      {
        mounts: [
          { type: 'tmpfs', target: '/b' },
          { type: 'tmpfs', target: '/a' },
        ],
      },
    ],
    [
      'readOnly false',
      { mounts: [{ type: 'tmpfs', target: '/a' }] },
      { mounts: [{ type: 'tmpfs', target: '/a', readOnly: false }] },
    ],
    [
      'equal tmpfs sizes',
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsSize: '1Mi' }] },
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsSize: '1024Ki' }] },
    ],
    [
      'equal durations',
      { healthcheck: { command: ['true'], interval: '1m' } },
      { healthcheck: { command: ['true'], interval: '60s' } },
    ],
    [
      'capability order, case and CAP_ prefix',
      { security: { capAdd: ['NET_ADMIN', 'SYS_TIME'] } },
      { security: { capAdd: ['CAP_SYS_TIME', 'NET_ADMIN', 'NET_ADMIN'] } },
    ],
    ['stop signal spelling', { stopSignal: 'TERM' }, { stopSignal: 'SIGTERM' }],
    [
      'device defaults',
      { security: { devices: [{ hostPath: '/dev/fuse' }] } },
      { security: { devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' }] } },
    ],
    ['label order', { labels: { a: '1', b: '2' } }, { labels: { b: '2', a: '1' } }],
    [
      'logging options {} and unset',
      { logging: { driver: 'local' } },
      { logging: { driver: 'local', options: {} } },
    ],
  ])('is the same regardless of %s', (_what, a, b) => {
    expect(h(a)).toBe(h(b));
  });

  it('keeps command and args order', () => {
    expect(h({ args: ['a', 'b'] })).not.toBe(h({ args: ['b', 'a'] }));
    expect(h({ command: ['a'], args: ['b'] })).not.toBe(h({ command: ['a', 'b'] }));
  });

  it('ignores env order but not env values; a later duplicate wins', () => {
    const ab = [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ];
    expect(h({}, { env: ab })).toBe(h({}, { env: [...ab].reverse() }));
    expect(h({}, { env: ab })).not.toBe(
      h(
        {},
        {
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '3' },
          ],
        },
      ),
    );
    expect(h({}, { env: [...ab, { name: 'A', value: '9' }] })).toBe(
      h(
        {},
        {
          env: [
            { name: 'A', value: '9' },
            { name: 'B', value: '2' },
          ],
        },
      ),
    );
  });

  it('follows the resolved Docker volume name, not the DockerVolume name', () => {
    const m = { mounts: [{ type: 'volume' as const, volume: 'data', target: '/d' }] };
    expect(h(m)).not.toBe(h(m, { volumeNames: { data: 'elsewhere' } }));
  });

  it('ignores the owner labels (deletionPolicy lives there)', () => {
    expect(h({}, { ownerLabels: { other: 'x' } })).toBe(baseHash);
  });
});

function observed(
  patch: Partial<ObservedContainer> = {},
  host: Partial<ObservedContainer['hostConfig']> = {},
): ObservedContainer {
  return observedContainer({
    id: 'c0ffee' + '0'.repeat(58),
    name: 'team-a.web',
    image: 'busybox:1.36',
    imageId: 'sha256:' + 'f'.repeat(64),
    hostConfig: host,
    ...patch,
  });
}

describe('desiredUpdate', () => {
  it.each<[string, Partial<DockerContainerSpec>, ReturnType<typeof desiredUpdate>]>([
    [
      'nothing set: unless-stopped, limits cleared where Docker can',
      {},
      {
        RestartPolicy: { Name: 'unless-stopped' },
        Memory: 0,
        MemoryReservation: -1,
        NanoCpus: 0,
        PidsLimit: 0,
      },
    ],
    [
      'everything set; MemorySwap twice Memory',
      {
        restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
        resources: { memory: '64Mi', memoryReservation: '32Mi', cpus: '1.5', pidsLimit: 64 },
      },
      {
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
        Memory: 67_108_864,
        MemorySwap: 134_217_728,
        MemoryReservation: 33_554_432,
        NanoCpus: 1_500_000_000,
        PidsLimit: 64,
      },
    ],
  ])('%s', (_title, patch, body) => {
    expect(desiredUpdate(spec(patch))).toEqual(body);
  });
});

describe('updateNeeded', () => {
  const MiB = 1024 * 1024;
  it.each<[string, Partial<DockerContainerSpec>, Partial<ObservedContainer['hostConfig']>, unknown]>([
    ['a fresh container with nothing set', {}, {}, undefined],
    [
      'Docker reporting "" for a never-set policy is "no"',
      { restartPolicy: { name: 'no' } },
      { restartPolicy: { name: 'no', maximumRetryCount: 0 } },
      undefined,
    ],
    [
      'all limits as specified',
      { resources: { memory: '64Mi', memoryReservation: '32Mi', cpus: '500m', pidsLimit: 50 } },
      { memory: 64 * MiB, memorySwap: 128 * MiB, memoryReservation: 32 * MiB, nanoCpus: 5e8, pidsLimit: 50 },
      undefined,
    ],
    [
      'memory swap is never compared',
      { resources: { memory: '64Mi' } },
      { memory: 64 * MiB, memorySwap: -1 },
      undefined,
    ],
    ['a cleared reservation reported as -1', {}, { memoryReservation: -1 }, undefined],
    [
      'restart policy changed',
      { restartPolicy: { name: 'always' } },
      {},
      { RestartPolicy: { Name: 'always' } },
    ],
    [
      'retry count changed',
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } },
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 1 } },
      { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
    ],
    [
      'on-failure without a count against a count',
      { restartPolicy: { name: 'on-failure' } },
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 4 } },
      { RestartPolicy: { Name: 'on-failure' } },
    ],
    [
      'memory raised: MemorySwap goes with it',
      { resources: { memory: '256Mi' } },
      { memory: 64 * MiB, memorySwap: 128 * MiB },
      { Memory: 256 * MiB, MemorySwap: 512 * MiB },
    ],
    [
      'memory added to a container without one',
      { resources: { memory: '64Mi' } },
      {},
      { Memory: 64 * MiB, MemorySwap: 128 * MiB },
    ],
    [
      'reservation changed',
      { resources: { memoryReservation: '16Mi' } },
      { memoryReservation: 32 * MiB },
      { MemoryReservation: 16 * MiB },
    ],
    ['reservation removed → -1', {}, { memoryReservation: 32 * MiB }, { MemoryReservation: -1 }],
    ['cpus changed', { resources: { cpus: '2' } }, { nanoCpus: 5e8 }, { NanoCpus: 2e9 }],
    ['pids limit changed', { resources: { pidsLimit: 10 } }, { pidsLimit: 20 }, { PidsLimit: 10 }],
    ['pids limit removed → 0', {}, { pidsLimit: 20 }, { PidsLimit: 0 }],
    ['memory removed: not an update (Docker ignores 0)', {}, { memory: 64 * MiB }, undefined],
    ['cpus removed: not an update (Docker refuses -1)', {}, { nanoCpus: 5e8 }, undefined],
  ])('%s', (_title, patch, host, body) => {
    expect(updateNeeded(spec(patch), observed({}, host))).toEqual(body);
  });
});

describe('removedLimits and needsRecreate', () => {
  const hash = recreateHash(base, inputs);
  const ours = { labels: { 'dockyard.io/spec-hash': hash } };

  it.each<[string, Partial<DockerContainerSpec>, Partial<ObservedContainer['hostConfig']>, string[]]>([
    ['none', {}, {}, []],
    ['memory limit dropped', {}, { memory: 1 << 26 }, ['resources.memory']],
    ['cpu limit dropped', {}, { nanoCpus: 1e9 }, ['resources.cpus']],
    ['limits still set', { resources: { memory: '1Gi', cpus: '2' } }, { memory: 1 << 26, nanoCpus: 1e9 }, []],
    ['reservation and pids are cleared in place', {}, { memoryReservation: 1 << 20, pidsLimit: 5 }, []],
  ])('%s', (_title, patch, host, removed) => {
    expect(removedLimits(spec(patch), observed({}, host))).toEqual(removed);
    expect(needsRecreate(spec(patch), inputs, observed(ours, host))).toBe(removed.length > 0);
  });

  it('follows the spec-hash label', () => {
    expect(needsRecreate(base, inputs, observed(ours))).toBe(false);
    expect(needsRecreate(base, inputs, observed({ labels: { 'dockyard.io/spec-hash': 'old' } }))).toBe(true);
    expect(needsRecreate(base, inputs, observed({ labels: {} }))).toBe(true);
  });
});

describe('networkChanges', () => {
  const ep = (aliases: string[] = [], ipv4Address?: string) => ({
    aliases,
    ...(ipv4Address ? { ipv4Address } : {}),
  });
  type Case = [
    string,
    Partial<DockerContainerSpec>,
    ObservedContainer['networks'],
    ReturnType<typeof networkChanges>,
  ];
  const cases: Case[] = [
    ['no networks: the default bridge stays', {}, { bridge: ep() }, { disconnect: [], connect: [] }],
    ['no networks and no bridge: connect it', {}, {}, { disconnect: [], connect: [{ network: 'bridge' }] }],
    [
      'no networks: others go',
      {},
      { bridge: ep(), 'team-a.front': ep(['web']) },
      { disconnect: ['team-a.front'], connect: [] },
    ],
    [
      'in sync',
      { networks: [{ name: 'front', aliases: ['web'] }, { name: 'back' }] },
      { 'team-a.front': ep(['web']), 'team-a.back': ep() },
      { disconnect: [], connect: [] },
    ],
    [
      'alias order does not matter',
      { networks: [{ name: 'front', aliases: ['a', 'b'] }] },
      { 'team-a.front': ep(['b', 'a']) },
      { disconnect: [], connect: [] },
    ],
    [
      'second network after create',
      { networks: [{ name: 'front' }, { name: 'back', aliases: ['api'] }] },
      { 'team-a.front': ep() },
      { disconnect: [], connect: [{ network: 'team-a.back', aliases: ['api'] }] },
    ],
    [
      'with spec networks the default bridge goes',
      { networks: [{ name: 'front' }] },
      { bridge: ep(), 'team-a.front': ep() },
      { disconnect: ['bridge'], connect: [] },
    ],
    [
      'from the bridge to spec networks',
      { networks: [{ name: 'front', ipv4Address: '10.0.0.9' }] },
      { bridge: ep() },
      { disconnect: ['bridge'], connect: [{ network: 'team-a.front', ipv4Address: '10.0.0.9' }] },
    ],
    [
      'network removed from the spec',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep(), 'team-a.back': ep() },
      { disconnect: ['team-a.back'], connect: [] },
    ],
    [
      "an alias equal to the hostname is Docker's own (observe leaves it out)",
      { hostname: 'web-1', networks: [{ name: 'front', aliases: ['web', 'web-1'] }] },
      { 'team-a.front': ep(['web']) },
      { disconnect: [], connect: [] },
    ],
    [
      'changed aliases: reconnect',
      { networks: [{ name: 'front', aliases: ['new'] }] },
      { 'team-a.front': ep(['old']) },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front', aliases: ['new'] }] },
    ],
    [
      'aliases removed: reconnect',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep(['old']) },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front' }] },
    ],
    [
      'changed static IPv4: reconnect',
      { networks: [{ name: 'front', ipv4Address: '10.0.0.2' }] },
      { 'team-a.front': ep([], '10.0.0.1') },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front', ipv4Address: '10.0.0.2' }] },
    ],
    [
      'static IPv4 dropped: reconnect',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep([], '10.0.0.1') },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front' }] },
    ],
    [
      'networkMode host: nothing, whatever is attached',
      { security: { networkMode: 'host' }, networks: [{ name: 'front' }] },
      { host: ep() },
      { disconnect: [], connect: [] },
    ],
    [
      'networkMode none: nothing',
      { security: { networkMode: 'none' } },
      { none: ep() },
      { disconnect: [], connect: [] },
    ],
  ];

  it.each(cases)('%s', (_title, patch, networks, changes) => {
    expect(networkChanges(spec(patch), inputs, observed({ networks }))).toEqual(changes);
  });

  it('refuses an unresolved network', () => {
    expect(() => networkChanges(spec({ networks: [{ name: 'x' }] }), inputs, observed())).toThrow(
      UnresolvedReferenceError,
    );
  });
});

describe('recreateReasons', () => {
  const createdFrom = (s: DockerContainerSpec, i: ContainerInputs = inputs) =>
    observed({ labels: toCreateOptions(s, i, recreateHash(s, i)).Labels ?? {}, image: i.image });

  it('is empty when nothing changed', () => {
    expect(recreateReasons(base, inputs, createdFrom(base))).toEqual([]);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<ContainerInputs>, string[]]>([
    ['image', {}, { image: 'busybox:1.37' }, ['image']],
    ['digest', {}, { imageDigest: 'sha256:1' }, ['image']],
    ['env', {}, { env: [{ name: 'A', value: '1' }] }, ['env']],
    ['command and args', { args: ['x'] }, {}, ['command/args']],
    [
      'ports and mounts',
      { ports: [{ containerPort: 1 }], mounts: [{ type: 'tmpfs', target: '/t' }] },
      {},
      ['mounts', 'ports'],
    ],
    ['healthcheck', { healthcheck: { command: ['true'] } }, {}, ['healthcheck']],
    ['security', { security: { readOnlyRootFilesystem: true } }, {}, ['security']],
    [
      'labels, stopSignal, logging',
      { labels: { a: 'b' }, stopSignal: 'INT', logging: { driver: 'local' } },
      {},
      ['labels', 'logging', 'stopSignal'],
    ],
    ['container name', {}, { name: 'renamed' }, ['containerName']],
    [
      'workingDir, user, hostname',
      { workingDir: '/w', user: 'u', hostname: 'h' },
      {},
      ['hostname', 'user', 'workingDir'],
    ],
  ])('names %s', (_title, patch, i, reasons) => {
    expect(recreateReasons(spec(patch), withInputs(i), createdFrom(base))).toEqual(reasons);
  });

  it('names a field that was removed', () => {
    const before = spec({ hostname: 'h' });
    expect(recreateReasons(base, inputs, createdFrom(before))).toEqual(['hostname']);
  });

  it('adds limits Docker cannot remove in place', () => {
    const o = createdFrom(base);
    o.hostConfig.memory = 1 << 26;
    expect(recreateReasons(base, inputs, o)).toEqual(['resources.memory removed']);
  });

  it('without the groups label: the image when it differs, else "spec changed"', () => {
    const old = { labels: { 'dockyard.io/spec-hash': 'old' }, image: 'busybox:1.35' };
    expect(recreateReasons(base, inputs, observed(old))).toEqual(['image']);
    expect(recreateReasons(base, inputs, observed({ ...old, image: 'busybox:1.36' }))).toEqual([
      'spec changed',
    ]);
  });

  it('with a garbled groups label: "spec changed"', () => {
    const o = observed({ labels: { 'dockyard.io/spec-hash': 'old', [SPEC_GROUPS_LABEL]: 'garbage' } });
    expect(recreateReasons(base, inputs, o)).toEqual(['spec changed']);
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
