import Type, { type Static } from 'typebox';
import {
  absolutePath,
  ageColumn,
  bool,
  byteQuantity,
  cpuQuantity,
  adoptionPolicy,
  deletionPolicy,
  duration,
  hostsColumn,
  hostStatusFields,
  imageReference,
  int,
  list,
  MAX,
  objectName,
  phaseColumn,
  placementFields,
  placementRule,
  placementStatusFields,
  readyColumn,
  reasonColumn,
  rules,
  str,
  stringMap,
  type KindDefinition,
  type KubeObject,
} from './kit.js';

const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]*$';

const keyRef = (what: 'Secret' | 'ConfigMap') =>
  Type.Object(
    {
      name: objectName(`Name of the ${what} in this namespace.`),
      key: str(`Key in the ${what}.`, { maxLength: 253 }),
      optional: Type.Optional(bool(`Tolerate a missing ${what} or key (the variable is then left out).`)),
    },
    { description: `A key of a ${what} in this namespace.` },
  );

export const EnvVar = Type.Object(
  {
    name: str('Variable name.', { maxLength: 256, pattern: ENV_NAME_PATTERN }),
    value: Type.Optional(Type.String({ description: 'Literal value.', maxLength: 32768 })),
    valueFrom: Type.Optional(
      Type.Object(
        {
          secretKeyRef: Type.Optional(keyRef('Secret')),
          configMapKeyRef: Type.Optional(keyRef('ConfigMap')),
        },
        {
          description: 'Take the value from a Secret or ConfigMap key, resolved at reconcile time.',
          ...rules({
            rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
            message: 'valueFrom needs exactly one of secretKeyRef or configMapKeyRef',
          }),
        },
      ),
    ),
  },
  {
    ...rules({
      rule: '!(has(self.value) && has(self.valueFrom))',
      message: 'env: value and valueFrom are mutually exclusive',
      fieldPath: '.valueFrom',
    }),
  },
);

export const EnvFromSource = Type.Object(
  {
    prefix: Type.Optional(str('Prefix added to every key.', { maxLength: 128 })),
    secretRef: Type.Optional(
      Type.Object({
        name: objectName('Secret name.'),
        optional: Type.Optional(bool('Tolerate a missing Secret.')),
      }),
    ),
    configMapRef: Type.Optional(
      Type.Object({
        name: objectName('ConfigMap name.'),
        optional: Type.Optional(bool('Tolerate a missing ConfigMap.')),
      }),
    ),
  },
  {
    description: 'Every key of a Secret or ConfigMap as variables.',
    ...rules({
      rule: 'has(self.secretRef) != has(self.configMapRef)',
      message: 'envFrom needs exactly one of secretRef or configMapRef',
    }),
  },
);

export const PortMapping = Type.Object({
  containerPort: int('Port inside the container.', { minimum: 1, maximum: 65535 }),
  hostPort: Type.Optional(
    int('Port on the host; unset publishes nothing, 0 is not allowed.', { minimum: 1, maximum: 65535 }),
  ),
  hostIP: Type.Optional(
    str('Host address to bind, e.g. 127.0.0.1. Default all addresses.', {
      maxLength: 64,
      pattern: '^([0-9.]+|[0-9a-fA-F:]+)$',
    }),
  ),
  protocol: Type.Optional(Type.Enum(['TCP', 'UDP', 'SCTP'], { description: 'Default TCP.', default: 'TCP' })),
});

export const Mount = Type.Object(
  {
    type: Type.Enum(['volume', 'bind', 'tmpfs'], {
      description:
        'volume mounts a DockerVolume of this namespace, bind a host path, tmpfs a memory file system.',
    }),
    target: absolutePath('Absolute path inside the container.'),
    volume: Type.Optional(objectName('For type volume: the DockerVolume in this namespace.')),
    hostPath: Type.Optional(absolutePath('For type bind: absolute path on the host.')),
    readOnly: Type.Optional(bool('Mount read-only.')),
    tmpfsSize: Type.Optional(byteQuantity('For type tmpfs: size limit.')),
  },
  {
    ...rules(
      {
        rule: "self.type != 'bind' || has(self.hostPath)",
        message: 'mounts: a bind mount needs hostPath',
        fieldPath: '.hostPath',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.type != 'volume' || has(self.volume)",
        message: 'mounts: a volume mount needs volume',
        fieldPath: '.volume',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.type == 'bind' || !has(self.hostPath)",
        message: 'mounts: hostPath only applies to bind mounts',
        fieldPath: '.hostPath',
      },
      {
        rule: "self.type == 'volume' || !has(self.volume)",
        message: 'mounts: volume only applies to volume mounts',
        fieldPath: '.volume',
      },
      {
        rule: "self.type == 'tmpfs' || !has(self.tmpfsSize)",
        message: 'mounts: tmpfsSize only applies to tmpfs mounts',
        fieldPath: '.tmpfsSize',
      },
    ),
  },
);

export const NetworkAttachment = Type.Object({
  name: objectName('The DockerNetwork in this namespace.'),
  aliases: Type.Optional(
    list(str('A DNS alias.', { maxLength: 253 }), 'DNS aliases on this network.', { maxItems: 16 }),
  ),
  ipv4Address: Type.Optional(
    str('Static IPv4 address (the network needs an IPAM subnet).', {
      maxLength: 15,
      pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$',
    }),
  ),
});

export const Healthcheck = Type.Object(
  {
    command: list(
      str('An argument.', { maxLength: MAX.longString }),
      'Command run inside the container (exec form); exit 0 is healthy.',
      {
        minItems: 1,
      },
    ),
    interval: Type.Optional(duration('Time between checks. Default 30s.')),
    timeout: Type.Optional(duration('Time a check may take. Default 30s.')),
    retries: Type.Optional(
      int('Consecutive failures before unhealthy. Default 3.', { minimum: 1, maximum: 100 }),
    ),
    startPeriod: Type.Optional(duration('Grace period after start during which failures do not count.')),
  },
  { description: 'A Docker healthcheck; with one, Ready means running and healthy.' },
);

export const Resources = Type.Object(
  {
    memory: Type.Optional(byteQuantity('Memory limit.')),
    memoryReservation: Type.Optional(byteQuantity('Soft memory limit.')),
    cpus: Type.Optional(cpuQuantity('CPU limit.')),
    pidsLimit: Type.Optional(
      int('Maximum number of processes (at most 4194304, the kernel’s limit).', {
        minimum: 1,
        maximum: 4194304,
      }),
    ),
  },
  { description: 'Resource limits; memory, cpus and pidsLimit are updated in place.' },
);

export const Device = Type.Object({
  hostPath: absolutePath('Device path on the host, under /dev.', '/dev'),
  containerPath: Type.Optional(
    absolutePath('Path inside the container, under /dev. Default hostPath.', '/dev'),
  ),
  permissions: Type.Optional(str('cgroup permissions, e.g. rwm.', { maxLength: 3, pattern: '^[rwm]{1,3}$' })),
});

const capability = str('A Linux capability, e.g. NET_BIND_SERVICE or ALL.', {
  maxLength: 64,
  pattern: '^(CAP_)?[A-Z_]+$',
});

export const Security = Type.Object(
  {
    privileged: Type.Optional(bool('Run privileged (needs a privileged host).')),
    capAdd: Type.Optional(list(capability, 'Capabilities to add.')),
    capDrop: Type.Optional(list(capability, 'Capabilities to drop.')),
    readOnlyRootFilesystem: Type.Optional(bool('Mount the root file system read-only.')),
    noNewPrivileges: Type.Optional(bool('Set no-new-privileges.')),
    networkMode: Type.Optional(
      Type.Enum(['default', 'host', 'none'], {
        description: 'host shares the host network namespace. Default default.',
      }),
    ),
    pidMode: Type.Optional(
      Type.Enum(['private', 'host'], { description: 'host shares the host PID namespace.' }),
    ),
    ipcMode: Type.Optional(
      Type.Enum(['private', 'shareable', 'host'], { description: 'host shares the host IPC namespace.' }),
    ),
    utsMode: Type.Optional(
      Type.Enum(['private', 'host'], { description: 'host shares the host UTS namespace.' }),
    ),
    devices: Type.Optional(list(Device, 'Host devices to expose.', { maxItems: 16 })),
  },
  { description: 'Security settings, checked against the host’s securityPolicy before anything is created.' },
);

export const DockerContainerSpec = Type.Object(
  {
    ...placementFields,
    containerName: Type.Optional(
      str(
        'Name of the Docker container. Default <namespace>.<name>. A name of the form <other-namespace>.<rest> ' +
          "(another namespace's default naming) is refused by the controller (InvalidName).",
        {
          maxLength: 128,
          pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        },
      ),
    ),
    image: Type.Optional(imageReference('The image to run.')),
    imageRef: Type.Optional(
      Type.Object(
        { name: objectName('The DockerImage in this namespace.') },
        {
          description:
            'Run the digest a DockerImage resolved on the same host; a new digest rolls the container.',
        },
      ),
    ),
    command: Type.Optional(
      list(str('An argument.', { maxLength: MAX.longString }), 'Entrypoint override (exec form).'),
    ),
    args: Type.Optional(
      list(str('An argument.', { maxLength: MAX.longString }), 'Arguments (the image CMD is replaced).', {
        maxItems: 256,
      }),
    ),
    workingDir: Type.Optional(str('Working directory.', { maxLength: 1024, pattern: '^/' })),
    user: Type.Optional(
      str('User, as uid[:gid] or name[:group].', {
        maxLength: 128,
        pattern: '^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$',
      }),
    ),
    hostname: Type.Optional(
      str('Container host name.', { maxLength: 63, pattern: '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$' }),
    ),
    env: Type.Optional(
      list(EnvVar, 'Environment variables.', {
        maxItems: 256,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    envFrom: Type.Optional(
      list(EnvFromSource, 'Variables from whole Secrets or ConfigMaps.', { maxItems: 16 }),
    ),
    ports: Type.Optional(list(PortMapping, 'Published ports.')),
    mounts: Type.Optional(list(Mount, 'Volumes, bind mounts and tmpfs mounts.', { maxItems: 32 })),
    networks: Type.Optional(
      list(NetworkAttachment, 'DockerNetworks to connect to (the first is used at create time).', {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    restartPolicy: Type.Optional(
      Type.Object(
        {
          name: Type.Enum(['no', 'always', 'unless-stopped', 'on-failure'], {
            description: 'Docker restart policy.',
          }),
          maximumRetryCount: Type.Optional(
            int('For on-failure: how many restarts.', { minimum: 0, maximum: 2147483647 }),
          ),
        },
        {
          description: 'Restart policy, updated in place. Default unless-stopped.',
          ...rules({
            rule: "self.name == 'on-failure' || !has(self.maximumRetryCount)",
            message: 'restartPolicy.maximumRetryCount only applies to on-failure',
            fieldPath: '.maximumRetryCount',
          }),
        },
      ),
    ),
    healthcheck: Type.Optional(Healthcheck),
    resources: Type.Optional(Resources),
    security: Type.Optional(Security),
    labels: Type.Optional(stringMap('Labels on the Docker container, besides Dockyard’s own.')),
    stopSignal: Type.Optional(
      str('Signal that stops the container, e.g. SIGTERM.', { maxLength: 16, pattern: '^(SIG)?[A-Z0-9]+$' }),
    ),
    stopGracePeriod: Type.Optional(duration('Time between the stop signal and SIGKILL. Default 10s.')),
    logging: Type.Optional(
      Type.Object(
        {
          driver: str('Log driver, e.g. json-file or local.', { maxLength: 64 }),
          options: Type.Optional(stringMap('Log driver options.')),
        },
        { description: 'Container logging.' },
      ),
    ),
    state: Type.Optional(
      Type.Enum(['Running', 'Stopped'], {
        description: 'Desired run state. Default Running.',
        default: 'Running',
      }),
    ),
    deletionPolicy: deletionPolicy('Delete', 'container'),
    adoptionPolicy: adoptionPolicy(
      'container',
      'An adopted container is recreated from this spec, as a spec change would recreate it: stopped, its ' +
        'anonymous volumes carried over to the new container, and removed once the new one runs.',
    ),
  },
  {
    description: 'Desired state of a DockerContainer.',
    ...rules(placementRule, {
      rule: 'has(self.image) != has(self.imageRef)',
      message: 'exactly one of spec.image or spec.imageRef must be set',
      fieldPath: '.image',
    }),
  },
);
export type DockerContainerSpec = Static<typeof DockerContainerSpec>;

export const DockerContainerHostStatus = Type.Object({
  ...hostStatusFields,
  containerName: Type.Optional(str('Name of the container on this host.')),
  state: Type.Optional(str('Docker state: created, running, exited…', { maxLength: 32 })),
  health: Type.Optional(str('Docker health: starting, healthy, unhealthy.', { maxLength: 32 })),
  restartCount: Type.Optional(int('Restarts Docker counted.', { minimum: 0 })),
  startedAt: Type.Optional(
    Type.String({ description: 'When the container last started.', format: 'date-time' }),
  ),
  exitCode: Type.Optional(int('Last exit code.')),
  imageId: Type.Optional(str('Image ID the container runs.')),
  ipAddresses: Type.Optional(stringMap('IP address per network.')),
});

export const DockerContainerStatus = Type.Object(
  {
    ...placementStatusFields,
    hosts: Type.Optional(list(DockerContainerHostStatus, 'Per-host state.', { maxItems: 256 })),
  },
  { description: 'Observed state of a DockerContainer.' },
);
export type DockerContainerStatus = Static<typeof DockerContainerStatus>;
export type DockerContainer = KubeObject<'DockerContainer', DockerContainerSpec, DockerContainerStatus>;

export const dockerContainerDefinition: KindDefinition = {
  kind: 'DockerContainer',
  plural: 'dockercontainers',
  singular: 'dockercontainer',
  shortNames: ['dctr'],
  scope: 'Namespaced',
  description: 'A DockerContainer is a container kept running (or stopped) on every host it is placed on.',
  spec: DockerContainerSpec,
  status: DockerContainerStatus,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    hostsColumn,
    readyColumn,
    phaseColumn,
    reasonColumn,
    ageColumn,
  ],
};
