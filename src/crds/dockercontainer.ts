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
  type Rule,
  type KubeObject,
} from './kit.js';

const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]*$';

export const keyRef = (what: 'Secret' | 'ConfigMap', leftOut = 'the variable is then left out') =>
  Type.Object(
    {
      name: objectName(`Name of the ${what} in this namespace.`),
      key: str(`Key in the ${what}.`, { maxLength: 253 }),
      optional: Type.Optional(bool(`Tolerate a missing ${what} or key (${leftOut}).`)),
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

/** Bytes of inline `content` per file: the controller bounds the total of resolved files (1 MiB). */
export const MAX_INLINE_FILE_CONTENT = 262144;

export const ContainerFile = Type.Object(
  {
    path: absolutePath('Absolute path of the file inside the container.', '', {
      // Not the root, not a directory (no trailing slash).
      pattern: '^(?:/(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+))+$',
    }),
    content: Type.Optional(
      Type.String({ description: 'Inline text content (UTF-8).', maxLength: MAX_INLINE_FILE_CONTENT }),
    ),
    secretKeyRef: Type.Optional(keyRef('Secret', 'the file is then left out')),
    configMapKeyRef: Type.Optional(keyRef('ConfigMap', 'the file is then left out')),
    mode: Type.Optional(
      str(
        'Permission bits in octal as a string, e.g. "0644" or "0400" (a string, so YAML cannot read ' +
          'it as a decimal number). Default 0644. The setuid/setgid bits (4000, 2000) are refused on ' +
          'restricted hosts.',
        { maxLength: 4, pattern: '^[0-7]{3,4}$' },
      ),
    ),
    uid: Type.Optional(int('Owner user ID of the file. Default 0.', { minimum: 0, maximum: 2147483647 })),
    gid: Type.Optional(int('Owner group ID of the file. Default 0.', { minimum: 0, maximum: 2147483647 })),
  },
  {
    description:
      'A file in the container: its content from a Secret key, a ConfigMap key or inline text. ' +
      'Missing parent directories are created (0755, owned by root).',
    ...rules({
      rule: '(has(self.content) ? 1 : 0) + (has(self.secretKeyRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) == 1',
      message: 'files: exactly one of content, secretKeyRef or configMapKeyRef',
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
    tmpfsMode: Type.Optional(
      str('For type tmpfs: permissions of the tmpfs root, in octal, e.g. 1777 or 0700.', {
        maxLength: 4,
        pattern: '^[0-7]{3,4}$',
      }),
    ),
    subPath: Type.Optional(
      str(
        'For type volume: mount this directory of the volume instead of its root (relative, no .. ' +
          'segments). Needs Docker Engine API 1.45 (Engine 26) or newer; refused on older hosts ' +
          '(UnsupportedByEngine).',
        {
          maxLength: 1024,
          pattern: '^(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+)(?:/(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+))*$',
        },
      ),
    ),
    noCopy: Type.Optional(
      bool('For type volume: do not copy the image’s files at the target into a new, empty volume.'),
    ),
    propagation: Type.Optional(
      Type.Enum(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'], {
        description:
          'For type bind: mount propagation. shared and rshared let mounts made in the container ' +
          'appear on the host and need a privileged host. Default rprivate.',
      }),
    ),
    selinuxRelabel: Type.Optional(
      Type.Enum(['shared', 'private'], {
        description:
          'For type bind: relabel the host path for SELinux (shared is :z, private is :Z). Changes the ' +
          'host path’s labels, so it needs a privileged host.',
      }),
    ),
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
      {
        rule: "self.type == 'tmpfs' || !has(self.tmpfsMode)",
        message: 'mounts: tmpfsMode only applies to tmpfs mounts',
        fieldPath: '.tmpfsMode',
      },
      {
        rule: "self.type == 'volume' || !has(self.subPath)",
        message: 'mounts: subPath only applies to volume mounts',
        fieldPath: '.subPath',
      },
      {
        rule: "self.type == 'volume' || !has(self.noCopy)",
        message: 'mounts: noCopy only applies to volume mounts',
        fieldPath: '.noCopy',
      },
      {
        rule: "self.type == 'bind' || !has(self.propagation)",
        message: 'mounts: propagation only applies to bind mounts',
        fieldPath: '.propagation',
      },
      {
        rule: "self.type == 'bind' || !has(self.selinuxRelabel)",
        message: 'mounts: selinuxRelabel only applies to bind mounts',
        fieldPath: '.selinuxRelabel',
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
  ipv6Address: Type.Optional(
    str('Static IPv6 address (the network needs an IPv6 IPAM subnet), e.g. fd00:1::10.', {
      maxLength: 39,
      pattern: '^[0-9a-fA-F:]*:[0-9a-fA-F:]*$',
      ...rules({
        rule: 'isIP(self) && ip(self).family() == 6',
        message: 'networks: ipv6Address must be an IPv6 address',
      }),
    }),
  ),
  macAddress: Type.Optional(
    str(
      'Unicast MAC address on this network, e.g. 02:42:ac:11:00:02. On the first network it is set at create ' +
        '(a change recreates the container); on the others it needs Docker Engine API 1.44 (Engine 25) ' +
        'or newer and is refused on older hosts (UnsupportedByEngine).',
      { maxLength: 17, pattern: '^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$' },
    ),
  ),
});

/** A dotted kernel parameter name, as Docker takes it: net.ipv4.tcp_syncookies. */
export const SYSCTL_NAME_PATTERN = '^[a-z0-9]([-_a-z0-9]*[a-z0-9])?([.][a-z0-9]([-_a-z0-9]*[a-z0-9])?)+$';

export const Sysctls = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }), {
  description:
    'Kernel parameters of the container’s own namespaces, name to value (Compose sysctls), e.g. ' +
    'net.ipv4.tcp_keepalive_time: "600"; changing them recreates. Below privileged only Kubernetes’ safe ' +
    'set: kernel.shm_rmid_forced and net.ipv4.ip_local_port_range, ip_local_reserved_ports, ' +
    'ip_unprivileged_port_start, ping_group_range, tcp_syncookies, tcp_keepalive_time, tcp_keepalive_intvl, ' +
    'tcp_keepalive_probes, tcp_fin_timeout, tcp_rmem, tcp_wmem. A privileged host allows any name, but ' +
    'Docker itself refuses one that is not namespaced (only kernel.msg*, kernel.sem, kernel.shm*, ' +
    'fs.mqueue.* and net.* are; net.* not with networkMode host).',
  maxProperties: 32,
  ...rules({
    rule: `self.all(k, k.matches('${SYSCTL_NAME_PATTERN}'))`,
    message: 'sysctls: every name must be a dotted kernel parameter such as net.ipv4.tcp_syncookies',
  }),
});

/** Docker's ulimit names (go-units), the resource limits of setrlimit(2). */
export const ULIMIT_NAMES = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;

/** 2^53 - 1: every limit the translation can carry exactly. */
const MAX_ULIMIT = 9007199254740991;

export const Ulimit = Type.Object(
  {
    name: Type.Enum([...ULIMIT_NAMES], {
      description:
        'The resource (setrlimit): nofile, nproc, core, stack… Below privileged memlock, msgqueue, nice, ' +
        'rtprio and sigpending are refused.',
    }),
    soft: int('Soft limit; -1 is unlimited.', { minimum: -1, maximum: MAX_ULIMIT }),
    hard: Type.Optional(
      int('Hard limit, at least soft; -1 is unlimited. Default soft.', { minimum: -1, maximum: MAX_ULIMIT }),
    ),
  },
  {
    description: 'A resource limit of the container’s processes (Compose ulimits).',
    ...rules({
      rule: '!has(self.hard) || self.hard == -1 || (self.soft != -1 && self.soft <= self.hard)',
      message: 'ulimits: soft must not be above hard (-1 is unlimited)',
      fieldPath: '.soft',
    }),
  },
);

export const HostAlias = Type.Object(
  {
    ip: str('IPv4 or IPv6 address, or host-gateway (the host’s address on the default bridge).', {
      maxLength: 45,
      pattern: '^(host-gateway|[0-9.]+|[0-9a-fA-F:.]+)$',
      ...rules({
        rule: "self == 'host-gateway' || isIP(self)",
        message: 'hostAliases: ip must be an IPv4 or IPv6 address, or host-gateway',
      }),
    }),
    hostnames: list(
      str('A host name.', {
        maxLength: 253,
        pattern: '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*$',
      }),
      'Names for the address.',
      { minItems: 1, maxItems: 16 },
    ),
  },
  { description: 'Lines of the container’s /etc/hosts (Compose extra_hosts).' },
);

const nameserver = str('IPv4 or IPv6 address of a name server.', {
  maxLength: 45,
  pattern: '^([0-9.]+|[0-9a-fA-F:.]+)$',
  ...rules({ rule: 'isIP(self)', message: 'dnsConfig: a name server must be an IPv4 or IPv6 address' }),
});

export const DnsConfig = Type.Object(
  {
    nameservers: Type.Optional(list(nameserver, 'Name servers (Compose dns).', { maxItems: 3 })),
    searches: Type.Optional(
      list(
        str('A search domain.', {
          maxLength: 253,
          pattern: '^[a-zA-Z0-9_]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?\\.?$',
        }),
        'Search domains (Compose dns_search).',
        { maxItems: 32 },
      ),
    ),
    options: Type.Optional(
      list(
        Type.Object({
          name: str('Option name, e.g. ndots, timeout, rotate.', {
            maxLength: 64,
            pattern: '^[a-zA-Z0-9_-]+$',
          }),
          value: Type.Optional(
            str('Option value, e.g. 2 for ndots.', { maxLength: 64, pattern: '^[^\\s:]*$' }),
          ),
        }),
        'resolv.conf options (Compose dns_opt), written as name:value.',
        { maxItems: 16 },
      ),
    ),
  },
  {
    description:
      'The container’s /etc/resolv.conf (Compose dns, dns_search, dns_opt); changing it recreates. Unset ' +
      'parts come from the daemon.',
  },
);

export const Healthcheck = Type.Object(
  {
    command: Type.Optional(
      list(
        str('An argument.', { maxLength: MAX.longString }),
        'Command run inside the container (exec form, Compose test: ["CMD", …]); exit 0 is healthy.',
        {
          minItems: 1,
        },
      ),
    ),
    shell: Type.Optional(
      str(
        'Command run by the image’s /bin/sh -c (shell form, Compose test: ["CMD-SHELL", …] or a string); ' +
          'exit 0 is healthy.',
        { minLength: 1, maxLength: MAX.longString },
      ),
    ),
    disable: Type.Optional(
      bool(
        'Turn off the image’s own HEALTHCHECK (Compose disable: true or test: ["NONE"]); Ready then means ' +
          'running. Takes neither command nor shell.',
      ),
    ),
    interval: Type.Optional(duration('Time between checks. Default 30s.')),
    timeout: Type.Optional(duration('Time a check may take. Default 30s.')),
    retries: Type.Optional(
      int('Consecutive failures before unhealthy. Default 3.', { minimum: 1, maximum: 100 }),
    ),
    startPeriod: Type.Optional(duration('Grace period after start during which failures do not count.')),
    startInterval: Type.Optional(
      duration(
        'Time between checks during startPeriod. Needs Docker Engine API 1.44 (Engine 25) or newer; ' +
          'refused on older hosts (UnsupportedByEngine).',
      ),
    ),
  },
  {
    description:
      'A Docker healthcheck; with one, Ready means running and healthy. Exactly one of command or shell, ' +
      'or disable: true.',
    ...rules(
      {
        rule: '(has(self.disable) && self.disable) || has(self.command) != has(self.shell)',
        message: 'healthcheck needs exactly one of command or shell (or disable: true)',
        fieldPath: '.command',
      },
      {
        rule: '!(has(self.disable) && self.disable) || (!has(self.command) && !has(self.shell))',
        message: 'healthcheck: disable: true takes neither command nor shell',
        fieldPath: '.disable',
      },
    ),
  },
);

/**
 * Compose `gpus` and `deploy.resources.reservations.devices`. Docker hands the
 * request to the device driver that offers the capabilities (the NVIDIA
 * runtime hook for gpu), which puts host device nodes and driver libraries
 * into the container: host hardware, so the host policy decides it.
 */
export const DeviceRequest = Type.Object(
  {
    driver: Type.Optional(
      str('Device driver, e.g. nvidia. Default: the driver that offers the capabilities.', {
        maxLength: 64,
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      }),
    ),
    count: Type.Optional(
      int('How many devices. Unset (without deviceIDs): all of them, like Compose’s count: all.', {
        minimum: 1,
        maximum: 1024,
      }),
    ),
    deviceIDs: Type.Optional(
      list(
        str('A device ID or index, e.g. 0 or GPU-f2b4…', {
          maxLength: 128,
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$',
        }),
        'Exactly these devices (Compose device_ids); exclusive with count.',
        { maxItems: 64 },
      ),
    ),
    capabilities: list(
      list(
        str('A capability, e.g. gpu, compute, utility.', {
          maxLength: 64,
          pattern: '^[a-z0-9][a-z0-9_.-]*$',
        }),
        'Capabilities a driver must all offer.',
        { minItems: 1, maxItems: 16 },
      ),
      'Alternatives: a driver offering every capability of one inner list matches, e.g. [[gpu]].',
      { minItems: 1, maxItems: 8 },
    ),
    options: Type.Optional(stringMap('Driver-specific options.')),
  },
  {
    description: 'A request for devices from a device driver (Docker DeviceRequests).',
    ...rules({
      rule: '!(has(self.count) && has(self.deviceIDs))',
      message: 'deviceRequests: count and deviceIDs are mutually exclusive',
      fieldPath: '.deviceIDs',
    }),
  },
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
    shmSize: Type.Optional(
      byteQuantity(
        'Size of /dev/shm (Compose shm_size); changing it recreates. Default Docker’s 64Mi. /dev/shm is ' +
          'memory, so below privileged it is at most 1Gi.',
      ),
    ),
    deviceRequests: Type.Optional(
      list(DeviceRequest, 'Devices (GPUs) from the daemon’s device drivers; changing them recreates.', {
        maxItems: 8,
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
      Type.Enum(['default', 'host', 'none', 'container'], {
        description:
          'host shares the host network namespace; container shares the network namespace of the ' +
          'DockerContainer named by networkContainer (the sidecar pattern; no networks, ports, hostname, ' +
          'hostAliases or dnsConfig of its own). Default default.',
      }),
    ),
    networkContainer: Type.Optional(
      objectName(
        'For networkMode container: the DockerContainer in this namespace whose network namespace this ' +
          'container joins, on the same host. It waits until that container runs there, and is recreated ' +
          'whenever that container is.',
      ),
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
    deviceCgroupRules: Type.Optional(
      list(
        str('A rule as Docker writes it: type (a, b or c), major:minor (* for any), access, e.g. c 1:3 mr.', {
          maxLength: 32,
          pattern: '^[abc] (\\*|[0-9]{1,10}):(\\*|[0-9]{1,10}) [rwm]{1,3}$',
        }),
        'Device cgroup rules (Compose device_cgroup_rules): which host devices the container may create and use.',
        { maxItems: 32 },
      ),
    ),
    groupAdd: Type.Optional(
      list(
        str('A group: a numeric gid or a name resolved in the image’s /etc/group.', {
          maxLength: 32,
          pattern: '^([0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31})$',
        }),
        'Supplementary groups of the container process (Compose group_add).',
        { maxItems: 32 },
      ),
    ),
    seccompProfile: Type.Optional(
      Type.Object(
        {
          type: Type.Enum(['RuntimeDefault', 'Unconfined', 'Localhost'], {
            description:
              'RuntimeDefault: the daemon’s default seccomp profile (the same as unset). Unconfined: no ' +
              'seccomp filter (privileged hosts only). Localhost: a profile the host’s administrator ' +
              'provides, named by localhostProfile (at every policy level only one the host lists in ' +
              'securityPolicySettings.seccompProfiles).',
          }),
          localhostProfile: Type.Optional(
            str(
              'For Localhost: the name of a profile in the host’s securityPolicySettings.seccompProfiles ' +
                '(a name, not a file path as in Kubernetes: Docker takes profiles only as JSON text).',
              { maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
            ),
          ),
        },
        {
          description: 'The seccomp profile (Compose security_opt seccomp=…), as in Kubernetes.',
          ...rules({
            rule: "(self.type == 'Localhost') == has(self.localhostProfile)",
            message: 'seccompProfile: localhostProfile is required for Localhost and only allowed there',
            fieldPath: '.localhostProfile',
          }),
        },
      ),
    ),
    appArmorProfile: Type.Optional(
      Type.Object(
        {
          type: Type.Enum(['RuntimeDefault', 'Unconfined', 'Localhost'], {
            description:
              'RuntimeDefault: the daemon’s default profile (the same as unset). Unconfined: none (privileged ' +
              'hosts only). Localhost: a profile loaded on the host, named by localhostProfile (below ' +
              'privileged only one the host lists in securityPolicySettings.allowedAppArmorProfiles).',
          }),
          localhostProfile: Type.Optional(
            str('For Localhost: the name of the AppArmor profile loaded on the host.', {
              maxLength: 128,
              pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
            }),
          ),
        },
        {
          description: 'The AppArmor profile (Compose security_opt apparmor=…), as in Kubernetes.',
          ...rules(
            {
              rule: "(self.type == 'Localhost') == has(self.localhostProfile)",
              message: 'appArmorProfile: localhostProfile is required for Localhost and only allowed there',
              fieldPath: '.localhostProfile',
            },
            {
              rule: "!has(self.localhostProfile) || self.localhostProfile != 'unconfined'",
              message: 'appArmorProfile: write type Unconfined, not a Localhost profile named unconfined',
              fieldPath: '.localhostProfile',
            },
          ),
        },
      ),
    ),
    usernsMode: Type.Optional(
      Type.Enum(['host'], {
        description:
          'host shares the host user namespace (Compose userns_mode: host), turning off the daemon’s ' +
          'userns-remap for this container. Unset: the daemon’s setting.',
      }),
    ),
    cgroupnsMode: Type.Optional(
      Type.Enum(['private', 'host'], {
        description:
          'private gives the container its own cgroup namespace, host shares the host’s (Compose ' +
          'cgroupns_mode). Unset: the daemon’s default (private on cgroup v2, host on v1).',
      }),
    ),
  },
  {
    description: 'Security settings, checked against the host’s securityPolicy before anything is created.',
    ...rules({
      rule: "has(self.networkMode) && self.networkMode == 'container' ? has(self.networkContainer) : !has(self.networkContainer)",
      message: 'security: networkContainer is required for networkMode container and only allowed there',
      fieldPath: '.networkContainer',
    }),
  },
);

/**
 * Everything of a DockerContainer's spec but where it runs: shared with
 * DockerService's template (src/crds/dockerservice.ts), so a replica is
 * exactly what a DockerContainer is.
 */
export const containerProperties = {
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
  hostAliases: Type.Optional(
    list(HostAlias, 'Extra /etc/hosts lines (Compose extra_hosts), in order; changing them recreates.', {
      maxItems: 64,
    }),
  ),
  dnsConfig: Type.Optional(DnsConfig),
  sysctls: Type.Optional(Sysctls),
  ulimits: Type.Optional(
    list(Ulimit, 'Resource limits (Compose ulimits), one per name; changing them recreates.', {
      maxItems: ULIMIT_NAMES.length,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  ),
  init: Type.Optional(
    bool(
      'Run Docker’s init (tini) as PID 1, which reaps zombies and forwards signals (Compose init). false ' +
        'turns off a daemon-wide default init. Changing it recreates.',
    ),
  ),
  tty: Type.Optional(bool('Allocate a pseudo-terminal (Compose tty). Changing it recreates.')),
  stdinOpen: Type.Optional(
    bool(
      'Keep stdin open although nothing is attached (Compose stdin_open), so a shell reading it does not ' +
        'exit. Changing it recreates.',
    ),
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
  files: Type.Optional(
    list(
      ContainerFile,
      'Files written into the container before it starts (Compose configs/secrets), built into a ' +
        'per-container image layer, so they work with a read-only root file system. A change of a ' +
        'file or of the Secret/ConfigMap it reads recreates the container. At most 1 MiB in all.',
      { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['path'] },
    ),
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
  dependsOn: Type.Optional(
    list(
      Type.Object({
        name: objectName('Another DockerContainer in this namespace, placed on the same hosts.'),
        condition: Type.Optional(
          Type.Enum(['Started', 'Ready', 'Completed'], {
            description:
              'What it must have reached on the host: Started (running; Compose service_started), Ready ' +
              '(running and healthy when it has a healthcheck; service_healthy) or Completed (exited 0; ' +
              'service_completed_successfully). Default Started.',
            default: 'Started',
          }),
        ),
      }),
      'Other DockerContainers this one is created after, on each host (Compose depends_on). Waited for ' +
        'only before the container is created or recreated: a dependency that later stops or turns ' +
        'unhealthy does not stop a running container. A cycle is refused by the controller (DependencyCycle).',
      { maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
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
};

/** The rules over containerProperties (placement aside). */
export const containerRules: Rule[] = [
  {
    rule: 'has(self.image) != has(self.imageRef)',
    message: 'exactly one of spec.image or spec.imageRef must be set',
    fieldPath: '.image',
  },
  // Docker refuses these with another container's network namespace: they are that container's.
  ...(['networks', 'ports', 'hostname', 'hostAliases', 'dnsConfig'] as const).map((field) => ({
    rule: `!has(self.security) || !has(self.security.networkMode) || self.security.networkMode != 'container' || !has(self.${field})`,
    message: `${field} cannot be set with networkMode container (the shared network namespace has its own)`,
    fieldPath: `.${field}`,
    reason: 'FieldValueForbidden' as const,
  })),
];

export const DockerContainerSpec = Type.Object(
  { ...placementFields, ...containerProperties },
  { description: 'Desired state of a DockerContainer.', ...rules(placementRule, ...containerRules) },
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
  imagePin: Type.Optional(
    Type.Object(
      {
        image: str('spec.image as it was when pinned.', { maxLength: 512 }),
        digest: str('The digest it was resolved to, e.g. sha256:….', { maxLength: 128 }),
      },
      {
        description:
          'The digest the host’s imagePolicy pinned spec.image to (a rule with requireDigest or ' +
          'RequireSignature): the container runs repository@digest, and the tag is not resolved again ' +
          'until spec.image changes.',
      },
    ),
  ),
  ipAddresses: Type.Optional(stringMap('IP address per network.')),
  finishedAt: Type.Optional(
    Type.String({
      description: 'When the container last exited (a Completed or Failed run); unset while it runs.',
      format: 'date-time',
    }),
  ),
  lastLogLines: Type.Optional(
    Type.String({
      description:
        'For a Failed container (non-zero exit): the last lines of its output (at most 20 lines, 2 KiB), ' +
        'with the values of the Secrets its environment reads replaced by [REDACTED].',
      maxLength: 4096,
    }),
  ),
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
