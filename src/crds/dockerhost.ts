import Type, { type Static } from 'typebox';
import {
  ageColumn,
  bool,
  conditions,
  int,
  LabelSelector,
  MachineState,
  list,
  objectName,
  readyColumn,
  reasonColumn,
  rules,
  str,
  type KindDefinition,
  type KubeObject,
} from './kit.js';

/** 1–65535, as a pattern (the endpoint is one string). */
const TCP_PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

export const DockerHostSpec = Type.Object(
  {
    endpoint: Type.String({
      description:
        'How to reach the Docker daemon: unix:///path/to/docker.sock or tcp://host:port. A tcp:// endpoint ' +
        'needs spec.tls unless spec.insecure is true.',
      maxLength: 512,
      // No control characters (a NUL in a socket path), and a port Docker can listen on.
      pattern: `^(unix:///[^\\s\\x00-\\x1f\\x7f]+|tcp://[^\\s\\x00-\\x1f\\x7f/:]+(:${TCP_PORT})?)$`,
    }),
    tls: Type.Optional(
      Type.Object(
        {
          secretRef: Type.Object(
            {
              namespace: objectName('Namespace of the Secret.'),
              name: objectName('Name of the Secret.'),
            },
            { description: 'A Secret with ca.crt, tls.crt and tls.key (client certificate for mutual TLS).' },
          ),
          serverName: Type.Optional(
            str(
              'Server name to verify the daemon certificate against, when it differs from the endpoint host.',
            ),
          ),
        },
        { description: 'Mutual TLS for tcp:// endpoints.' },
      ),
    ),
    insecure: Type.Optional(
      bool(
        'Acknowledges a tcp:// endpoint without TLS: anyone on the network gets root-equivalent access to the ' +
          'daemon. Only for isolated lab networks.',
      ),
    ),
    allowedNamespaces: Type.Optional(
      Type.Object(
        {
          from: Type.Optional(
            Type.Enum(['All', 'Selector'], {
              description: 'All namespaces, or those matching selector.',
              default: 'All',
            }),
          ),
          selector: Type.Optional(
            Type.Object(LabelSelector.properties, {
              description: 'Namespace label selector, used when from is Selector.',
            }),
          ),
        },
        {
          description: 'Which namespaces may place objects on this host. Default: all.',
          ...rules({
            rule: "!has(self.from) || self.from != 'Selector' || has(self.selector)",
            message: 'spec.allowedNamespaces.selector is required when from is Selector',
            fieldPath: '.selector',
          }),
        },
      ),
    ),
    securityPolicy: Type.Optional(
      Type.Enum(['restricted', 'baseline', 'privileged'], {
        description:
          'What containers may do on this host, modelled on the Pod Security Standards: privileged allows ' +
          'everything; baseline forbids privileged mode, host namespaces, bind mounts, devices and capabilities ' +
          'outside the baseline list; restricted also requires a non-root user, dropping ALL capabilities and ' +
          'no-new-privileges. Default baseline.',
        default: 'baseline',
      }),
    ),
    unschedulable: Type.Optional(
      bool('Stops new placements on this host; objects already there are kept and still reconciled.'),
    ),
    heartbeatIntervalSeconds: Type.Optional(
      int('How often the daemon is pinged. Default 10.', { minimum: 1, maximum: 3600, default: 10 }),
    ),
  },
  {
    description: 'Desired state of a DockerHost.',
    ...rules({
      rule: "!self.endpoint.startsWith('tcp://') || has(self.tls) || (has(self.insecure) && self.insecure)",
      message: 'spec.tls is required for a tcp:// endpoint unless spec.insecure is true',
      fieldPath: '.tls',
      reason: 'FieldValueRequired',
    }),
  },
);
export type DockerHostSpec = Static<typeof DockerHostSpec>;

export const EngineInfo = Type.Object(
  {
    version: Type.Optional(str('Docker Engine version.')),
    apiVersion: Type.Optional(str('Docker Engine API version.')),
    os: Type.Optional(str('Operating system of the daemon.')),
    arch: Type.Optional(str('CPU architecture.')),
    kernelVersion: Type.Optional(str('Kernel version.')),
    cpus: Type.Optional(int('Number of CPUs.', { minimum: 0 })),
    memoryBytes: Type.Optional(int('Total memory in bytes.', { minimum: 0 })),
    storageDriver: Type.Optional(str('Storage driver, e.g. overlay2.')),
    name: Type.Optional(str('Host name the daemon reports.')),
  },
  { description: 'Facts the daemon reports about itself.' },
);

export const DockerHostStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      int('The metadata.generation this status was computed from.', { minimum: 0 }),
    ),
    conditions: conditions(),
    phase: Type.Optional(
      Type.Enum(['Pending', 'Ready', 'NotReady'], {
        description: 'Connectivity phase: Pending until first reached.',
      }),
    ),
    machine: Type.Optional(MachineState),
    engine: Type.Optional(EngineInfo),
    containers: Type.Optional(
      Type.Object(
        {
          total: int('All containers.', { minimum: 0 }),
          running: int('Running containers.', { minimum: 0 }),
          managed: Type.Optional(int('Containers carrying Dockyard owner labels.', { minimum: 0 })),
        },
        { description: 'Container counts.' },
      ),
    ),
    lastHeartbeatTime: Type.Optional(
      Type.String({ description: 'Last successful ping.', format: 'date-time' }),
    ),
    endpoint: Type.Optional(str('The endpoint the status was observed through.', { maxLength: 512 })),
    warnings: Type.Optional(
      list(str('A warning.', { maxLength: 1024 }), 'Warnings about how this host is configured.'),
    ),
  },
  { description: 'Observed state of a DockerHost.' },
);
export type DockerHostStatus = Static<typeof DockerHostStatus>;

export type DockerHost = KubeObject<'DockerHost', DockerHostSpec, DockerHostStatus>;

export const dockerHostDefinition: KindDefinition = {
  kind: 'DockerHost',
  plural: 'dockerhosts',
  singular: 'dockerhost',
  shortNames: ['dhost'],
  scope: 'Cluster',
  description:
    'A DockerHost is one Docker daemon that Dockyard manages. Its labels are what hostSelector placement selects on.',
  spec: DockerHostSpec,
  status: DockerHostStatus,
  printerColumns: [
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
    readyColumn,
    { name: 'Version', type: 'string', jsonPath: '.status.engine.version' },
    { name: 'Policy', type: 'string', jsonPath: '.spec.securityPolicy' },
    { name: 'Containers', type: 'integer', jsonPath: '.status.containers.running', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
};
