import Type, { type Static } from 'typebox';
import { keyRef } from './dockercontainer.js';
import { pushedStatusFields, pushFields, pushRules } from './push.js';
import {
  ageColumn,
  deletionPolicy,
  hostsColumn,
  hostStatusFields,
  imageReference,
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
  stringMap,
  type KindDefinition,
  type KubeObject,
} from './kit.js';

/** The largest inline Dockerfile: a ConfigMap context holds anything bigger. */
export const MAX_INLINE_DOCKERFILE = 65_536;
/** The build log kept in status per host (the end of it). */
export const MAX_BUILD_LOG_CHARS = 4_096;

const ARG_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

export const BuildArg = Type.Object(
  {
    name: str('The ARG name, as the Dockerfile declares it.', { maxLength: 256, pattern: ARG_NAME_PATTERN }),
    value: Type.Optional(Type.String({ description: 'Literal value.', maxLength: 32768 })),
    valueFrom: Type.Optional(
      Type.Object(
        {
          secretKeyRef: Type.Optional(keyRef('Secret', 'the argument is then left out')),
          configMapKeyRef: Type.Optional(keyRef('ConfigMap', 'the argument is then left out')),
        },
        {
          description:
            'Take the value from a Secret or ConfigMap key, read when the build starts. A Secret value never ' +
            'appears in status, Events or the controller’s logs (the build log is redacted), but Docker itself ' +
            'records build arguments in the image history of the RUN steps that see them: pass a secret ' +
            'through spec.secrets instead, which no history records.',
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
      message: 'args: value and valueFrom are mutually exclusive',
      fieldPath: '.valueFrom',
    }),
  },
);

export const GitContext = Type.Object(
  {
    url: str(
      'The repository, as the daemon clones it: http(s):// (ending in .git), git:// or ssh://. The host ' +
        'fetches it; the controller reads its refs over http(s) to know when the ref moves.',
      {
        maxLength: 2048,
        pattern: '^(https?://[^\\s#]+\\.git|git://[^\\s#]+|ssh://[^\\s#]+)$',
      },
    ),
    ref: Type.Optional(
      str('A branch, tag or full commit SHA. Default: the repository’s default branch.', {
        maxLength: 256,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$',
      }),
    ),
  },
  { description: 'A build context cloned from a Git repository by the host’s daemon.' },
);

export const BuildContext = Type.Object(
  {
    configMap: Type.Optional(
      Type.Object(
        {
          name: objectName('Name of a ConfigMap in this namespace.'),
          key: str(
            'The key holding the context: a tar archive, plain or compressed with gzip, bzip2 or xz ' +
              '(binaryData, or data for a plain tar of text files).',
            { maxLength: 253 },
          ),
        },
        { description: 'A build context held in a ConfigMap key (up to the API server’s 1 MiB per object).' },
      ),
    ),
    git: Type.Optional(GitContext),
  },
  {
    description: 'Where the build context comes from: exactly one of configMap and git.',
    ...rules({
      rule: 'has(self.configMap) != has(self.git)',
      message: 'spec.context needs exactly one of configMap and git',
    }),
  },
);

export const DockerBuildSpec = Type.Object(
  {
    ...placementFields,
    image: imageReference(
      'The reference the built image is tagged with on each placed host (no digest: the build makes it).',
    ),
    context: Type.Optional(BuildContext),
    dockerfile: Type.Optional(
      str('Path of the Dockerfile inside the context. Default Dockerfile.', {
        maxLength: 512,
        pattern: '^[^/\\x00-\\x1f][^\\x00-\\x1f]*$',
      }),
    ),
    dockerfileInline: Type.Optional(
      Type.String({
        description:
          'The Dockerfile itself, instead of one in the context. Without spec.context the context holds ' +
          'only this Dockerfile.',
        minLength: 1,
        maxLength: MAX_INLINE_DOCKERFILE,
      }),
    ),
    target: Type.Optional(
      str('The build stage to stop at (docker build --target).', {
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      }),
    ),
    args: Type.Optional(
      list(BuildArg, 'Build arguments (docker build --build-arg), by name.', {
        maxItems: 64,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    secrets: Type.Optional(
      list(
        Type.Object({
          id: str('The id a Dockerfile step mounts it by: RUN --mount=type=secret,id=<id>.', {
            maxLength: 128,
            pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
          }),
          secretKeyRef: keyRef('Secret', 'the build then finds no secret of this id'),
        }),
        'Secrets the build mounts (BuildKit secret mounts): a step reads the value from a file that exists ' +
          'only while it runs, so it is in no layer and no image history, unlike a build argument.',
        { maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'] },
      ),
    ),
    labels: Type.Optional(stringMap('Labels on the built image, besides Dockyard’s own owner labels.')),
    platform: Type.Optional(
      str('Platform to build for, e.g. linux/amd64. Default: the daemon’s own.', {
        maxLength: 64,
        pattern: '^[a-z0-9_]+/[a-z0-9_]+(/[a-z0-9_]+)?$',
      }),
    ),
    ...pushFields('built'),
    deletionPolicy: deletionPolicy('Orphan', 'image built'),
  },
  {
    description: 'Desired state of a DockerBuild.',
    ...rules(
      placementRule,
      {
        rule: 'has(self.context) || has(self.dockerfileInline)',
        message: 'a build needs spec.context or spec.dockerfileInline',
      },
      {
        rule: '!(has(self.dockerfileInline) && has(self.context) && has(self.context.git))',
        message:
          'spec.dockerfileInline cannot be added to a git context: use spec.dockerfile in the repository',
        fieldPath: '.dockerfileInline',
      },
      {
        rule: '!(has(self.dockerfile) && has(self.dockerfileInline))',
        message: 'spec.dockerfile and spec.dockerfileInline are mutually exclusive',
        fieldPath: '.dockerfileInline',
      },
      {
        rule: "!self.image.contains('@')",
        message: 'spec.image names the tag the build makes: no digest',
        fieldPath: '.image',
      },
      ...pushRules('builds on several hosts make different images for one tag'),
    ),
  },
);
export type DockerBuildSpec = Static<typeof DockerBuildSpec>;

export const DockerBuildHostStatus = Type.Object({
  ...hostStatusFields,
  imageId: Type.Optional(str('ID (config digest) of the image built on this host.')),
  buildHash: Type.Optional(
    str('Hash of what the image was built from: the spec and the context’s content.', { maxLength: 64 }),
  ),
  builtAt: Type.Optional(
    Type.String({ description: 'When the current image finished building.', format: 'date-time' }),
  ),
  durationSeconds: Type.Optional(Type.Number({ description: 'How long the last build took.', minimum: 0 })),
  ...pushedStatusFields,
  log: Type.Optional(
    Type.String({
      description:
        'The end of the last build’s output (Secret values replaced by ***), for a failed build the lines ' +
        'before the error.',
      maxLength: MAX_BUILD_LOG_CHARS,
    }),
  ),
});

export const DockerBuildStatus = Type.Object(
  {
    ...placementStatusFields,
    hosts: Type.Optional(list(DockerBuildHostStatus, 'Per-host state.', { maxItems: 256 })),
  },
  { description: 'Observed state of a DockerBuild.' },
);
export type DockerBuildStatus = Static<typeof DockerBuildStatus>;
export type DockerBuild = KubeObject<'DockerBuild', DockerBuildSpec, DockerBuildStatus>;

export const dockerBuildDefinition: KindDefinition = {
  kind: 'DockerBuild',
  plural: 'dockerbuilds',
  singular: 'dockerbuild',
  shortNames: ['dbuild'],
  scope: 'Namespaced',
  description:
    'A DockerBuild builds an image from a Dockerfile on every host it is placed on and tags it spec.image; ' +
    'a changed spec or context rebuilds. A host allows builds at securityPolicy privileged, below only with ' +
    'securityPolicySettings.allowBuilds.',
  spec: DockerBuildSpec,
  status: DockerBuildStatus,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    hostsColumn,
    readyColumn,
    phaseColumn,
    reasonColumn,
    ageColumn,
  ],
};
