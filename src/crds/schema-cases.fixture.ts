// Good and bad objects for every kind, shared by the unit test (structural
// rules, checked with TypeBox) and the integration test (everything, including
// CEL, checked by the real kube-apiserver). `field` is what the API server's
// error must name; `cel` marks cases only CEL can catch.

export type KindName = 'DockerHost' | 'DockerImage' | 'DockerNetwork' | 'DockerVolume' | 'DockerContainer';

export interface SchemaCase {
  name: string;
  kind: KindName;
  spec: Record<string, unknown>;
  valid: boolean;
  /** For invalid cases: text the API server's message must contain. */
  field?: string;
  /** Only a CEL rule (not the structural schema) rejects this case. */
  cel?: boolean;
}

const ctr = (spec: Record<string, unknown>) => ({ hostName: 'lab-1', image: 'busybox:1.36', ...spec });

export const SCHEMA_CASES: SchemaCase[] = [
  // DockerHost
  {
    name: 'unix endpoint',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///var/run/docker.sock' },
    valid: true,
  },
  {
    name: 'tcp with tls',
    kind: 'DockerHost',
    spec: { endpoint: 'tcp://10.0.0.5:2376', tls: { secretRef: { namespace: 'dockyard', name: 'lab-tls' } } },
    valid: true,
  },
  {
    name: 'tcp insecure acknowledged',
    kind: 'DockerHost',
    spec: { endpoint: 'tcp://10.0.0.5:2375', insecure: true },
    valid: true,
  },
  {
    name: 'tcp without tls',
    kind: 'DockerHost',
    spec: { endpoint: 'tcp://10.0.0.5:2375' },
    valid: false,
    field: 'spec.tls',
    cel: true,
  },
  {
    name: 'tcp insecure false',
    kind: 'DockerHost',
    spec: { endpoint: 'tcp://h:2375', insecure: false },
    valid: false,
    field: 'spec.tls',
    cel: true,
  },
  {
    name: 'http endpoint',
    kind: 'DockerHost',
    spec: { endpoint: 'http://h:2375' },
    valid: false,
    field: 'spec.endpoint',
  },
  {
    name: 'tcp port out of range',
    kind: 'DockerHost',
    spec: { endpoint: 'tcp://10.0.0.5:99999', insecure: true },
    valid: false,
    field: 'spec.endpoint',
  },
  {
    name: 'control character in the socket path',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///run/docker.sock\u0000.evil' },
    valid: false,
    field: 'spec.endpoint',
  },
  {
    name: 'unknown policy',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicy: 'open' },
    valid: false,
    field: 'spec.securityPolicy',
  },
  {
    name: 'policy settings: port ranges, subnets, required limits',
    kind: 'DockerHost',
    spec: {
      endpoint: 'unix:///s',
      securityPolicy: 'restricted',
      securityPolicySettings: {
        allowedHostPorts: [{ from: 8000, to: 8099 }, { from: 443 }],
        allowedSubnets: ['10.231.0.0/16', 'fd00:231::/48'],
        requireMemoryLimit: true,
        requirePidsLimit: true,
      },
    },
    valid: true,
  },
  {
    name: 'policy settings: port range upside down',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicySettings: { allowedHostPorts: [{ from: 9000, to: 8000 }] } },
    valid: false,
    field: 'spec.securityPolicySettings.allowedHostPorts[0].to',
    cel: true,
  },
  {
    name: 'policy settings: port 0',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicySettings: { allowedHostPorts: [{ from: 0, to: 80 }] } },
    valid: false,
    field: 'spec.securityPolicySettings.allowedHostPorts[0].from',
  },
  {
    name: 'policy settings: port range without from',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicySettings: { allowedHostPorts: [{ to: 80 }] } },
    valid: false,
    field: 'spec.securityPolicySettings.allowedHostPorts[0].from',
  },
  {
    name: 'policy settings: subnet that is not CIDR',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicySettings: { allowedSubnets: ['10.231.0.0'] } },
    valid: false,
    field: 'spec.securityPolicySettings.allowedSubnets[0]',
  },
  {
    name: 'policy settings: subnet with an octet above 255',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', securityPolicySettings: { allowedSubnets: ['10.300.0.0/16'] } },
    valid: false,
    field: 'spec.securityPolicySettings.allowedSubnets[0]',
    cel: true,
  },
  {
    name: 'selector admission without selector',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', allowedNamespaces: { from: 'Selector' } },
    valid: false,
    field: 'spec.allowedNamespaces.selector',
    cel: true,
  },
  {
    name: 'selector admission',
    kind: 'DockerHost',
    spec: {
      endpoint: 'unix:///s',
      allowedNamespaces: { from: 'Selector', selector: { matchLabels: { edge: 'yes' } } },
    },
    valid: true,
  },
  {
    name: 'heartbeat zero',
    kind: 'DockerHost',
    spec: { endpoint: 'unix:///s', heartbeatIntervalSeconds: 0 },
    valid: false,
    field: 'spec.heartbeatIntervalSeconds',
  },
  // Placement (any namespaced kind)
  {
    name: 'both hostName and hostSelector',
    kind: 'DockerVolume',
    spec: { hostName: 'a', hostSelector: {} },
    valid: false,
    field: 'spec.hostName',
    cel: true,
  },
  {
    name: 'neither hostName nor hostSelector',
    kind: 'DockerNetwork',
    spec: {},
    valid: false,
    field: 'spec.hostName',
    cel: true,
  },
  {
    name: 'hostSelector only',
    kind: 'DockerNetwork',
    spec: { hostSelector: { matchLabels: { site: 'lab' } } },
    valid: true,
  },
  {
    name: 'hostName not a DNS name',
    kind: 'DockerVolume',
    spec: { hostName: 'Lab_1' },
    valid: false,
    field: 'spec.hostName',
  },
  // DockerImage
  {
    name: 'image with tag',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'registry.local:5000/team/app:1.2.3' },
    valid: true,
  },
  {
    name: 'image with digest',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: `busybox@sha256:${'a'.repeat(64)}` },
    valid: true,
  },
  {
    name: 'image reference that cannot parse',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'Busybox:latest!' },
    valid: false,
    field: 'spec.image',
  },
  {
    name: 'image with spaces',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'busy box' },
    valid: false,
    field: 'spec.image',
  },
  {
    name: 'unknown pull policy',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'busybox', pullPolicy: 'Sometimes' },
    valid: false,
    field: 'spec.pullPolicy',
  },
  {
    name: 'refreshInterval without Always',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'busybox', refreshInterval: '1m' },
    valid: false,
    field: 'spec.refreshInterval',
    cel: true,
  },
  {
    name: 'refreshInterval with Always',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'busybox', pullPolicy: 'Always', refreshInterval: '90s' },
    valid: true,
  },
  {
    name: 'bad duration',
    kind: 'DockerImage',
    spec: { hostName: 'a', image: 'busybox', pullPolicy: 'Always', refreshInterval: 'soon' },
    valid: false,
    field: 'spec.refreshInterval',
  },
  // DockerNetwork / DockerVolume
  {
    name: 'network with ipam',
    kind: 'DockerNetwork',
    spec: { hostName: 'a', ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1' }] } },
    valid: true,
  },
  {
    name: 'network bad subnet',
    kind: 'DockerNetwork',
    spec: { hostName: 'a', ipam: { config: [{ subnet: 'everything' }] } },
    valid: false,
    field: 'spec.ipam.config[0].subnet',
  },
  {
    name: 'volume delete policy',
    kind: 'DockerVolume',
    spec: { hostName: 'a', deletionPolicy: 'Delete' },
    valid: true,
  },
  {
    name: 'volume unknown deletion policy',
    kind: 'DockerVolume',
    spec: { hostName: 'a', deletionPolicy: 'Shred' },
    valid: false,
    field: 'spec.deletionPolicy',
  },
  // DockerContainer
  { name: 'minimal container', kind: 'DockerContainer', spec: ctr({}), valid: true },
  {
    name: 'container with imageRef',
    kind: 'DockerContainer',
    spec: { hostName: 'a', imageRef: { name: 'app' } },
    valid: true,
  },
  {
    name: 'both image and imageRef',
    kind: 'DockerContainer',
    spec: ctr({ imageRef: { name: 'app' } }),
    valid: false,
    field: 'spec.image',
    cel: true,
  },
  {
    name: 'neither image nor imageRef',
    kind: 'DockerContainer',
    spec: { hostName: 'a' },
    valid: false,
    field: 'spec.image',
    cel: true,
  },
  {
    name: 'port out of range',
    kind: 'DockerContainer',
    spec: ctr({ ports: [{ containerPort: 70000 }] }),
    valid: false,
    field: 'spec.ports[0].containerPort',
  },
  {
    name: 'host port zero',
    kind: 'DockerContainer',
    spec: ctr({ ports: [{ containerPort: 80, hostPort: 0 }] }),
    valid: false,
    field: 'spec.ports[0].hostPort',
  },
  {
    name: 'port published',
    kind: 'DockerContainer',
    spec: ctr({ ports: [{ containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1' }] }),
    valid: true,
  },
  {
    name: 'bad memory quantity',
    kind: 'DockerContainer',
    spec: ctr({ resources: { memory: '256MB' } }),
    valid: false,
    field: 'spec.resources.memory',
  },
  {
    name: 'good quantities',
    kind: 'DockerContainer',
    spec: ctr({ resources: { memory: '256Mi', cpus: '500m', pidsLimit: 100 } }),
    valid: true,
  },
  {
    name: 'bad cpu quantity',
    kind: 'DockerContainer',
    spec: ctr({ resources: { cpus: 'half' } }),
    valid: false,
    field: 'spec.resources.cpus',
  },
  {
    name: 'bind mount without hostPath',
    kind: 'DockerContainer',
    spec: ctr({ mounts: [{ type: 'bind', target: '/data' }] }),
    valid: false,
    field: 'spec.mounts[0].hostPath',
    cel: true,
  },
  {
    name: 'volume mount without volume',
    kind: 'DockerContainer',
    spec: ctr({ mounts: [{ type: 'volume', target: '/data' }] }),
    valid: false,
    field: 'spec.mounts[0].volume',
    cel: true,
  },
  {
    name: 'relative mount target',
    kind: 'DockerContainer',
    spec: ctr({ mounts: [{ type: 'tmpfs', target: 'data' }] }),
    valid: false,
    field: 'spec.mounts[0].target',
  },
  {
    name: 'bind hostPath climbing with ..',
    kind: 'DockerContainer',
    spec: ctr({ mounts: [{ type: 'bind', hostPath: '/data/../etc', target: '/data' }] }),
    valid: false,
    field: 'spec.mounts[0].hostPath',
  },
  {
    name: 'mount target climbing with ..',
    kind: 'DockerContainer',
    spec: ctr({ mounts: [{ type: 'tmpfs', target: '/tmp/../../etc' }] }),
    valid: false,
    field: 'spec.mounts[0].target',
  },
  {
    name: 'device path leaving /dev',
    kind: 'DockerContainer',
    spec: ctr({ security: { devices: [{ hostPath: '/dev/../etc/shadow' }] } }),
    valid: false,
    field: 'spec.security.devices[0].hostPath',
  },
  {
    name: 'unknown restart policy',
    kind: 'DockerContainer',
    spec: ctr({ restartPolicy: { name: 'sometimes' } }),
    valid: false,
    field: 'spec.restartPolicy.name',
  },
  {
    name: 'retry count without on-failure',
    kind: 'DockerContainer',
    spec: ctr({ restartPolicy: { name: 'always', maximumRetryCount: 3 } }),
    valid: false,
    field: 'spec.restartPolicy.maximumRetryCount',
    cel: true,
  },
  {
    name: 'invalid env name',
    kind: 'DockerContainer',
    spec: ctr({ env: [{ name: '1BAD=NAME', value: 'x' }] }),
    valid: false,
    field: 'spec.env[0].name',
  },
  {
    name: 'env value and valueFrom',
    kind: 'DockerContainer',
    spec: ctr({ env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }),
    valid: false,
    field: 'spec.env[0].valueFrom',
    cel: true,
  },
  {
    name: 'env from secret',
    kind: 'DockerContainer',
    spec: ctr({ env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }),
    valid: true,
  },
  {
    name: 'unknown state',
    kind: 'DockerContainer',
    spec: ctr({ state: 'Paused' }),
    valid: false,
    field: 'spec.state',
  },
  {
    name: 'healthcheck without command',
    kind: 'DockerContainer',
    spec: ctr({ healthcheck: { command: [] } }),
    valid: false,
    field: 'spec.healthcheck.command',
  },
];
