// Every leaf field of every kind's spec, and what stands between it and the
// Docker daemon (issue #12 item 10). field-decisions.test.ts walks the TypeBox
// schemas the CRDs are generated from and fails when a field is missing here
// (a new field cannot bypass the host policy unnoticed) or when a field listed
// here no longer exists. A field the policy decides must be exercised by at
// least one row of the escape table (policy-escapes.fixture.ts).
//
// Paths: `spec.a.b`, `[]` for list items, `.*` for the keys of a string map.

/** The named checks of security-policy.ts, volume-policy.ts, network-policy.ts and log-policy.ts. */
export type PolicyCheck =
  | 'container.privileged'
  | 'container.hostNamespaces'
  | 'container.devices'
  | 'container.bindMounts'
  | 'container.tmpfsSize'
  | 'container.mountPropagation'
  | 'container.selinuxRelabel'
  | 'container.capabilities'
  | 'container.deviceRequests'
  | 'container.deviceCgroupRules'
  | 'container.restrictedGroups'
  | 'container.seccompProfile'
  | 'container.appArmorProfile'
  | 'container.usernsMode'
  | 'container.cgroupnsMode'
  | 'container.restrictedUser'
  | 'container.restrictedCapDrop'
  | 'container.restrictedNoNewPrivileges'
  | 'container.restrictedFileModes'
  | 'container.hostPorts'
  | 'container.logDriver'
  | 'container.logOptions'
  | 'container.requiredLimits'
  | 'container.sysctls'
  | 'container.ulimits'
  | 'container.shmSize'
  | 'volume.external'
  | 'network.external'
  | 'volume.driver'
  | 'volume.driverOptions'
  | 'network.driver'
  | 'network.options'
  | 'network.ipamDriver'
  | 'network.ipamOptions'
  | 'network.ipamAddresses'
  | 'build.allowed'
  | 'push.registries';

export type FieldDecision =
  /** Reaches Docker; the host policy decides it. */
  | { decidedBy: PolicyCheck }
  /** Reaches Docker, and cannot reach past the container's (or object's) own sandbox: why. */
  | { harmless: string }
  /** Never sent to the daemon: Dockyard's own bookkeeping. */
  | { dockyardOnly: string };

export type SpecKind = 'DockerContainer' | 'DockerVolume' | 'DockerNetwork' | 'DockerImage' | 'DockerBuild';

const PLACEMENT: Record<string, FieldDecision> = {
  'spec.hostName': { dockyardOnly: 'placement; the DockerHost’s allowedNamespaces decides it' },
  'spec.hostSelector.matchLabels.*': { dockyardOnly: 'placement over DockerHost labels' },
  'spec.hostSelector.matchExpressions[].key': { dockyardOnly: 'placement over DockerHost labels' },
  'spec.hostSelector.matchExpressions[].operator': { dockyardOnly: 'placement over DockerHost labels' },
  'spec.hostSelector.matchExpressions[].values[]': { dockyardOnly: 'placement over DockerHost labels' },
  'spec.deletionPolicy': {
    dockyardOnly: 'what Dockyard does on delete; recorded, never interpreted by Docker',
  },
};
/** Container, volume and network: objects Dockyard creates and may adopt. */
const ADOPTION: Record<string, FieldDecision> = {
  'spec.adoptionPolicy': {
    dockyardOnly:
      'whether Dockyard takes over an existing object of the name; an adopted container is recreated from a spec the policy decides',
  },
};
const LABELS: FieldDecision = {
  harmless: 'metadata on the Docker object; Dockyard’s own owner labels are written after the user’s and win',
};
const OBJECT_NAME: FieldDecision = {
  harmless:
    'names the Docker object; who may use a name is decided by owner labels (NameConflict), not the host',
};
const SANDBOX: FieldDecision = { harmless: 'runs inside the container’s own namespaces and cgroup' };
const REFERENCE = (what: string): FieldDecision => ({
  harmless: `a ${what} of this namespace (the schema forbids others), resolved by Dockyard; its value stays inside the container`,
});

const CONTAINER: Record<string, FieldDecision> = {
  ...PLACEMENT,
  ...ADOPTION,
  'spec.containerName': OBJECT_NAME,
  'spec.image': {
    harmless:
      'image data; which images a host takes is its imagePolicy (image-policy.ts), what the container may ' +
      'do with one is decided by the other checks',
  },
  'spec.imageRef.name': {
    harmless: 'the digest a DockerImage of this namespace resolved (the schema forbids others)',
  },
  'spec.command[]': SANDBOX,
  'spec.args[]': SANDBOX,
  'spec.workingDir': SANDBOX,
  'spec.user': { decidedBy: 'container.restrictedUser' },
  'spec.hostname': { harmless: 'the name in the container’s own UTS namespace (utsMode host is decided)' },
  'spec.hostAliases[].ip': {
    harmless:
      'a line of the container’s own /etc/hosts, which its process could write itself; host-gateway is the bridge gateway it already routes through',
  },
  'spec.hostAliases[].hostnames[]': { harmless: 'names in the container’s own /etc/hosts' },
  'spec.dnsConfig.nameservers[]': {
    harmless:
      'the container’s own /etc/resolv.conf; its process can already query any server its networks (decided) reach',
  },
  'spec.dnsConfig.searches[]': { harmless: 'the container’s own /etc/resolv.conf' },
  'spec.dnsConfig.options[].name': { harmless: 'the container’s own /etc/resolv.conf' },
  'spec.dnsConfig.options[].value': { harmless: 'the container’s own /etc/resolv.conf' },
  'spec.sysctls.*': { decidedBy: 'container.sysctls' },
  'spec.ulimits[].name': { decidedBy: 'container.ulimits' },
  'spec.ulimits[].soft': {
    harmless: 'a limit of the container’s own processes; which limits may be set is decided by name',
  },
  'spec.ulimits[].hard': {
    harmless: 'a limit of the container’s own processes; which limits may be set is decided by name',
  },
  'spec.init': {
    harmless:
      'Docker’s own init binary as PID 1 in the container’s PID namespace, mounted read-only; no rights beyond the process it starts',
  },
  'spec.tty': {
    harmless: 'a pseudo-terminal between the daemon and the container’s process; only daemon clients attach',
  },
  'spec.stdinOpen': {
    harmless: 'keeps the container’s stdin pipe open; only daemon clients attach to it',
  },
  'spec.env[].name': SANDBOX,
  'spec.env[].value': SANDBOX,
  'spec.env[].valueFrom.secretKeyRef.name': REFERENCE('Secret'),
  'spec.env[].valueFrom.secretKeyRef.key': REFERENCE('Secret'),
  'spec.env[].valueFrom.secretKeyRef.optional': REFERENCE('Secret'),
  'spec.env[].valueFrom.configMapKeyRef.name': REFERENCE('ConfigMap'),
  'spec.env[].valueFrom.configMapKeyRef.key': REFERENCE('ConfigMap'),
  'spec.env[].valueFrom.configMapKeyRef.optional': REFERENCE('ConfigMap'),
  'spec.envFrom[].prefix': SANDBOX,
  'spec.envFrom[].secretRef.name': REFERENCE('Secret'),
  'spec.envFrom[].secretRef.optional': REFERENCE('Secret'),
  'spec.envFrom[].configMapRef.name': REFERENCE('ConfigMap'),
  'spec.envFrom[].configMapRef.optional': REFERENCE('ConfigMap'),
  'spec.files[].path': {
    harmless:
      'a path in the container’s own root file system, written into a per-container image layer (never a host path)',
  },
  'spec.files[].content': SANDBOX,
  'spec.files[].secretKeyRef.name': REFERENCE('Secret'),
  'spec.files[].secretKeyRef.key': REFERENCE('Secret'),
  'spec.files[].secretKeyRef.optional': REFERENCE('Secret'),
  'spec.files[].configMapKeyRef.name': REFERENCE('ConfigMap'),
  'spec.files[].configMapKeyRef.key': REFERENCE('ConfigMap'),
  'spec.files[].configMapKeyRef.optional': REFERENCE('ConfigMap'),
  // A setuid/setgid file owned by root is a way to root inside the container.
  'spec.files[].mode': { decidedBy: 'container.restrictedFileModes' },
  'spec.files[].uid': {
    harmless:
      'the owner of a file in the container’s own root file system (user namespaces map it like any other)',
  },
  'spec.files[].gid': {
    harmless:
      'the group of a file in the container’s own root file system (user namespaces map it like any other)',
  },
  'spec.ports[].containerPort': {
    harmless: 'a port in the container’s own network namespace; only hostPort publishes',
  },
  'spec.ports[].hostPort': { decidedBy: 'container.hostPorts' },
  'spec.ports[].hostIP': { harmless: 'only narrows which host address a host port (decided) listens on' },
  'spec.ports[].protocol': { harmless: 'the protocol of a port; publishing is decided by hostPort' },
  'spec.mounts[].type': {
    harmless:
      'each type is decided through the field it needs: bind by hostPath, tmpfs by tmpfsSize, volume by its DockerVolume',
  },
  'spec.mounts[].target': { harmless: 'a path inside the container (the schema forbids ..)' },
  'spec.mounts[].volume': {
    harmless: 'a DockerVolume of this namespace, itself checked by the volume policy',
  },
  'spec.mounts[].hostPath': { decidedBy: 'container.bindMounts' },
  'spec.mounts[].readOnly': { harmless: 'only takes rights away' },
  'spec.mounts[].tmpfsSize': { decidedBy: 'container.tmpfsSize' },
  'spec.mounts[].tmpfsMode': { harmless: 'permissions of the container’s own tmpfs' },
  'spec.mounts[].subPath': {
    harmless:
      'a directory inside a DockerVolume of this namespace (the schema forbids .. and absolute paths; Docker resolves it within the volume)',
  },
  'spec.mounts[].noCopy': { harmless: 'only skips copying the image’s own files into a new volume' },
  'spec.mounts[].propagation': { decidedBy: 'container.mountPropagation' },
  'spec.mounts[].selinuxRelabel': { decidedBy: 'container.selinuxRelabel' },
  'spec.networks[].name': {
    harmless: 'a DockerNetwork of this namespace, itself checked by the network policy',
  },
  'spec.networks[].aliases[]': { harmless: 'DNS names on a network of this namespace' },
  'spec.networks[].ipv4Address': {
    harmless: 'must lie in the network’s subnet (Docker refuses otherwise), which is decided',
  },
  'spec.networks[].ipv6Address': {
    harmless: 'must lie in the network’s IPv6 subnet (Docker refuses otherwise), which is decided',
  },
  'spec.networks[].macAddress': {
    harmless:
      'a unicast link-layer address on one attachment to a network of this namespace: like a static address, it can only collide within that bridge, never reach the host’s own links',
  },
  'spec.restartPolicy.name': {
    harmless: 'Docker restarts the container’s own process, with its own backoff',
  },
  'spec.restartPolicy.maximumRetryCount': { harmless: 'Docker restarts the container’s own process' },
  'spec.healthcheck.command[]': SANDBOX,
  'spec.healthcheck.interval': SANDBOX,
  'spec.healthcheck.timeout': SANDBOX,
  'spec.healthcheck.retries': SANDBOX,
  'spec.healthcheck.startPeriod': SANDBOX,
  'spec.healthcheck.shell': SANDBOX,
  'spec.healthcheck.disable': { harmless: 'only turns the image’s own healthcheck off' },
  'spec.healthcheck.startInterval': SANDBOX,
  'spec.resources.memory': { decidedBy: 'container.requiredLimits' },
  'spec.resources.memoryReservation': { harmless: 'a soft limit: only takes memory away under pressure' },
  'spec.resources.cpus': { harmless: 'a limit: only takes CPU time away' },
  'spec.resources.pidsLimit': { decidedBy: 'container.requiredLimits' },
  'spec.resources.shmSize': { decidedBy: 'container.shmSize' },
  'spec.resources.deviceRequests[].driver': { decidedBy: 'container.deviceRequests' },
  'spec.resources.deviceRequests[].count': { decidedBy: 'container.deviceRequests' },
  'spec.resources.deviceRequests[].deviceIDs[]': { decidedBy: 'container.deviceRequests' },
  'spec.resources.deviceRequests[].capabilities[][]': { decidedBy: 'container.deviceRequests' },
  'spec.resources.deviceRequests[].options.*': { decidedBy: 'container.deviceRequests' },
  'spec.security.privileged': { decidedBy: 'container.privileged' },
  'spec.security.capAdd[]': { decidedBy: 'container.capabilities' },
  'spec.security.capDrop[]': { decidedBy: 'container.restrictedCapDrop' },
  'spec.security.readOnlyRootFilesystem': { harmless: 'only takes rights away' },
  'spec.security.noNewPrivileges': { decidedBy: 'container.restrictedNoNewPrivileges' },
  'spec.security.networkMode': { decidedBy: 'container.hostNamespaces' },
  'spec.security.networkContainer': {
    harmless:
      'the network namespace of a DockerContainer of this namespace on the same host (the schema forbids others and any container ID), itself checked by the policy',
  },
  'spec.security.pidMode': { decidedBy: 'container.hostNamespaces' },
  'spec.security.ipcMode': { decidedBy: 'container.hostNamespaces' },
  'spec.security.utsMode': { decidedBy: 'container.hostNamespaces' },
  'spec.security.devices[].hostPath': { decidedBy: 'container.devices' },
  'spec.security.devices[].containerPath': { decidedBy: 'container.devices' },
  'spec.security.devices[].permissions': { decidedBy: 'container.devices' },
  'spec.security.deviceCgroupRules[]': { decidedBy: 'container.deviceCgroupRules' },
  'spec.security.groupAdd[]': { decidedBy: 'container.restrictedGroups' },
  'spec.security.seccompProfile.type': { decidedBy: 'container.seccompProfile' },
  'spec.security.seccompProfile.localhostProfile': { decidedBy: 'container.seccompProfile' },
  'spec.security.appArmorProfile.type': { decidedBy: 'container.appArmorProfile' },
  'spec.security.appArmorProfile.localhostProfile': { decidedBy: 'container.appArmorProfile' },
  'spec.security.usernsMode': { decidedBy: 'container.usernsMode' },
  'spec.security.cgroupnsMode': { decidedBy: 'container.cgroupnsMode' },
  'spec.labels.*': LABELS,
  'spec.stopSignal': { harmless: 'a signal sent to the container’s own process' },
  'spec.stopGracePeriod': { harmless: 'time before the container’s own process is killed' },
  'spec.logging.driver': { decidedBy: 'container.logDriver' },
  'spec.logging.options.*': { decidedBy: 'container.logOptions' },
  'spec.state': { harmless: 'starts or stops the container itself' },
  'spec.dependsOn[].name': { dockyardOnly: 'when Dockyard creates it; never reaches Docker' },
  'spec.dependsOn[].condition': { dockyardOnly: 'when Dockyard creates it; never reaches Docker' },
};

const VOLUME: Record<string, FieldDecision> = {
  ...PLACEMENT,
  ...ADOPTION,
  'spec.volumeName': OBJECT_NAME,
  'spec.external': { decidedBy: 'volume.external' },
  'spec.driver': { decidedBy: 'volume.driver' },
  'spec.driverOptions.*': { decidedBy: 'volume.driverOptions' },
  'spec.labels.*': LABELS,
};

const NETWORK: Record<string, FieldDecision> = {
  ...PLACEMENT,
  ...ADOPTION,
  'spec.networkName': OBJECT_NAME,
  'spec.external': { decidedBy: 'network.external' },
  'spec.driver': { decidedBy: 'network.driver' },
  'spec.internal': { harmless: 'only takes external access away' },
  'spec.attachable': { harmless: 'lets containers attach that can already reach this daemon' },
  'spec.enableIPv6': { harmless: 'addresses from the daemon’s own pools, or from ipam.config (decided)' },
  'spec.ipam.driver': { decidedBy: 'network.ipamDriver' },
  'spec.ipam.config[].subnet': { decidedBy: 'network.ipamAddresses' },
  'spec.ipam.config[].gateway': { decidedBy: 'network.ipamAddresses' },
  'spec.ipam.config[].ipRange': { decidedBy: 'network.ipamAddresses' },
  'spec.ipam.options.*': { decidedBy: 'network.ipamOptions' },
  'spec.options.*': { decidedBy: 'network.options' },
  'spec.labels.*': LABELS,
};

/** A push copies an image out of the host: push-policy.ts decides where to (DockerBuild and DockerImage). */
const PUSH: Record<string, FieldDecision> = {
  'spec.push[].image': { decidedBy: 'push.registries' },
  'spec.pushSecrets[].name': {
    harmless:
      'credentials of a Secret of this namespace (the schema forbids others), sent to the registry of a ' +
      'destination spec.push[].image names (decided) only',
  },
  'spec.signing.keySecretRef.name': {
    dockyardOnly:
      'the controller reads the key and writes a signature to the registry of a destination spec.push names ' +
      '(decided); nothing reaches the daemon',
  },
  'spec.signing.keySecretRef.key': { dockyardOnly: 'which key of that Secret holds the signing key' },
};

const IMAGE: Record<string, FieldDecision> = {
  ...PLACEMENT,
  'spec.image': {
    harmless:
      'image data in the daemon’s store, admitted by the host’s imagePolicy (image-policy.ts); what runs ' +
      'from it is decided on DockerContainer',
  },
  'spec.pullPolicy': { dockyardOnly: 'when Dockyard asks for a pull' },
  'spec.refreshInterval': { dockyardOnly: 'when Dockyard re-resolves a tag' },
  'spec.pullSecrets[].name': {
    harmless:
      'credentials of a Secret of this namespace (the schema forbids others), sent to the registry only',
  },
  'spec.platform': { harmless: 'which variant of the image is pulled: image data only' },
  ...PUSH,
};

/** A build's commands run on the daemon: build-policy.ts decides every field that carries them. */
const BUILD_GRANT: FieldDecision = { decidedBy: 'build.allowed' };

const BUILD: Record<string, FieldDecision> = {
  ...PLACEMENT,
  'spec.image': {
    harmless:
      'the tag the built image gets; a tag held by an image not built for this DockerBuild is never moved ' +
      '(NameConflict)',
  },
  'spec.context.configMap.name': BUILD_GRANT,
  'spec.context.configMap.key': {
    harmless: 'which key of the ConfigMap that spec.context.configMap.name names (decided) holds the context',
  },
  'spec.context.git.url': BUILD_GRANT,
  'spec.context.git.ref': {
    harmless: 'which revision of the repository that spec.context.git.url names (decided) is built',
  },
  'spec.dockerfile': BUILD_GRANT,
  'spec.dockerfileInline': BUILD_GRANT,
  'spec.target': BUILD_GRANT,
  'spec.args[].name': BUILD_GRANT,
  'spec.args[].value': BUILD_GRANT,
  'spec.args[].valueFrom.secretKeyRef.name': BUILD_GRANT,
  'spec.args[].valueFrom.secretKeyRef.key': BUILD_GRANT,
  'spec.args[].valueFrom.secretKeyRef.optional': BUILD_GRANT,
  'spec.args[].valueFrom.configMapKeyRef.name': BUILD_GRANT,
  'spec.args[].valueFrom.configMapKeyRef.key': BUILD_GRANT,
  'spec.args[].valueFrom.configMapKeyRef.optional': BUILD_GRANT,
  'spec.secrets[].id': BUILD_GRANT,
  'spec.secrets[].secretKeyRef.name': BUILD_GRANT,
  'spec.secrets[].secretKeyRef.key': BUILD_GRANT,
  'spec.secrets[].secretKeyRef.optional': BUILD_GRANT,
  'spec.labels.*': LABELS,
  'spec.platform': BUILD_GRANT,
  ...PUSH,
};

export const FIELD_DECISIONS: Record<SpecKind, Record<string, FieldDecision>> = {
  DockerContainer: CONTAINER,
  DockerVolume: VOLUME,
  DockerNetwork: NETWORK,
  DockerImage: IMAGE,
  DockerBuild: BUILD,
};
