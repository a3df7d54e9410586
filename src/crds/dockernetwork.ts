import Type, { type Static } from 'typebox';
import {
  ageColumn,
  bool,
  adoptionPolicy,
  deletionPolicy,
  hostsColumn,
  hostStatusFields,
  list,
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

const cidr = (description: string) =>
  str(description, { maxLength: 64, pattern: '^([0-9.]+/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$' });
const ip = (description: string) => str(description, { maxLength: 64, pattern: '^([0-9.]+|[0-9a-fA-F:]+)$' });

export const IpamConfig = Type.Object({
  subnet: cidr('Subnet in CIDR form, e.g. 172.28.0.0/16.'),
  gateway: Type.Optional(ip('Gateway address inside the subnet.')),
  ipRange: Type.Optional(cidr('Sub-range to allocate container addresses from.')),
});

export const DockerNetworkSpec = Type.Object(
  {
    ...placementFields,
    networkName: Type.Optional(
      str(
        'Name of the Docker network. Default <namespace>.<name>. A name of the form <other-namespace>.<rest> ' +
          "(another namespace's default naming) is refused by the controller (InvalidName).",
        {
          maxLength: 128,
          pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        },
      ),
    ),
    external: Type.Optional(
      bool(
        'Refer to a Docker network that exists on the host already, named by networkName (Compose external: ' +
          'true): Dockyard only checks that it is there (Ready, or ExternalNotFound) and never creates, ' +
          'changes, labels or removes it, whatever deletionPolicy says; no other settings. A network Dockyard ' +
          'manages for a resource is never taken this way. Below privileged only the names in the ' +
          'DockerHost’s securityPolicySettings.allowedExternalNetworks, and never host.',
      ),
    ),
    driver: Type.Optional(str('Network driver. Default bridge.', { default: 'bridge', maxLength: 64 })),
    internal: Type.Optional(bool('Restricts external access to the network.')),
    attachable: Type.Optional(bool('Lets containers not managed by Dockyard attach (overlay networks).')),
    enableIPv6: Type.Optional(bool('Enables IPv6 on the network.')),
    ipam: Type.Optional(
      Type.Object(
        {
          driver: Type.Optional(str('IPAM driver. Default default.', { maxLength: 64 })),
          config: Type.Optional(list(IpamConfig, 'Subnets, gateways and ranges.', { maxItems: 16 })),
          options: Type.Optional(stringMap('IPAM driver options.')),
        },
        { description: 'IP address management.' },
      ),
    ),
    options: Type.Optional(stringMap('Driver options, e.g. com.docker.network.bridge.name.')),
    labels: Type.Optional(stringMap('Labels on the Docker network, besides Dockyard’s own.')),
    deletionPolicy: deletionPolicy('Delete', 'network'),
    adoptionPolicy: adoptionPolicy(
      'network',
      'An adopted network is kept as it is (containers stay attached) when its driver and the subnets the ' +
        'spec names match; otherwise it is recreated from the spec as a changed network is: once no ' +
        'container is attached.',
    ),
  },
  {
    description: 'Desired state of a DockerNetwork.',
    ...rules(
      placementRule,
      {
        rule: '!has(self.external) || !self.external || has(self.networkName)',
        message: 'an external DockerNetwork needs networkName (the existing Docker network)',
        fieldPath: '.networkName',
        reason: 'FieldValueRequired',
      },
      {
        rule:
          "!has(self.external) || !self.external || ((!has(self.driver) || self.driver == 'bridge') && " +
          '!has(self.internal) && !has(self.attachable) && !has(self.enableIPv6) && !has(self.ipam) && ' +
          "!has(self.options) && !has(self.labels) && (!has(self.adoptionPolicy) || self.adoptionPolicy == 'Never'))",
        message:
          'an external DockerNetwork is only looked at: no driver, options, ipam, labels or adoptionPolicy',
        fieldPath: '.external',
      },
    ),
  },
);
export type DockerNetworkSpec = Static<typeof DockerNetworkSpec>;

export const DockerNetworkStatus = Type.Object(
  {
    ...placementStatusFields,
    hosts: Type.Optional(
      list(
        Type.Object({
          ...hostStatusFields,
          networkName: Type.Optional(str('Name of the network on this host.')),
          subnets: Type.Optional(
            list(str('A subnet.', { maxLength: 64 }), 'Subnets Docker assigned.', { maxItems: 16 }),
          ),
        }),
        'Per-host state.',
        { maxItems: 256 },
      ),
    ),
  },
  { description: 'Observed state of a DockerNetwork.' },
);
export type DockerNetworkStatus = Static<typeof DockerNetworkStatus>;
export type DockerNetwork = KubeObject<'DockerNetwork', DockerNetworkSpec, DockerNetworkStatus>;

export const dockerNetworkDefinition: KindDefinition = {
  kind: 'DockerNetwork',
  plural: 'dockernetworks',
  singular: 'dockernetwork',
  shortNames: ['dnet'],
  scope: 'Namespaced',
  description: 'A DockerNetwork is a Docker network ensured on every host it is placed on.',
  spec: DockerNetworkSpec,
  status: DockerNetworkStatus,
  printerColumns: [
    { name: 'Driver', type: 'string', jsonPath: '.spec.driver' },
    hostsColumn,
    readyColumn,
    phaseColumn,
    reasonColumn,
    ageColumn,
  ],
};
