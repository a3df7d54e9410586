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

export const DockerVolumeSpec = Type.Object(
  {
    ...placementFields,
    volumeName: Type.Optional(
      str(
        'Name of the Docker volume. Default <namespace>.<name>. A name of the form <other-namespace>.<rest> ' +
          "(another namespace's default naming) is refused by the controller (InvalidName).",
        {
          maxLength: 128,
          pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
        },
      ),
    ),
    external: Type.Optional(
      bool(
        'Refer to a Docker volume that exists on the host already, named by volumeName (Compose external: ' +
          'true): Dockyard only checks that it is there (Ready, or ExternalNotFound) and never creates, ' +
          'changes, labels or deletes it, whatever deletionPolicy says; no driver options or labels. A volume ' +
          'Dockyard manages for a resource is never taken this way. Below privileged only the names in the ' +
          'DockerHost’s securityPolicySettings.allowedExternalVolumes.',
      ),
    ),
    driver: Type.Optional(str('Volume driver. Default local.', { default: 'local', maxLength: 64 })),
    driverOptions: Type.Optional(stringMap('Driver options, e.g. type, o and device for the local driver.')),
    labels: Type.Optional(stringMap('Labels on the Docker volume, besides Dockyard’s own.')),
    deletionPolicy: deletionPolicy('Orphan', 'volume (and its data)'),
    adoptionPolicy: adoptionPolicy(
      'volume',
      'An adopted volume is kept as it is, data included, when its driver and driverOptions match the spec; ' +
        'otherwise it is RecreateRequired, and Dockyard never deletes its data to apply the spec.',
    ),
  },
  {
    description: 'Desired state of a DockerVolume.',
    ...rules(
      placementRule,
      {
        rule: '!has(self.external) || !self.external || has(self.volumeName)',
        message: 'an external DockerVolume needs volumeName (the existing Docker volume)',
        fieldPath: '.volumeName',
        reason: 'FieldValueRequired',
      },
      {
        rule:
          "!has(self.external) || !self.external || ((!has(self.driver) || self.driver == 'local') && " +
          "!has(self.driverOptions) && !has(self.labels) && (!has(self.adoptionPolicy) || self.adoptionPolicy == 'Never'))",
        message:
          'an external DockerVolume is only looked at: no driver, driverOptions, labels or adoptionPolicy',
        fieldPath: '.external',
      },
    ),
  },
);
export type DockerVolumeSpec = Static<typeof DockerVolumeSpec>;

export const DockerVolumeStatus = Type.Object(
  {
    ...placementStatusFields,
    hosts: Type.Optional(
      list(
        Type.Object({
          ...hostStatusFields,
          volumeName: Type.Optional(str('Name of the volume on this host.')),
          mountpoint: Type.Optional(str('Where the daemon keeps the data.', { maxLength: 1024 })),
        }),
        'Per-host state.',
        { maxItems: 256 },
      ),
    ),
  },
  { description: 'Observed state of a DockerVolume.' },
);
export type DockerVolumeStatus = Static<typeof DockerVolumeStatus>;
export type DockerVolume = KubeObject<'DockerVolume', DockerVolumeSpec, DockerVolumeStatus>;

export const dockerVolumeDefinition: KindDefinition = {
  kind: 'DockerVolume',
  plural: 'dockervolumes',
  singular: 'dockervolume',
  shortNames: ['dvol'],
  scope: 'Namespaced',
  description:
    'A DockerVolume is a Docker volume ensured on every host it is placed on. Its data is never deleted unless deletionPolicy is Delete.',
  spec: DockerVolumeSpec,
  status: DockerVolumeStatus,
  printerColumns: [
    { name: 'Driver', type: 'string', jsonPath: '.spec.driver' },
    hostsColumn,
    readyColumn,
    phaseColumn,
    reasonColumn,
    ageColumn,
  ],
};
