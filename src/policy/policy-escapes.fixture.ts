// Every known way out of a container onto its host, shared by the unit test
// (policy-escapes.test.ts) and the integration test
// (test/integration/security-policy.test.ts). Each escape is refused at one of
// two layers:
// - "policy": the spec is valid API, and checkContainerPolicy/checkVolumePolicy/
//   checkNetworkPolicy refuse it with a violation naming the field (the
//   controller reports it as PolicyViolation and creates nothing);
// - "schema": the API has no way to say it (an enum without `container:<id>`:
//   another container's network namespace is only reachable as networkMode
//   `container` with networkContainer naming a DockerContainer of the same
//   namespace, never a Docker ID or name; names that cannot hold a namespace,
//   paths without `..`), so the API server refuses the object before any
//   controller sees it: the stronger refusal.
import type { TSchema } from 'typebox';
import type { DockerBuildSpec } from '../crds/dockerbuild.js';
import { DockerContainerSpec } from '../crds/dockercontainer.js';
import { DockerImageSpec } from '../crds/dockerimage.js';
import type { SecurityPolicySettings } from '../crds/dockerhost.js';
import type { DockerNetworkSpec } from '../crds/dockernetwork.js';
import type { DockerVolumeSpec } from '../crds/dockervolume.js';
import { mapField } from './policy-types.js';
import type { SecurityPolicy } from './security-policy.js';

export type Container = DockerContainerSpec;
type DeviceRequest = NonNullable<NonNullable<Container['resources']>['deviceRequests']>[number];

/**
 * The settings of the hosts the escapes are tried on (unit and integration):
 * a port range and a subnet range opened, memory and pids limits required.
 * A row can replace them (`settings`) to try a host that opens nothing.
 */
export const HOST_SETTINGS: SecurityPolicySettings = {
  allowedHostPorts: [{ from: 18000, to: 18099 }],
  allowedSubnets: ['10.231.0.0/16', 'fd00:231::/48'],
  requireMemoryLimit: true,
  requirePidsLimit: true,
};

/** Compliant with restricted (and so with baseline) on HOST_SETTINGS: only the escape under test is wrong. */
export const compliant: Container = {
  hostName: 'h',
  image: 'busybox:1.36',
  user: '1000:1000',
  resources: { memory: '64Mi', pidsLimit: 100 },
  security: { capDrop: ['ALL'], noNewPrivileges: true },
};

export const withSecurity = (security: NonNullable<Container['security']>): Container => ({
  ...compliant,
  security: { ...compliant.security, ...security },
});
const bind = (hostPath: string, target = '/host'): Container => ({
  ...compliant,
  mounts: [{ type: 'bind', hostPath, target }],
});

export interface PolicyEscape {
  name: string;
  layer: 'policy';
  /**
   * Policies that must refuse it (both, unless the escape is only one under
   * restricted; privileged too for what a host requires at every level).
   */
  policies: SecurityPolicy[];
  container?: Container;
  volume?: DockerVolumeSpec;
  network?: DockerNetworkSpec;
  build?: DockerBuildSpec;
  image?: DockerImageSpec;
  /** Host settings for this row instead of HOST_SETTINGS (e.g. a host that opens no ports). */
  settings?: SecurityPolicySettings;
  field: string;
}

export interface SchemaEscape {
  name: string;
  layer: 'schema';
  kind: 'DockerContainer' | 'DockerImage';
  schema: TSchema;
  spec: Record<string, unknown>;
  field: string;
}

const BOTH: SecurityPolicy[] = ['baseline', 'restricted'];

const row = (
  name: string,
  policies: SecurityPolicy[],
  field: string,
  spec: Pick<PolicyEscape, 'container' | 'volume' | 'network' | 'build' | 'image' | 'settings'>,
): PolicyEscape => ({ name, layer: 'policy', policies, field, ...spec });
const withPorts = (hostPort: number): Container => ({
  ...compliant,
  ports: [{ containerPort: 8080, hostPort, hostIP: '127.0.0.1' }],
});
const logging = (driver: string, options?: Record<string, string>): Container => ({
  ...compliant,
  logging: { driver, ...(options ? { options } : {}) },
});
const tmpfsMount = (tmpfsSize?: string): Container => ({
  ...compliant,
  mounts: [{ type: 'tmpfs', target: '/scratch', ...(tmpfsSize !== undefined ? { tmpfsSize } : {}) }],
});
const { resources: _limits, ...unlimited } = compliant;
const vol = (driverOptions: Record<string, string>, driver?: string): DockerVolumeSpec => ({
  hostName: 'h',
  ...(driver !== undefined ? { driver } : {}),
  driverOptions,
});
const tmpfsVol = (extra: Record<string, string>) =>
  vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=16m', ...extra });
const net = (spec: Omit<DockerNetworkSpec, 'hostName'>): DockerNetworkSpec => ({ hostName: 'h', ...spec });
const subnet = (config: NonNullable<NonNullable<DockerNetworkSpec['ipam']>['config']>) =>
  net({ ipam: { config } });
const PRIVILEGED_TOO: SecurityPolicy[] = ['baseline', 'restricted', 'privileged'];
const OPENS_NOTHING: SecurityPolicySettings = {};

/** Container fields reaching the daemon beyond the classic escapes: ports, logs, tmpfs, users, limits. */
const CONTAINER_ESCAPES: PolicyEscape[] = [
  row('host port on a host that opens none', BOTH, 'spec.ports[0].hostPort', {
    container: withPorts(18080),
    settings: OPENS_NOTHING,
  }),
  ...[80, 17999, 18100, 22, 65535].map((port) =>
    row(`host port ${port} outside the allowed range`, BOTH, 'spec.ports[0].hostPort', {
      container: withPorts(port),
    }),
  ),
  row('second host port outside the range', BOTH, 'spec.ports[1].hostPort', {
    container: {
      ...compliant,
      ports: [
        { containerPort: 80, hostPort: 18001 },
        { containerPort: 443, hostPort: 443 },
      ],
    },
  }),
  ...['syslog', 'journald', 'fluentd', 'gelf', 'splunk', 'awslogs', 'none', 'JSON-FILE', 'json-file '].map(
    (driver) =>
      row(`log driver ${JSON.stringify(driver)}`, BOTH, 'spec.logging.driver', {
        container: logging(driver),
      }),
  ),
  ...(
    [
      ['max-size', '10g'],
      ['max-size', '101m'],
      ['max-size', '-1'],
      ['max-size', '0'],
      ['max-size', 'unlimited'],
      ['max-file', '100'],
      ['max-file', '0'],
      ['max-buffer-size', '1g'],
      ['mode', 'fast'],
      ['compress', 'yes'],
    ] as const
  ).map(([key, value]) =>
    row(`json-file ${key}=${value}`, BOTH, mapField('spec.logging.options', key), {
      container: logging('json-file', { [key]: value }),
    }),
  ),
  ...['syslog-address', 'fluentd-address', 'path', 'labels-regex'].map((key) =>
    row(`log option ${key} (not allow-listed)`, BOTH, mapField('spec.logging.options', key), {
      container: logging('local', { [key]: 'tcp://10.0.0.1:514' }),
    }),
  ),
  row('local log driver with a huge max-size', BOTH, 'spec.logging.options[max-size]', {
    container: logging('local', { 'max-size': '1t' }),
  }),
  row('tmpfs mount without a size (half the host memory)', BOTH, 'spec.mounts[0].tmpfsSize', {
    container: tmpfsMount(),
  }),
  ...['2Gi', '1025Mi', '0', '4Pi'].map((size) =>
    row(`tmpfs mount of ${size}`, BOTH, 'spec.mounts[0].tmpfsSize', { container: tmpfsMount(size) }),
  ),
  // Named on their own besides the bind itself: they change the host, not only show it.
  ...(['shared', 'rshared'] as const).map((propagation) =>
    row(`bind mount with ${propagation} propagation`, BOTH, 'spec.mounts[0].propagation', {
      container: { ...compliant, mounts: [{ type: 'bind', hostPath: '/', target: '/host', propagation }] },
    }),
  ),
  ...(['shared', 'private'] as const).map((selinuxRelabel) =>
    row(`bind mount relabelled for SELinux (${selinuxRelabel})`, BOTH, 'spec.mounts[0].selinuxRelabel', {
      container: { ...compliant, mounts: [{ type: 'bind', hostPath: '/etc', target: '/e', selinuxRelabel }] },
    }),
  ),
  ...['daemon', 'nobody', 'app', 'bin', 'operator', '1000:root', '1000:wheel', '4294967296'].map((user) =>
    row(`user ${JSON.stringify(user)} under restricted (a name can be uid 0)`, ['restricted'], 'spec.user', {
      container: { ...compliant, user },
    }),
  ),
  row('no memory limit on a host that requires one', PRIVILEGED_TOO, 'spec.resources.memory', {
    container: { ...unlimited, resources: { pidsLimit: 100 } },
  }),
  row('memory limit 0 (unlimited) on a host that requires one', PRIVILEGED_TOO, 'spec.resources.memory', {
    container: { ...unlimited, resources: { memory: '0', pidsLimit: 100 } },
  }),
  row('no pids limit on a host that requires one', PRIVILEGED_TOO, 'spec.resources.pidsLimit', {
    container: { ...unlimited, resources: { memory: '64Mi' } },
  }),
  row('no resources at all on a host that requires limits', PRIVILEGED_TOO, 'spec.resources.memory', {
    container: unlimited,
  }),
];

/** Kernel parameters, resource limits and /dev/shm: allow-lists below privileged. */
const RUNTIME_ESCAPES: PolicyEscape[] = [
  ...[
    'net.core.somaxconn',
    'net.ipv4.ip_forward',
    'net.ipv4.conf.all.route_localnet',
    'net.netfilter.nf_conntrack_max',
    'kernel.msgmax',
    'kernel.sem',
    'kernel.shmmax',
    'fs.mqueue.msg_max',
    'kernel.core_pattern',
    'vm.overcommit_memory',
    'NET.IPV4.TCP_SYNCOOKIES',
    'net.ipv4.tcp_syncookies ',
    'net/ipv4/tcp_syncookies',
  ].map((name) =>
    row(`sysctl ${JSON.stringify(name)}`, BOTH, mapField('spec.sysctls', name), {
      container: { ...compliant, sysctls: { [name]: '1' } },
    }),
  ),
  row('unsafe sysctl next to a safe one', BOTH, 'spec.sysctls[net.core.somaxconn]', {
    container: {
      ...compliant,
      sysctls: { 'net.ipv4.tcp_keepalive_time': '600', 'net.core.somaxconn': '4096' },
    },
  }),
  ...(['memlock', 'rtprio', 'nice', 'msgqueue', 'sigpending'] as const).map((name) =>
    row(`ulimit ${name}`, BOTH, 'spec.ulimits[0].name', {
      container: { ...compliant, ulimits: [{ name, soft: -1, hard: -1 }] },
    }),
  ),
  row('ulimit memlock after an allowed one', BOTH, 'spec.ulimits[1].name', {
    container: {
      ...compliant,
      ulimits: [
        { name: 'nofile', soft: 1024 },
        { name: 'memlock', soft: 65536 },
      ],
    },
  }),
  ...['2Gi', '1025Mi', '1.5G', '4Pi'].map((shmSize) =>
    row(`shmSize ${shmSize} (memory above the tmpfs cap)`, BOTH, 'spec.resources.shmSize', {
      container: { ...compliant, resources: { ...compliant.resources, shmSize } },
    }),
  ),
];

const withGpus = (request: DeviceRequest): Container => ({
  ...compliant,
  resources: { ...compliant.resources, deviceRequests: [request] },
});
const appArmor = (localhostProfile: string): Container =>
  withSecurity({ appArmorProfile: { type: 'Localhost', localhostProfile } });

const seccompLocalhost = (localhostProfile: string): Container =>
  withSecurity({ seccompProfile: { type: 'Localhost', localhostProfile } });

/** Confinement fields (issue #14): host hardware, groups, seccomp/AppArmor, user and cgroup namespaces. */
const CONFINEMENT_ESCAPES: PolicyEscape[] = [
  row('all GPUs (Compose gpus: all)', BOTH, 'spec.resources.deviceRequests[0]', {
    container: withGpus({ capabilities: [['gpu']] }),
  }),
  row('GPUs by driver and device ID', BOTH, 'spec.resources.deviceRequests[0]', {
    container: withGpus({ driver: 'nvidia', deviceIDs: ['0'], capabilities: [['gpu', 'utility']] }),
  }),
  row('a device driver with options', BOTH, 'spec.resources.deviceRequests[0]', {
    container: withGpus({ driver: 'cdi', count: 1, capabilities: [['compute']], options: { a: 'b' } }),
  }),
  ...['a *:* rwm', 'c 1:3 mr', 'b 8:0 rw', 'c 10:200 rwm'].map((rule) =>
    row(`device cgroup rule ${JSON.stringify(rule)}`, BOTH, 'spec.security.deviceCgroupRules[0]', {
      container: withSecurity({ deviceCgroupRules: [rule] }),
    }),
  ),
  ...['root', 'docker', 'disk', 'wheel', '0', '00', '2147483648'].map((group) =>
    row(`group ${JSON.stringify(group)} under restricted`, ['restricted'], 'spec.security.groupAdd[0]', {
      container: withSecurity({ groupAdd: [group] }),
    }),
  ),
  row('second group by name under restricted', ['restricted'], 'spec.security.groupAdd[1]', {
    container: withSecurity({ groupAdd: ['1000', 'shadow'] }),
  }),
  row('seccomp Unconfined', BOTH, 'spec.security.seccompProfile.type', {
    container: withSecurity({ seccompProfile: { type: 'Unconfined' } }),
  }),
  // The text of a Localhost profile comes only from the host's list: privileged hosts too.
  row('seccomp Localhost, none listed', PRIVILEGED_TOO, 'spec.security.seccompProfile.localhostProfile', {
    container: seccompLocalhost('allow-everything'),
  }),
  row(
    'seccomp Localhost the host does not list',
    PRIVILEGED_TOO,
    'spec.security.seccompProfile.localhostProfile',
    {
      container: seccompLocalhost('unconfined'),
      settings: {
        ...HOST_SETTINGS,
        seccompProfiles: [
          { name: 'no-chmod', configMapRef: { namespace: 'ops', name: 'seccomp', key: 'p' } },
        ],
      },
    },
  ),
  row('AppArmor Unconfined', BOTH, 'spec.security.appArmorProfile.type', {
    container: withSecurity({ appArmorProfile: { type: 'Unconfined' } }),
  }),
  row('AppArmor Localhost, none listed', BOTH, 'spec.security.appArmorProfile.localhostProfile', {
    container: appArmor('docker-default'),
  }),
  row('AppArmor Localhost the host does not list', BOTH, 'spec.security.appArmorProfile.localhostProfile', {
    container: appArmor('unconfined-chrome'),
    settings: { ...HOST_SETTINGS, allowedAppArmorProfiles: ['dockyard-web'] },
  }),
  row('host user namespace (no userns-remap)', BOTH, 'spec.security.usernsMode', {
    container: withSecurity({ usernsMode: 'host' }),
  }),
  row('host cgroup namespace', BOTH, 'spec.security.cgroupnsMode', {
    container: withSecurity({ cgroupnsMode: 'host' }),
  }),
];

/** Volume drivers and every driver option, in the spellings the local driver accepts. */
const VOLUME_ESCAPES: PolicyEscape[] = [
  // An existing volume no namespace owns: only the names the host lists.
  row('external volume the host does not list', BOTH, 'spec.external', {
    volume: { hostName: 'h', external: true, volumeName: 'admin-backups' },
  }),
  row('external volume on a host that lists others', BOTH, 'spec.external', {
    volume: { hostName: 'h', external: true, volumeName: 'admin-backups' },
    settings: { ...HOST_SETTINGS, allowedExternalVolumes: ['shared-certs'] },
  }),
  ...['local-persist', 'rexray/ebs', 'Local', 'vieux/sshfs'].map((driver) =>
    row(`volume driver ${driver}`, BOTH, 'spec.driver', { volume: { hostName: 'h', driver } }),
  ),
  ...[
    'proc',
    'sysfs',
    'devpts',
    'cgroup2',
    'debugfs',
    'securityfs',
    'bpf',
    'mqueue',
    'PROC',
    ' proc',
    'proc ',
  ]
    .concat(['ext4', 'xfs', 'btrfs', 'overlay', 'none', 'bind', 'fuse.sshfs', 'ramfs'])
    .map((type) =>
      row(`volume type ${JSON.stringify(type)}`, BOTH, 'spec.driverOptions.type', {
        volume: vol({ type, device: type.trim() || 'x' }),
      }),
    ),
  row('driver options without a type', BOTH, 'spec.driverOptions.type', {
    volume: vol({ device: '/dev/sda1' }),
  }),
  ...['/dev/sda1', '/dev//sda1', '/dev/./sda1', '//dev/sda1', '/', '/etc', 'tmpfs/../../dev/sda1'].map(
    (device) =>
      row(`tmpfs volume on device ${device}`, BOTH, 'spec.driverOptions.device', {
        volume: tmpfsVol({ device }),
      }),
  ),
  ...['/dev/sda1', '/dev//sda1', 'sda1', '/srv/export'].map((device) =>
    row(`nfs volume on device ${device}`, ['baseline'], 'spec.driverOptions.device', {
      volume: vol({ type: 'nfs', o: 'addr=10.0.0.1', device }),
    }),
  ),
  ...['///dev/sda1', '/dev/sda1', '//127.0.0.1/share', '//localhost/c$'].map((device) =>
    row(`cifs volume on device ${device}`, ['baseline'], 'spec.driverOptions.device', {
      volume: vol({ type: 'cifs', o: 'addr=10.0.0.2', device }),
    }),
  ),
  ...['bind', 'rbind', 'ro,bind', 'bind,ro', ' bind', 'size=16m, rbind', 'BIND', 'remount', 'suid', 'dev']
    .map((o) => [o, o.includes('size=') ? o : `size=16m,${o}`] as const)
    .map(([label, o]) =>
      row(`tmpfs volume with o=${JSON.stringify(label)}`, BOTH, 'spec.driverOptions.o', {
        volume: tmpfsVol({ o }),
      }),
    ),
  ...[
    'lowerdir=/',
    'upperdir=/tmp/u',
    'context=system_u:object_r:etc_t:s0',
    'size=16m,mode=/etc',
    'uid=0/',
  ].map((o) =>
    row(`tmpfs volume with o=${o}`, BOTH, 'spec.driverOptions.o', {
      volume: tmpfsVol({ o: o.startsWith('size=') ? o : `size=16m,${o}` }),
    }),
  ),
  row('tmpfs volume without a size', BOTH, 'spec.driverOptions.o', {
    volume: vol({ type: 'tmpfs', device: 'tmpfs' }),
  }),
  ...['size=2g', 'size=50%', 'size=0', 'size=1024m1'].map((o) =>
    row(`tmpfs volume with ${o}`, BOTH, 'spec.driverOptions.o', { volume: tmpfsVol({ o }) }),
  ),
  row('cifs credentials file on the host', ['baseline'], 'spec.driverOptions.o', {
    volume: vol({ type: 'cifs', o: 'addr=10.0.0.2,credentials=/root/.smb', device: '//10.0.0.2/share' }),
  }),
  ...['addr=127.0.0.1', 'addr=localhost', 'addr=::1', 'addr=0.0.0.0', 'addr=127.1.2.3'].map((o) =>
    row(`nfs volume to the host itself (${o})`, ['baseline'], 'spec.driverOptions.o', {
      volume: vol({ type: 'nfs', o, device: ':/' }),
    }),
  ),
  ...(['nfs', 'nfs4', 'cifs'] as const).map((type) =>
    row(`network file system ${type} under restricted`, ['restricted'], 'spec.driverOptions.type', {
      volume: vol({
        type,
        o: 'addr=10.0.0.1',
        device: type === 'cifs' ? '//10.0.0.1/share' : ':/export',
      }),
    }),
  ),
  ...['mountpoint', 'Type', 'size', 'o ', 'device\u0000'].map((key) =>
    row(`driver option key ${JSON.stringify(key)}`, BOTH, mapField('spec.driverOptions', key), {
      volume: tmpfsVol({ [key]: '/' }),
    }),
  ),
];

/** Network drivers, their options and IPAM addresses. */
const NETWORK_ESCAPES: PolicyEscape[] = [
  row('external network the host does not list', BOTH, 'spec.external', {
    network: net({ external: true, networkName: 'admin-mgmt' }),
  }),
  // Attaching to Docker's host network is the host network namespace.
  row('external host network, even when the host lists it', BOTH, 'spec.external', {
    network: net({ external: true, networkName: 'host' }),
    settings: { ...HOST_SETTINGS, allowedExternalNetworks: ['host'] },
  }),
  row('macvlan on a host interface', BOTH, 'spec.options.parent', {
    network: net({ driver: 'macvlan', options: { parent: 'eth0' } }),
  }),
  ...['macvlan', 'ipvlan', 'overlay', 'host', 'Bridge', 'weaveworks/net-plugin'].map((driver) =>
    row(`network driver ${driver}`, BOTH, 'spec.driver', { network: net({ driver }) }),
  ),
  row('ipvlan l2 on a VLAN sub-interface', BOTH, 'spec.options.parent', {
    network: net({ driver: 'ipvlan', options: { parent: 'eth0.10', ipvlan_mode: 'l2' } }),
  }),
  row('bridge with a parent option', BOTH, 'spec.options.parent', {
    network: net({ options: { parent: 'eth0' } }),
  }),
  ...(
    [
      ['com.docker.network.bridge.name', 'docker0'],
      ['com.docker.network.bridge.host_binding_ipv4', '0.0.0.0'],
      ['com.docker.network.bridge.gateway_mode_ipv4', 'routed'],
      ['com.docker.network.bridge.enable_icc', 'maybe'],
      ['com.docker.network.driver.mtu', '9x'],
    ] as const
  ).map(([key, value]) =>
    row(`bridge option ${key}=${value}`, BOTH, `spec.options[${key}]`, {
      network: net({ options: { [key]: value } }),
    }),
  ),
  row('subnet on a host that allows none', BOTH, 'spec.ipam.config[0].subnet', {
    network: subnet([{ subnet: '10.231.1.0/24' }]),
    settings: OPENS_NOTHING,
  }),
  ...['192.168.0.0/24', '10.0.0.0/8', '10.230.255.0/24', '0.0.0.0/0', '10.231.0.0/15', 'fd00:232::/64'].map(
    (s) =>
      row(`subnet ${s} outside the allowed range`, BOTH, 'spec.ipam.config[0].subnet', {
        network: subnet([{ subnet: s }]),
      }),
  ),
  row('second subnet outside the allowed range', BOTH, 'spec.ipam.config[1].subnet', {
    network: subnet([{ subnet: '10.231.1.0/24' }, { subnet: '172.17.0.0/16' }]),
  }),
  row('ip range outside the allowed range', BOTH, 'spec.ipam.config[0].ipRange', {
    network: subnet([{ subnet: '10.231.1.0/24', ipRange: '10.232.1.0/25' }]),
  }),
  row('gateway outside the allowed range', BOTH, 'spec.ipam.config[0].gateway', {
    network: subnet([{ subnet: '10.231.1.0/24', gateway: '192.168.1.1' }]),
  }),
  row('subnet that is not an address', BOTH, 'spec.ipam.config[0].subnet', {
    network: subnet([{ subnet: '10.231.1.256/24' }]),
  }),
  row('IPAM driver other than default', BOTH, 'spec.ipam.driver', {
    network: net({ ipam: { driver: 'dhcp' } }),
  }),
  row('IPAM option', BOTH, 'spec.ipam.options.dhcp_interface', {
    network: net({ ipam: { options: { dhcp_interface: 'eth0' } } }),
  }),
];

/** A build that only names the Dockerfile: every other field is added by the row it is about. */
const build = (extra: Partial<DockerBuildSpec> = {}): DockerBuildSpec => ({
  hostName: 'h',
  image: 'registry.example/app:1',
  dockerfileInline: 'FROM busybox:1.36\nRUN id\n',
  ...extra,
});
const BUILD_CONTEXT: DockerBuildSpec = {
  hostName: 'h',
  image: 'registry.example/app:1',
  context: { configMap: { name: 'app-src', key: 'context.tar.gz' } },
};

/** Builds run the Dockerfile's commands on the daemon: allowed below privileged only on baseline with allowBuilds. */
const BUILD_ESCAPES: PolicyEscape[] = [
  row('build from an inline Dockerfile without allowBuilds', BOTH, 'spec.dockerfileInline', {
    build: build(),
  }),
  row('build from a ConfigMap context without allowBuilds', BOTH, 'spec.context.configMap.name', {
    build: BUILD_CONTEXT,
  }),
  row('build from a Git repository without allowBuilds', BOTH, 'spec.context.git.url', {
    build: {
      hostName: 'h',
      image: 'registry.example/app:1',
      context: { git: { url: 'https://git.example/app.git' } },
    },
  }),
  row('build of another Dockerfile path without allowBuilds', BOTH, 'spec.dockerfile', {
    build: { ...BUILD_CONTEXT, dockerfile: 'docker/Dockerfile.release' },
  }),
  row('build of a target stage without allowBuilds', BOTH, 'spec.target', {
    build: build({ target: 'release' }),
  }),
  row('build for another platform without allowBuilds', BOTH, 'spec.platform', {
    build: build({ platform: 'linux/arm64' }),
  }),
  row('build argument from a Secret without allowBuilds', BOTH, 'spec.args[0]', {
    build: build({ args: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'ci', key: 'token' } } }] }),
  }),
  row('build argument from a ConfigMap without allowBuilds', BOTH, 'spec.args[1]', {
    build: build({
      args: [
        { name: 'VERSION', value: '1.2.3' },
        { name: 'MIRROR', valueFrom: { configMapKeyRef: { name: 'ci', key: 'mirror', optional: true } } },
      ],
    }),
  }),
  row('build secret mount without allowBuilds', BOTH, 'spec.secrets[0]', {
    build: build({ secrets: [{ id: 'npmrc', secretKeyRef: { name: 'ci', key: '.npmrc' } }] }),
  }),
  // A push copies the image out of the host: only to registries the administrator lists.
  row('push to a registry not in allowedPushRegistries', BOTH, 'spec.push[1].image', {
    build: build({ push: [{ image: 'registry.example/app:1' }, { image: 'elsewhere.example:5000/app:1' }] }),
    settings: { ...HOST_SETTINGS, allowBuilds: true, allowedPushRegistries: ['registry.example'] },
  }),
  row('mirror to a registry not in allowedPushRegistries', BOTH, 'spec.push[0].image', {
    image: { hostName: 'h', image: 'busybox:1.36', push: [{ image: 'elsewhere.example:5000/busybox:1.36' }] },
    settings: { ...HOST_SETTINGS, allowedPushRegistries: ['registry.example'] },
  }),
  // restricted asks for a non-root user and no capabilities: a build cannot promise either.
  row('build on a restricted host, even with allowBuilds', ['restricted'], 'spec.dockerfileInline', {
    build: build(),
    settings: { ...HOST_SETTINGS, allowBuilds: true },
  }),
];

export const POLICY_ESCAPES: PolicyEscape[] = [
  {
    name: 'privileged',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ privileged: true }),
    field: 'spec.security.privileged',
  },
  {
    name: 'host network',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ networkMode: 'host' }),
    field: 'spec.security.networkMode',
  },
  {
    name: 'host PID',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ pidMode: 'host' }),
    field: 'spec.security.pidMode',
  },
  {
    name: 'host IPC',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ ipcMode: 'host' }),
    field: 'spec.security.ipcMode',
  },
  {
    name: 'host UTS',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ utsMode: 'host' }),
    field: 'spec.security.utsMode',
  },
  {
    name: 'bind mount of /',
    layer: 'policy',
    policies: BOTH,
    container: bind('/'),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'bind mount of /etc',
    layer: 'policy',
    policies: BOTH,
    container: bind('/etc'),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'bind mount of /proc',
    layer: 'policy',
    policies: BOTH,
    container: bind('/proc'),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'bind mount of the Docker socket',
    layer: 'policy',
    policies: BOTH,
    container: bind('/var/run/docker.sock', '/var/run/docker.sock'),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'bind mount of the Docker socket under /run',
    layer: 'policy',
    policies: BOTH,
    container: bind('/run/docker.sock'),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'bind mount of a harmless-looking path (every bind is refused)',
    layer: 'policy',
    policies: BOTH,
    container: {
      ...compliant,
      mounts: [
        { type: 'tmpfs', target: '/t', tmpfsSize: '16Mi' },
        { type: 'bind', hostPath: '/srv/app', target: '/app', readOnly: true },
      ],
    },
    field: 'spec.mounts[1].hostPath',
  },
  {
    name: 'local volume type=none,o=bind,device=/',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driverOptions: { type: 'none', o: 'bind', device: '/' } },
    field: 'spec.driverOptions.type',
  },
  {
    name: 'local volume o=rbind,ro device=/etc',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driverOptions: { o: 'ro, rbind', device: '/etc' } },
    field: 'spec.driverOptions.type',
  },
  {
    name: 'local volume on a host block device',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driverOptions: { type: 'ext4', device: '/dev/sda1' } },
    field: 'spec.driverOptions.type',
  },
  {
    name: 'overlay volume over the host root',
    layer: 'policy',
    policies: BOTH,
    volume: {
      hostName: 'h',
      driverOptions: { type: 'overlay', device: 'overlay', o: 'lowerdir=/,upperdir=/tmp/u,workdir=/tmp/w' },
    },
    field: 'spec.driverOptions.type',
  },
  {
    name: 'volume plugin option naming a host path',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driver: 'local-persist', driverOptions: { mountpoint: '/' } },
    field: 'spec.driverOptions.mountpoint',
  },
  {
    name: 'device',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ devices: [{ hostPath: '/dev/sda' }] }),
    field: 'spec.security.devices[0]',
  },
  {
    name: 'device with a different container path',
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({
      devices: [{ hostPath: '/dev/mem', containerPath: '/dev/null', permissions: 'r' }],
    }),
    field: 'spec.security.devices[0]',
  },
  ...(
    ['SYS_ADMIN', 'CAP_SYS_PTRACE', 'SYS_MODULE', 'NET_ADMIN', 'DAC_READ_SEARCH', 'NET_RAW', 'ALL'] as const
  ).map((cap): PolicyEscape => ({
    name: `capability ${cap}`,
    layer: 'policy',
    policies: BOTH,
    container: withSecurity({ capAdd: [cap] }),
    field: 'spec.security.capAdd[0]',
  })),
  {
    name: 'baseline capability CHOWN (outside the restricted set)',
    layer: 'policy',
    policies: ['restricted'],
    container: withSecurity({ capAdd: ['CHOWN'] }),
    field: 'spec.security.capAdd[0]',
  },
  ...([undefined, '0', 'root', '0:1000', 'root:root', '00', '-0', '000:0'] as const).map(
    (user): PolicyEscape => ({
      name: `root user ${JSON.stringify(user ?? '(image default)')}`,
      layer: 'policy',
      policies: ['restricted'],
      container: (() => {
        const { user: _drop, ...rest } = compliant;
        return user === undefined ? rest : { ...rest, user };
      })(),
      field: 'spec.user',
    }),
  ),
  {
    name: 'capabilities not dropped under restricted',
    layer: 'policy',
    policies: ['restricted'],
    container: { ...compliant, security: { noNewPrivileges: true } },
    field: 'spec.security.capDrop',
  },
  {
    name: 'no-new-privileges off under restricted',
    layer: 'policy',
    policies: ['restricted'],
    container: { ...compliant, security: { capDrop: ['ALL'] } },
    field: 'spec.security.noNewPrivileges',
  },
  ...(['4755', '2755', '6711'] as const).map((mode): PolicyEscape => ({
    name: `a setuid/setgid file (spec.files mode ${mode}) under restricted`,
    layer: 'policy',
    policies: ['restricted'],
    container: { ...compliant, files: [{ path: '/usr/local/bin/su', content: '#!/bin/sh', mode }] },
    field: 'spec.files[0].mode',
  })),
  ...CONTAINER_ESCAPES,
  ...RUNTIME_ESCAPES,
  ...CONFINEMENT_ESCAPES,
  ...VOLUME_ESCAPES,
  ...NETWORK_ESCAPES,
  ...BUILD_ESCAPES,
];

export const ctr = (extra: Record<string, unknown>) => ({ hostName: 'h', image: 'busybox:1.36', ...extra });

export const SCHEMA_ESCAPES: SchemaEscape[] = [
  ...(['networkMode', 'pidMode', 'ipcMode'] as const).map((mode): SchemaEscape => ({
    name: `joining another container's namespaces (${mode}: container:db)`,
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { [mode]: 'container:db' } }),
    field: `spec.security.${mode}`,
  })),
  {
    name: "joining another container's user namespace",
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { usernsMode: 'container:db' } }),
    field: 'spec.security.usernsMode',
  },
  {
    name: 'AppArmor profile named by a host path',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({
      security: { appArmorProfile: { type: 'Localhost', localhostProfile: '/etc/apparmor.d/x' } },
    }),
    field: 'spec.security.appArmorProfile.localhostProfile',
  },
  {
    name: 'device cgroup rule with a second rule smuggled after a newline',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { deviceCgroupRules: ['c 1:3 r\na *:* rwm'] } }),
    field: 'spec.security.deviceCgroupRules[0]',
  },
  {
    name: 'joining a container of another namespace (networkContainer other/db)',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { networkMode: 'container', networkContainer: 'other/db' } }),
    field: 'spec.security.networkContainer',
  },
  {
    name: 'joining a container by Docker ID (networkContainer container:<id>)',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { networkMode: 'container', networkContainer: 'container:3f57d9401f8d' } }),
    field: 'spec.security.networkContainer',
  },
  {
    name: "joining another container's UTS namespace",
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { utsMode: 'container:db' } }),
    field: 'spec.security.utsMode',
  },
  {
    name: 'bind hostPath climbing with ..',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ mounts: [{ type: 'bind', hostPath: '/srv/app/../../etc', target: '/app' }] }),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'relative bind hostPath',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ mounts: [{ type: 'bind', hostPath: '../etc', target: '/app' }] }),
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'mount target climbing with ..',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ mounts: [{ type: 'tmpfs', target: '/tmp/../..' }] }),
    field: 'spec.mounts[0].target',
  },
  {
    name: 'device path leaving /dev',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ security: { devices: [{ hostPath: '/dev/../etc/shadow' }] } }),
    field: 'spec.security.devices[0].hostPath',
  },
  {
    name: 'Secret in another namespace (env)',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'kube-system/admin', key: 'k' } } }] }),
    field: 'spec.env[0].valueFrom.secretKeyRef.name',
  },
  {
    name: 'Secret in another namespace (envFrom)',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ envFrom: [{ secretRef: { name: 'other/creds' } }] }),
    field: 'spec.envFrom[0].secretRef.name',
  },
  {
    name: 'DockerVolume in another namespace',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ mounts: [{ type: 'volume', volume: 'other/data', target: '/data' }] }),
    field: 'spec.mounts[0].volume',
  },
  {
    name: 'DockerNetwork in another namespace',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: ctr({ networks: [{ name: 'other/backend' }] }),
    field: 'spec.networks[0].name',
  },
  {
    name: 'DockerImage in another namespace',
    layer: 'schema',
    kind: 'DockerContainer',
    schema: DockerContainerSpec,
    spec: { hostName: 'h', imageRef: { name: 'other/app' } },
    field: 'spec.imageRef.name',
  },
  {
    name: 'pull Secret in another namespace',
    layer: 'schema',
    kind: 'DockerImage',
    schema: DockerImageSpec,
    spec: { hostName: 'h', image: 'busybox', pullSecrets: [{ name: 'other/regcred' }] },
    field: 'spec.pullSecrets[0].name',
  },
];

/** `/mounts/0/hostPath` → `spec.mounts[0].hostPath`, the spelling the API server uses. */
export function fieldOf(instancePath: string): string {
  return (
    'spec' +
    instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^[0-9]+$/.test(p) ? `[${p}]` : `.${p}`))
      .join('')
  );
}
