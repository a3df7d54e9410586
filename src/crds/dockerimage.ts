import Type, { type Static } from 'typebox';
import {
  ageColumn,
  deletionPolicy,
  duration,
  hostsColumn,
  hostStatusFields,
  imageReference,
  int,
  list,
  objectName,
  phaseColumn,
  placementFields,
  placementRule,
  placementStatusFields,
  readyColumn,
  reasonColumn,
  rules,
  str,
  type KindDefinition,
  type KubeObject,
} from './kit.js';
import { pushedStatusFields, pushFields, pushRules } from './push.js';

export const DockerImageSpec = Type.Object(
  {
    ...placementFields,
    image: imageReference('The image to make present on the placed hosts.'),
    pullPolicy: Type.Optional(
      Type.Enum(['IfNotPresent', 'Always', 'Never'], {
        description:
          'IfNotPresent pulls only when the image is missing; Always also re-resolves the tag every ' +
          'refreshInterval and pulls when its digest moved; Never only checks that the image is present. ' +
          'Default IfNotPresent.',
        default: 'IfNotPresent',
      }),
    ),
    refreshInterval: Type.Optional(
      duration('How often a tag is re-resolved under pullPolicy Always. Default 5m.'),
    ),
    pullSecrets: Type.Optional(
      list(
        Type.Object({
          name: objectName('Name of a kubernetes.io/dockerconfigjson Secret in this namespace.'),
        }),
        'Registry credentials, matched to the image by registry host.',
        { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    platform: Type.Optional(
      str('Platform to pull, e.g. linux/amd64 or linux/arm64/v8. Default: the daemon’s own.', {
        maxLength: 64,
        pattern: '^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$',
      }),
    ),
    ...pushFields('pulled'),
    deletionPolicy: deletionPolicy('Orphan', 'image'),
  },
  {
    description: 'Desired state of a DockerImage.',
    ...rules(
      placementRule,
      {
        rule: "!has(self.refreshInterval) || (has(self.pullPolicy) && self.pullPolicy == 'Always')",
        message: 'spec.refreshInterval only applies when spec.pullPolicy is Always',
        fieldPath: '.refreshInterval',
      },
      ...pushRules('one host pushes a mirror, not every host that pulls the image'),
    ),
  },
);
export type DockerImageSpec = Static<typeof DockerImageSpec>;

export const DockerImageHostStatus = Type.Object({
  ...hostStatusFields,
  ...pushedStatusFields,
  imageId: Type.Optional(str('Image ID (config digest) on this host.')),
  repoDigest: Type.Optional(
    str('The repository digest the tag resolved to, e.g. registry/repo@sha256:….', { maxLength: 512 }),
  ),
  sizeBytes: Type.Optional(int('Image size on this host in bytes.', { minimum: 0 })),
  pulledAt: Type.Optional(
    Type.String({ description: 'When the image was last pulled.', format: 'date-time' }),
  ),
  progress: Type.Optional(
    Type.Object(
      {
        currentBytes: int('Bytes downloaded so far.', { minimum: 0 }),
        totalBytes: int('Bytes to download, when known.', { minimum: 0 }),
        percent: int('Percent done.', { minimum: 0, maximum: 100 }),
        layers: Type.Optional(
          list(
            Type.Object({
              id: str('The short layer id Docker prints.', { maxLength: 128 }),
              status: str(
                'Docker’s last word on the layer: Waiting, Downloading, Pull complete, Already exists…',
                {
                  maxLength: 64,
                },
              ),
              currentBytes: int('Bytes of this layer downloaded so far.', { minimum: 0 }),
              totalBytes: int('Bytes of this layer, when known (0 for one already on the host).', {
                minimum: 0,
              }),
            }),
            'Per layer, in the order Docker first named them (the first 64; the totals count every layer).',
            { maxItems: 64 },
          ),
        ),
      },
      { description: 'Pull progress while pulling.' },
    ),
  ),
});

export const DockerImageStatus = Type.Object(
  {
    ...placementStatusFields,
    hosts: Type.Optional(list(DockerImageHostStatus, 'Per-host state.', { maxItems: 256 })),
  },
  { description: 'Observed state of a DockerImage.' },
);
export type DockerImageStatus = Static<typeof DockerImageStatus>;
export type DockerImage = KubeObject<'DockerImage', DockerImageSpec, DockerImageStatus>;

export const dockerImageDefinition: KindDefinition = {
  kind: 'DockerImage',
  plural: 'dockerimages',
  singular: 'dockerimage',
  shortNames: ['dimg'],
  scope: 'Namespaced',
  description:
    'A DockerImage makes an image present, at a known digest, on every host it is placed on; with spec.push ' +
    'its host also mirrors it to registries.',
  spec: DockerImageSpec,
  status: DockerImageStatus,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    hostsColumn,
    readyColumn,
    phaseColumn,
    reasonColumn,
    ageColumn,
  ],
};
