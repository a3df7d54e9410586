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
import { ImagePolicy } from './image-policy.js';

/** 1–65535, as a pattern (the endpoint is one string). */
const TCP_PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';

/** An IPv4 or IPv6 network in CIDR form; CEL's isCIDR checks what the pattern cannot. */
const allowedSubnet = str('A network in CIDR form, e.g. 10.231.0.0/16 or fd00:1::/64.', {
  maxLength: 64,
  pattern: '^([0-9.]+/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$',
  ...rules({ rule: 'isCIDR(self)', message: 'must be a network in CIDR form, e.g. 10.231.0.0/16' }),
});

export const HostPortRange = Type.Object(
  {
    from: int('First allowed host port.', { minimum: 1, maximum: 65535 }),
    to: Type.Optional(
      int('Last allowed host port (inclusive). Default from.', { minimum: 1, maximum: 65535 }),
    ),
  },
  {
    description: 'A range of host ports containers may publish.',
    ...rules({
      rule: '!has(self.to) || self.to >= self.from',
      message: 'allowedHostPorts: to must not be below from',
      fieldPath: '.to',
    }),
  },
);

/** The name containers give as security.seccompProfile.localhostProfile (the same shape as AppArmor names). */
export const SECCOMP_PROFILE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

/** One seccomp profile of the host: a name, and the ConfigMap key holding its JSON. */
export const SeccompProfileSource = Type.Object(
  {
    name: str('The name containers use (security.seccompProfile.localhostProfile).', {
      maxLength: 128,
      pattern: SECCOMP_PROFILE_NAME_PATTERN,
    }),
    configMapRef: Type.Object(
      {
        namespace: objectName('Namespace of the ConfigMap.'),
        name: objectName('Name of the ConfigMap.'),
        key: str('The key holding the profile.', { maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' }),
      },
      {
        description:
          'The ConfigMap key holding the profile in Docker’s seccomp JSON format (what `docker run ' +
          '--security-opt seccomp=FILE` reads), resolved when a container using it is reconciled.',
      },
    ),
  },
  { description: 'A seccomp profile containers on this host may use, by name.' },
);
export type SeccompProfileSource = Static<typeof SeccompProfileSource>;

/**
 * What an administrator opens up, or asks for, beyond the securityPolicy
 * level. Relaxations (ports, subnets) matter only below privileged; the
 * requirements (limits) apply at every level, privileged too.
 */
export const SecurityPolicySettings = Type.Object(
  {
    allowedHostPorts: Type.Optional(
      list(
        HostPortRange,
        'Host ports containers may publish below privileged. Default none: a container asking for a host ' +
          'port is refused (PolicyViolation).',
        { maxItems: 32 },
      ),
    ),
    allowedSubnets: Type.Optional(
      list(
        allowedSubnet,
        'Networks that DockerNetwork IPAM subnets, IP ranges and gateways must lie inside below privileged. ' +
          'Default none: a DockerNetwork asking for a subnet is refused; one without lets Docker choose.',
        { maxItems: 32 },
      ),
    ),
    allowedAppArmorProfiles: Type.Optional(
      list(
        str('The name of an AppArmor profile loaded on this host.', {
          maxLength: 128,
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
        }),
        'AppArmor profiles containers may name (security.appArmorProfile Localhost) below privileged. Default ' +
          'none: a host can hold profiles in complain or unconfined mode, so only the administrator knows ' +
          'which ones confine.',
        { maxItems: 32 },
      ),
    ),
    seccompProfiles: Type.Optional(
      list(
        SeccompProfileSource,
        'Seccomp profiles containers on this host may name (security.seccompProfile Localhost), at every ' +
          'policy level, privileged too: Docker takes a profile only as its JSON text, so the text comes from ' +
          'the ConfigMap the administrator names here, never from the tenant (a profile of their own could ' +
          'allow every system call). Default none.',
        { maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    requireMemoryLimit: Type.Optional(
      bool('Every container must set spec.resources.memory (CIS Docker 5.10), at every policy level.'),
    ),
    requirePidsLimit: Type.Optional(
      bool('Every container must set spec.resources.pidsLimit (CIS Docker 5.28), at every policy level.'),
    ),
    allowAdoptingUnlabelled: Type.Optional(
      bool(
        'Resources with spec.adoptionPolicy IfOrphaned may take over Docker objects on this host that carry ' +
          'no Dockyard labels (made by hand: the migration path from hand-run hosts). Off by default: any ' +
          'namespace allowed on this host could otherwise claim what its administrator runs by hand (and ' +
          'recreate it, for a container). Objects Dockyard created and a deleted resource left behind ' +
          '(deletionPolicy Orphan) are adoptable without it, by resources of their own namespace only.',
      ),
    ),
    allowedExternalVolumes: Type.Optional(
      list(
        str('The name of a Docker volume on this host.', {
          maxLength: 128,
          pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        }),
        'Existing Docker volumes an external DockerVolume may refer to below privileged (and so any namespace ' +
          'allowed on this host may mount). Default none.',
        { maxItems: 64 },
      ),
    ),
    allowedExternalNetworks: Type.Optional(
      list(
        str('The name of a Docker network on this host.', {
          maxLength: 128,
          pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        }),
        'Existing Docker networks an external DockerNetwork may refer to below privileged (and so any ' +
          'namespace allowed on this host may join). Default none; host is never allowed below privileged.',
        { maxItems: 64 },
      ),
    ),
    allowBuilds: Type.Optional(
      bool(
        'DockerBuilds may build images on this host below privileged. A build runs the Dockerfile’s commands ' +
          'in containers on this daemon (unprivileged, on the default bridge network) and pulls the base ' +
          'images it names, which spec.imagePolicy does not see: allow it only where the namespaces allowed ' +
          'here may run arbitrary commands. Off by default; privileged hosts allow builds without it.',
      ),
    ),
    allowedPushRegistries: Type.Optional(
      list(
        str('A registry host, with its port if it has one, as image references name it.', {
          maxLength: 253,
          pattern: '^(localhost|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$',
        }),
        'Registries DockerBuilds on this host may push to below privileged (spec.push): a push copies an ' +
          'image out of the host, so only to registries the administrator names. Default none; privileged ' +
          'hosts push anywhere. Docker Hub is docker.io.',
        { maxItems: 32 },
      ),
    ),
  },
  { description: 'Admin settings of the securityPolicy: what it opens up and what it requires.' },
);
export type SecurityPolicySettings = Static<typeof SecurityPolicySettings>;

/**
 * The host is reached through `dockyard agent`, which dials out to the
 * controller: the host opens no port (docs/agent.md).
 */
export const AgentConnection = Type.Object(
  {
    credentialGeneration: Type.Optional(
      int(
        'Bump to rotate the credentials: the bootstrap Secret gets a new single-use token, and certificates ' +
          'issued before are refused from the next heartbeat (the agent disconnects and must enrol again). ' +
          'Deleting the Secret does the same.',
        { minimum: 0, maximum: 2147483647 },
      ),
    ),
  },
  {
    description:
      'Connect through an edge agent instead of an endpoint. The controller keeps a bootstrap Secret ' +
      'dockyard-agent-<host name> in its own namespace (a single-use token, the CA and the address to dial) ' +
      'for the administrator to hand to the box; the agent exchanges the token for a short-lived client ' +
      'certificate that it renews by itself.',
  },
);
export type AgentConnection = Static<typeof AgentConnection>;

export const DockerHostSpec = Type.Object(
  {
    endpoint: Type.Optional(
      Type.String({
        description:
          'How the controller reaches the Docker daemon: unix:///path/to/docker.sock or tcp://host:port. A ' +
          'tcp:// endpoint needs spec.tls unless spec.insecure is true. Exactly one of endpoint and agent.',
        maxLength: 512,
        // No control characters (a NUL in a socket path), and a port Docker can listen on.
        pattern: `^(unix:///[^\\s\\x00-\\x1f\\x7f]+|tcp://[^\\s\\x00-\\x1f\\x7f/:]+(:${TCP_PORT})?)$`,
      }),
    ),
    agent: Type.Optional(AgentConnection),
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
          'What containers, volumes and networks may ask of this host, modelled on the Pod Security ' +
          'Standards. Every field that reaches the daemon is allow-listed per level. privileged allows ' +
          'everything but what securityPolicySettings requires at every level (limits, seccomp profiles ' +
          'only from seccompProfiles). baseline forbids privileged mode, host namespaces, bind mounts, devices, capabilities ' +
          'outside the baseline list, host ports outside securityPolicySettings.allowedHostPorts, log drivers ' +
          'other than json-file and local (allow-listed options, max-size and max-file capped), tmpfs mounts ' +
          'without a capped size, volume drivers other than local with options other than type (tmpfs, nfs, ' +
          'nfs4, cifs), o (allow-listed mount options) and device (no host paths), network drivers other than ' +
          'bridge (allow-listed options), IPAM subnets outside securityPolicySettings.allowedSubnets, device ' +
          'requests (GPUs), device cgroup rules, Unconfined seccomp and AppArmor profiles, AppArmor profiles ' +
          'outside securityPolicySettings.allowedAppArmorProfiles, the host user and cgroup namespaces, ' +
          'sysctls outside Kubernetes’ safe set, the ulimits memlock, rtprio, nice, msgqueue and sigpending, ' +
          'and a shmSize above 1Gi. ' +
          'restricted also requires a numeric non-zero uid and numeric non-zero supplementary groups, ' +
          'dropping ALL capabilities and no-new-privileges, and allows only tmpfs volumes. Default baseline.',
        default: 'baseline',
      }),
    ),
    // securityPolicySettings: owned by the security-policy work (issue #12 items 9-10).
    securityPolicySettings: Type.Optional(SecurityPolicySettings),
    imagePolicy: Type.Optional(ImagePolicy),
    unschedulable: Type.Optional(
      bool('Stops new placements on this host; objects already there are kept and still reconciled.'),
    ),
    drain: Type.Optional(
      bool(
        'Empties this host of Dockyard objects, like kubectl drain: implies unschedulable, and every ' +
          'DockerContainer, DockerVolume, DockerNetwork and DockerImage placed here is removed per its own ' +
          'deletionPolicy (Delete removes the Docker object, Orphan leaves it unmanaged). An object whose ' +
          'placement also takes it onto other hosts is removed here only once it is Ready there. ' +
          'status.conditions Drained shows the progress. Changes of labels or allowedNamespaces never remove ' +
          'objects; this field is the explicit way. Set it back to false to take new placements again.',
      ),
    ),
    heartbeatIntervalSeconds: Type.Optional(
      int(
        'How often the daemon is pinged. Default 10. What it says about itself (status.engine, ' +
          'status.containers) is asked for again at most once a minute while it stays Ready.',
        { minimum: 1, maximum: 3600, default: 10 },
      ),
    ),
  },
  {
    description: 'Desired state of a DockerHost.',
    ...rules(
      {
        rule: 'has(self.endpoint) != has(self.agent)',
        message: 'exactly one of spec.endpoint and spec.agent must be set',
        fieldPath: '.endpoint',
        reason: 'FieldValueRequired',
      },
      {
        rule: '!has(self.agent) || (!has(self.tls) && !has(self.insecure))',
        message: 'spec.tls and spec.insecure apply to spec.endpoint only: an agent brings its own mutual TLS',
        fieldPath: '.agent',
        reason: 'FieldValueForbidden',
      },
      {
        rule:
          "!has(self.endpoint) || !self.endpoint.startsWith('tcp://') || has(self.tls) || " +
          '(has(self.insecure) && self.insecure)',
        message: 'spec.tls is required for a tcp:// endpoint unless spec.insecure is true',
        fieldPath: '.tls',
        reason: 'FieldValueRequired',
      },
    ),
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
  { description: 'Facts the daemon reports about itself (/info, /version), asked for again once a minute.' },
);

/** Docker labels cannot change: the Orphan a resource asked for last is recorded here, where it outlives the resource. */
export const MAX_RELEASED_OWNERS = 4096;

/** Who a status list entry is about: a resource, by uid, kind, namespace and name. */
function resourceFields(role: string, uidNote = '') {
  return {
    uid: str(`metadata.uid of the ${role} resource${uidNote}.`, { maxLength: 128 }),
    kind: str(`Kind of the ${role} resource, e.g. DockerVolume.`, { maxLength: 63 }),
    namespace: str(`Namespace of the ${role} resource.`, { maxLength: 63 }),
    name: str(`Name of the ${role} resource.`, { maxLength: 253 }),
  };
}

export const ReleasedOwner = Type.Object(
  {
    ...resourceFields('released', ' (its Docker objects carry it in dockyard.io/uid)'),
    releasedAt: Type.String({ description: 'When it was released.', format: 'date-time' }),
  },
  { description: 'A resource that left its Docker objects on this host with deletionPolicy Orphan.' },
);
export type ReleasedOwner = Static<typeof ReleasedOwner>;
const ReleasedOwners = list(
  ReleasedOwner,
  'Resources that released their Docker objects on this host (deletionPolicy Orphan, on deletion or ' +
    'when they left the host). The orphan sweep never removes an object whose owner is listed here, ' +
    'whatever deletion policy its labels recorded at create time. Written by the controller; an entry ' +
    'goes once no Docker object of that owner is left on the host.',
  { maxItems: MAX_RELEASED_OWNERS },
);

/** Volumes and networks taken over in place by spec.adoptionPolicy: IfOrphaned (they keep the labels they had). */
export const MAX_ADOPTED_OBJECTS = 4096;
export const AdoptedObject = Type.Object(
  {
    type: Type.Enum(['volume', 'network'], { description: 'Docker object type.' }),
    dockerName: str('Name of the Docker object on this host.', { maxLength: 253 }),
    ...resourceFields('adopting'),
    adoptedAt: Type.String({ description: 'When it was adopted.', format: 'date-time' }),
  },
  { description: 'A Docker volume or network a resource adopted on this host.' },
);
export type AdoptedObject = Static<typeof AdoptedObject>;
const AdoptedObjects = list(
  AdoptedObject,
  'Docker volumes and networks that a resource with adoptionPolicy IfOrphaned took over in place. Docker ' +
    'labels cannot change, so the claim is recorded here: one resource per object, written with the ' +
    "DockerHost's resourceVersion so two resources never adopt the same object. The controller removes " +
    'an entry when its resource lets go of the host.',
  { maxItems: MAX_ADOPTED_OBJECTS },
);

/** How the controller talks to the daemon, shown by `kubectl get dhost`. */
export const CONNECTION_MODES = ['unix', 'tcp', 'tcp+tls', 'agent'] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

export const AgentStatus = Type.Object(
  {
    credentialsSecret: Type.Optional(
      str('namespace/name of the bootstrap Secret to hand to the box.', { maxLength: 317 }),
    ),
    connected: Type.Optional(bool('The agent holds a tunnel to this controller now.')),
    version: Type.Optional(str('Version of dockyard agent, as it reports itself.', { maxLength: 64 })),
    connectedSince: Type.Optional(
      Type.String({ description: 'When the current (or last) tunnel came up.', format: 'date-time' }),
    ),
    lastSeenTime: Type.Optional(
      Type.String({
        description: 'When the agent last answered a heartbeat: what is placed here is unknown since then.',
        format: 'date-time',
      }),
    ),
    reconnects: Type.Optional(
      int('Tunnels the agent opened after its first one since the controller started.', { minimum: 0 }),
    ),
    roundTripMilliseconds: Type.Optional(
      int('Round-trip time of the last heartbeat (an HTTP/2 ping through the tunnel).', { minimum: 0 }),
    ),
    certificateNotAfter: Type.Optional(
      Type.String({
        description: 'When the agent’s current client certificate expires.',
        format: 'date-time',
      }),
    ),
  },
  { description: 'The edge agent’s connection, for a DockerHost with spec.agent.' },
);
export type AgentStatus = Static<typeof AgentStatus>;

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
        {
          description:
            'Container counts, as of lastHeartbeatTime: written with any other status change, and alone at ' +
            'most once a minute while they change (a converging fleet would otherwise write every heartbeat).',
        },
      ),
    ),
    lastHeartbeatTime: Type.Optional(
      Type.String({ description: 'Last successful ping.', format: 'date-time' }),
    ),
    endpoint: Type.Optional(str('The endpoint the status was observed through.', { maxLength: 512 })),
    connection: Type.Optional(
      Type.Enum([...CONNECTION_MODES], {
        description: 'How the controller reaches the daemon: unix, tcp, tcp+tls (mutual TLS) or agent.',
      }),
    ),
    agent: Type.Optional(AgentStatus),
    warnings: Type.Optional(
      list(str('A warning.', { maxLength: 1024 }), 'Warnings about how this host is configured.'),
    ),
    placedObjects: Type.Optional(
      int(
        'How many Dockyard objects (status.hosts entries of every kind) are still placed on this host; ' +
          'reported while it drains or is being deleted.',
        { minimum: 0 },
      ),
    ),
    releasedOwners: Type.Optional(ReleasedOwners),
    adoptedObjects: Type.Optional(AdoptedObjects),
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
    { name: 'Mode', type: 'string', jsonPath: '.status.connection' },
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
    readyColumn,
    { name: 'Version', type: 'string', jsonPath: '.status.engine.version' },
    { name: 'Policy', type: 'string', jsonPath: '.spec.securityPolicy' },
    { name: 'Containers', type: 'integer', jsonPath: '.status.containers.running', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
};
