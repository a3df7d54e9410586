// Every known way out of a container onto its host, shared by the unit test
// (policy-escapes.test.ts) and the integration test
// (test/integration/security-policy.test.ts). Each escape is refused at one of
// two layers:
// - "policy": the spec is valid API, and checkContainerPolicy/checkVolumePolicy
//   refuse it with a violation naming the field (the controller reports it as
//   PolicyViolation and creates nothing);
// - "schema": the API has no way to say it (an enum without `container:<id>`,
//   names that cannot hold a namespace, paths without `..`), so the API server
//   refuses the object before any controller sees it: the stronger refusal.
import type { TSchema } from 'typebox';
import { DockerContainerSpec } from '../crds/dockercontainer.js';
import { DockerImageSpec } from '../crds/dockerimage.js';
import type { DockerVolumeSpec } from '../crds/dockervolume.js';
import type { SecurityPolicy } from './security-policy.js';

export type Container = DockerContainerSpec;

/** Compliant with restricted (and so with baseline): only the escape under test is wrong. */
export const compliant: Container = {
  hostName: 'h',
  image: 'busybox:1.36',
  user: '1000:1000',
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
  /** Policies that must refuse it (both, unless the escape is only one under restricted). */
  policies: SecurityPolicy[];
  container?: Container;
  volume?: DockerVolumeSpec;
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
        { type: 'tmpfs', target: '/t' },
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
    field: 'spec.driverOptions',
  },
  {
    name: 'local volume o=rbind,ro device=/etc',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driverOptions: { o: 'ro, rbind', device: '/etc' } },
    field: 'spec.driverOptions',
  },
  {
    name: 'local volume on a host block device',
    layer: 'policy',
    policies: BOTH,
    volume: { hostName: 'h', driverOptions: { type: 'ext4', device: '/dev/sda1' } },
    field: 'spec.driverOptions.device',
  },
  {
    name: 'overlay volume over the host root',
    layer: 'policy',
    policies: BOTH,
    volume: {
      hostName: 'h',
      driverOptions: { type: 'overlay', device: 'overlay', o: 'lowerdir=/,upperdir=/tmp/u,workdir=/tmp/w' },
    },
    field: 'spec.driverOptions.o',
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
