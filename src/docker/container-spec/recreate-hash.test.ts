import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ContainerInputs } from './inputs.js';
import { recreateHash } from './recreate-hash.js';
import { spec, withInputs } from './test-support.js';

const localSeccomp = (localhostProfile: string): Partial<DockerContainerSpec> => ({
  security: { seccompProfile: { type: 'Localhost', localhostProfile } },
});
const profile = (digit: string) => ({ json: '{"defaultAction":"SCMP_ACT_ALLOW"}', sha256: digit.repeat(64) });

describe('recreateHash', () => {
  const h = (patch: Partial<DockerContainerSpec>, i: Partial<ContainerInputs> = {}) =>
    recreateHash(spec(patch), withInputs(i));
  const baseHash = h({});

  it('ignores a digest the host policy pinned spec.image to: a pin alone recreates nothing', () => {
    const image = withInputs({}).image;
    const pinned = h({}, { image: `${image.split(':')[0]}@sha256:${'d'.repeat(64)}`, pinnedFrom: image });
    expect(pinned).toBe(baseHash);
    expect(h({}, { image: 'busybox@sha256:' + 'd'.repeat(64), pinnedFrom: 'busybox:1.37' })).not.toBe(
      baseHash,
    );
  });

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
    ['the files (their hash)', {}, { filesHash: 'c'.repeat(64) }],
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
    ['a device request', { resources: { deviceRequests: [{ capabilities: [['gpu']] }] } }],
    ['device request count', { resources: { deviceRequests: [{ count: 1, capabilities: [['gpu']] }] } }],
    ['deviceCgroupRules', { security: { deviceCgroupRules: ['c 1:3 mr'] } }],
    ['groupAdd', { security: { groupAdd: ['1000'] } }],
    ['seccomp Unconfined', { security: { seccompProfile: { type: 'Unconfined' } } }],
    ['seccomp Localhost', localSeccomp('no-chmod'), { seccompProfile: profile('a') }],
    ['AppArmor Unconfined', { security: { appArmorProfile: { type: 'Unconfined' } } }],
    [
      'AppArmor Localhost',
      { security: { appArmorProfile: { type: 'Localhost', localhostProfile: 'dockyard-web' } } },
    ],
    ['usernsMode host', { security: { usernsMode: 'host' } }],
    ['cgroupnsMode private', { security: { cgroupnsMode: 'private' } }],
    ['cgroupnsMode host', { security: { cgroupnsMode: 'host' } }],
    ['labels', { labels: { a: 'b' } }],
    ['stopSignal', { stopSignal: 'SIGINT' }],
    ['logging', { logging: { driver: 'local' } }],
    ['tmpfsMode', { mounts: [{ type: 'tmpfs', target: '/t', tmpfsMode: '700' }] }],
    ['subPath', { mounts: [{ type: 'volume', volume: 'data', target: '/d', subPath: 'x' }] }],
    ['noCopy', { mounts: [{ type: 'volume', volume: 'data', target: '/d', noCopy: true }] }],
    ['propagation', { mounts: [{ type: 'bind', hostPath: '/s', target: '/s', propagation: 'rslave' }] }],
    [
      'selinuxRelabel',
      { mounts: [{ type: 'bind', hostPath: '/s', target: '/s', selinuxRelabel: 'shared' }] },
    ],
    [
      "the first network's MAC (create-time on engines before 1.44)",
      { networks: [{ name: 'front', macAddress: '02:00:00:00:00:01' }] },
    ],
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
    [
      'empty confinement lists and the runtime-default profiles',
      {
        resources: { deviceRequests: [] },
        security: {
          deviceCgroupRules: [],
          groupAdd: [],
          seccompProfile: { type: 'RuntimeDefault' },
          appArmorProfile: { type: 'RuntimeDefault' },
        },
      },
    ],
    ['logging options {}', {}],
    [
      "static IPv6 and a later network's MAC (changed in place)",
      {
        networks: [
          { name: 'front', ipv6Address: 'fd00::2' },
          { name: 'back', macAddress: '02:00:00:00:00:02' },
        ],
      },
    ],
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
      'group and cgroup rule order and duplicates',
      { security: { groupAdd: ['10', '20'], deviceCgroupRules: ['c 1:3 r', 'b 8:0 rw'] } },
      { security: { groupAdd: ['20', '10', '20'], deviceCgroupRules: ['b 8:0 rw', 'c 1:3 r'] } },
    ],
    [
      'the order of the capabilities a driver must all offer, and empty options',
      { resources: { deviceRequests: [{ capabilities: [['gpu', 'utility']] }] } },
      { resources: { deviceRequests: [{ capabilities: [['utility', 'gpu']], options: {} }] } },
    ],
    [
      'logging options {} and unset',
      { logging: { driver: 'local' } },
      { logging: { driver: 'local', options: {} } },
    ],
    [
      'the spelling of a tmpfs mode',
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsMode: '700' }] },
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsMode: '0700' }] },
    ],
    [
      'noCopy false and unset',
      { mounts: [{ type: 'volume', volume: 'data', target: '/d' }] },
      { mounts: [{ type: 'volume', volume: 'data', target: '/d', noCopy: false }] },
    ],
    [
      'MAC case',
      { networks: [{ name: 'front', macAddress: '02:aa:00:00:00:01' }] },
      { networks: [{ name: 'front', macAddress: '02:AA:00:00:00:01' }] },
    ],
  ])('is the same regardless of %s', (_what, a, b) => {
    expect(h(a)).toBe(h(b));
  });

  it('tells device requests apart: all, a count, device IDs, another driver', () => {
    const gpu = { capabilities: [['gpu']] };
    const hashes = [
      h({ resources: { deviceRequests: [gpu] } }),
      h({ resources: { deviceRequests: [{ ...gpu, count: 1 }] } }),
      h({ resources: { deviceRequests: [{ ...gpu, deviceIDs: ['0'] }] } }),
      h({ resources: { deviceRequests: [{ ...gpu, driver: 'nvidia' }] } }),
      h({ resources: { deviceRequests: [{ capabilities: [['gpu'], ['compute']] }] } }),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("follows a Localhost seccomp profile's content and name, not only its name", () => {
    const same = h(localSeccomp('no-chmod'), { seccompProfile: profile('a') });
    expect(h(localSeccomp('no-chmod'), { seccompProfile: profile('a') })).toBe(same);
    expect(h(localSeccomp('no-chmod'), { seccompProfile: profile('b') })).not.toBe(same);
    expect(h(localSeccomp('no-mkdir'), { seccompProfile: profile('a') })).not.toBe(same);
    // A resolved profile the spec does not ask for is not part of the container.
    expect(h({}, { seccompProfile: profile('a') })).toBe(baseHash);
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

  it('hashes a spec without the mount options, IPv6 or MAC exactly as before they existed', () => {
    // Computed with the code of the commit before these fields: upgrading
    // Dockyard must not recreate existing containers.
    const before = {
      mounts: [
        { type: 'volume' as const, volume: 'data', target: '/d' },
        { type: 'bind' as const, hostPath: '/srv', target: '/srv', readOnly: true },
        { type: 'tmpfs' as const, target: '/t', tmpfsSize: '1Mi' },
      ],
      networks: [{ name: 'front', aliases: ['a'], ipv4Address: '10.0.0.2' }],
    };
    expect(h(before, { volumeNames: { data: 'team-a.data' } })).toBe('69aea81974fc86b7');
  });

  it("follows the networkContainer's container ID, only in networkMode container", () => {
    const shared = { security: { networkMode: 'container' as const, networkContainer: 'vpn' } };
    expect(h(shared, { networkContainerId: 'a' })).not.toBe(h(shared, { networkContainerId: 'b' }));
    expect(h({}, { networkContainerId: 'a' })).toBe(baseHash);
  });

  it('ignores the owner labels (deletionPolicy lives there)', () => {
    expect(h({}, { ownerLabels: { other: 'x' } })).toBe(baseHash);
  });
});

describe('recreateHash: process and runtime fields (none changes in place)', () => {
  const h = (patch: Partial<DockerContainerSpec>) => recreateHash(spec(patch), withInputs({}));
  const baseHash = h({});
  const hc = { command: ['nc', '-z', '127.0.0.1', '80'], interval: '5s', retries: 3 };

  it('hashes a spec without them exactly as before they existed', () => {
    // Computed with the code of the commit before these fields: upgrading
    // Dockyard must not recreate existing containers.
    const before = spec({
      hostname: 'web-1',
      healthcheck: { ...hc, timeout: '2s', startPeriod: '10s' },
      resources: { memory: '64Mi', pidsLimit: 100 },
      security: { readOnlyRootFilesystem: true, capDrop: ['ALL'] },
    });
    expect(recreateHash(before, withInputs({ env: [{ name: 'A', value: '1' }] }))).toBe('760f91db0c3f2e5b');
    expect(baseHash).toBe('70e08304f0cbee41');
  });

  it.each<[string, Partial<DockerContainerSpec>]>([
    ['a sysctl', { sysctls: { 'net.ipv4.tcp_syncookies': '1' } }],
    ['a ulimit', { ulimits: [{ name: 'nofile', soft: 1024 }] }],
    ['shmSize', { resources: { shmSize: '128Mi' } }],
    ['init true', { init: true }],
    ['init false (turns off a daemon default)', { init: false }],
    ['tty', { tty: true }],
    ['stdinOpen', { stdinOpen: true }],
    ['a host alias', { hostAliases: [{ ip: 'host-gateway', hostnames: ['host.docker.internal'] }] }],
    ['a name server', { dnsConfig: { nameservers: ['10.0.0.53'] } }],
    ['a search domain', { dnsConfig: { searches: ['example.com'] } }],
    ['a resolv.conf option', { dnsConfig: { options: [{ name: 'ndots', value: '1' }] } }],
    ['the healthcheck disabled', { healthcheck: { disable: true } }],
  ])('changes with %s', (_what, patch) => {
    expect(h(patch)).not.toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<DockerContainerSpec>]>([
    ['unset and empty maps and lists', {}, { sysctls: {}, ulimits: [], hostAliases: [], dnsConfig: {} }],
    ['tty and stdinOpen false', {}, { tty: false, stdinOpen: false }],
    ['sysctl order', { sysctls: { 'a.b': '1', 'c.d': '2' } }, { sysctls: { 'c.d': '2', 'a.b': '1' } }],
    [
      'ulimit order and a hard limit equal to soft',
      {
        ulimits: [
          { name: 'nproc', soft: 10 },
          { name: 'nofile', soft: 1, hard: 2 },
        ],
      },
      {
        ulimits: [
          { name: 'nofile', soft: 1, hard: 2 },
          { name: 'nproc', soft: 10, hard: 10 },
        ],
      },
    ],
    [
      'the spelling of a shm size',
      { resources: { shmSize: '64Mi' } },
      { resources: { shmSize: '67108864' } },
    ],
    [
      'resources that change in place next to shmSize',
      { resources: { shmSize: '64Mi' } },
      { resources: { shmSize: '64Mi', memory: '1Gi', cpus: '1' } },
    ],
    [
      'healthcheck timings when disabled',
      { healthcheck: { disable: true } },
      { healthcheck: { disable: true, interval: '1s' } },
    ],
    ['healthcheck disable false', { healthcheck: hc }, { healthcheck: { ...hc, disable: false } }],
  ])('is the same regardless of %s', (_what, a, b) => {
    expect(h(a)).toBe(h(b));
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<DockerContainerSpec>]>([
    [
      'exec and shell form of the same words',
      { healthcheck: { command: ['true'] } },
      { healthcheck: { shell: 'true' } },
    ],
    [
      'a command named CMD-SHELL',
      { healthcheck: { command: ['CMD-SHELL', 'x'] } },
      { healthcheck: { shell: 'x' } },
    ],
    ['startInterval', { healthcheck: hc }, { healthcheck: { ...hc, startInterval: '1s' } }],
    [
      'host alias order (the first line for a name wins)',
      {
        hostAliases: [
          { ip: '10.0.0.1', hostnames: ['db'] },
          { ip: '10.0.0.2', hostnames: ['db'] },
        ],
      },
      {
        hostAliases: [
          { ip: '10.0.0.2', hostnames: ['db'] },
          { ip: '10.0.0.1', hostnames: ['db'] },
        ],
      },
    ],
    [
      'name server order',
      { dnsConfig: { nameservers: ['10.0.0.1', '10.0.0.2'] } },
      { dnsConfig: { nameservers: ['10.0.0.2', '10.0.0.1'] } },
    ],
  ])('differs with %s', (_what, a, b) => {
    expect(h(a)).not.toBe(h(b));
  });
});
