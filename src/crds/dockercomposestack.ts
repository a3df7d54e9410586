// DockerComposeStack: a Compose project kept running on Docker hosts. The
// controller loads the project exactly as docker compose does and owns the
// DockerNetworks, DockerVolumes, ConfigMaps, Secrets and DockerContainers
// (DockerServices for replicated services) `dockyard compose convert` would
// print; it never talks to Docker itself.
import Type, { type Static } from 'typebox';
import {
  ageColumn,
  bool,
  conditions,
  int,
  list,
  objectName,
  placementFields,
  placementRule,
  readyColumn,
  reasonColumn,
  rules,
  str,
  stringMap,
  type KindDefinition,
  type KubeObject,
} from './kit.js';

/** Inline Compose files and ConfigMap keys together stay well below the 1.5 MiB object limit. */
export const MAX_INLINE_COMPOSE = 262144;

const relativePath = (description: string) =>
  str(description, {
    minLength: 1,
    maxLength: 253,
    // Relative, no `..` segment, no empty segment: it is a path inside the project folder.
    pattern: '^(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+)(?:/(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+))*$',
  });

export const ComposeProjectSource = Type.Object(
  {
    compose: Type.Optional(
      Type.String({
        description:
          'The Compose file, inline (its project folder then holds only this file, as compose.yaml).',
        maxLength: MAX_INLINE_COMPOSE,
      }),
    ),
    configMapRef: Type.Optional(
      Type.Object(
        {
          name: objectName('A ConfigMap in this namespace: each key is a file of the project folder.'),
          items: Type.Optional(
            list(
              Type.Object({
                key: str('The ConfigMap key.', { maxLength: 253 }),
                path: relativePath(
                  'Where the key’s content goes in the project folder, e.g. conf/nginx.conf.',
                ),
              }),
              'Put these keys at these paths (as a configMap volume’s items); keys not listed go to their own ' +
                'name. For files in subfolders, which ConfigMap keys cannot name.',
              { maxItems: 256 },
            ),
          ),
        },
        {
          description:
            'The project folder from a ConfigMap, e.g. one kustomize’s configMapGenerator makes from an ' +
            'unchanged compose.yaml, its .env and its config files. A change of the ConfigMap is applied ' +
            'within the resync period; a generated name (with a content hash) applies it at once.',
        },
      ),
    ),
    files: Type.Optional(
      list(
        relativePath('A Compose file of the project folder.'),
        'Compose files in merge order (docker compose -f). Default: compose.yaml (or docker-compose.yml) and ' +
          'its override, as docker compose finds them.',
        { maxItems: 16 },
      ),
    ),
    profiles: Type.Optional(
      list(str('A profile.', { maxLength: 64 }), 'Profiles to enable (docker compose --profile).', {
        maxItems: 32,
      }),
    ),
  },
  {
    description: 'Where the Compose project comes from: exactly one of compose (inline) or configMapRef.',
    ...rules({
      rule: 'has(self.compose) != has(self.configMapRef)',
      message: 'project needs exactly one of compose or configMapRef',
      fieldPath: '.compose',
    }),
  },
);

export const DockerComposeStackSpec = Type.Object(
  {
    ...placementFields,
    project: ComposeProjectSource,
    env: Type.Optional(
      stringMap(
        'Variables for interpolation (${VAR} in the Compose files), over those of the project’s .env file. ' +
          'Nothing else is interpolated: the controller’s own environment never is.',
      ),
    ),
    allowUnsupported: Type.Optional(
      bool(
        'Deploy the rest when a Compose key has no Dockyard equivalent, listing the key in ' +
          'status.unsupportedKeys, instead of refusing the project (UnsupportedComposeKeys).',
      ),
    ),
  },
  { description: 'Desired state of a DockerComposeStack.', ...rules(placementRule) },
);
export type DockerComposeStackSpec = Static<typeof DockerComposeStackSpec>;

export const StackService = Type.Object({
  name: str('The Compose service.', { maxLength: 253 }),
  kind: Type.Enum(['DockerContainer', 'DockerService'], { description: 'The resource that runs it.' }),
  resource: objectName('The resource’s name.'),
  ready: Type.Enum(['True', 'False', 'Unknown'], { description: 'The resource’s Ready condition.' }),
  reason: Type.Optional(str('The reason of its Ready condition.', { maxLength: 128 })),
});

export const DockerComposeStackStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      int('The metadata.generation this status was computed from.', { minimum: 0 }),
    ),
    conditions: conditions(),
    projectName: Type.Optional(str('The Compose project name.', { maxLength: 253 })),
    projectHash: Type.Optional(
      str('Hash of the project folder and options the resources were made from.', { maxLength: 64 }),
    ),
    services: Type.Optional(list(StackService, 'The Compose services and how they are.', { maxItems: 256 })),
    readySummary: Type.Optional(
      str('Ready services over all, e.g. 3/4 (for printer columns).', { maxLength: 32 }),
    ),
    resources: Type.Optional(int('How many resources the stack owns.', { minimum: 0 })),
    inventory: Type.Optional(
      list(
        Type.Object({
          kind: str('ConfigMap, Secret, DockerNetwork, DockerVolume, DockerContainer or DockerService.', {
            maxLength: 64,
          }),
          name: objectName('The resource’s name, in the stack’s namespace.'),
        }),
        'Every resource the stack owns (as Flux’s inventory): what a changed project no longer has is ' +
          'deleted from it.',
        { maxItems: 1024 },
      ),
    ),
    unsupportedKeys: Type.Optional(
      list(
        str('A Compose key left out, with why: services.web.build: ….', { maxLength: 1024 }),
        'With allowUnsupported: the Compose keys left out.',
        { maxItems: 256 },
      ),
    ),
  },
  { description: 'Observed state of a DockerComposeStack.' },
);
export type DockerComposeStackStatus = Static<typeof DockerComposeStackStatus>;
export type DockerComposeStack = KubeObject<
  'DockerComposeStack',
  DockerComposeStackSpec,
  DockerComposeStackStatus
>;

export const dockerComposeStackDefinition: KindDefinition = {
  kind: 'DockerComposeStack',
  plural: 'dockercomposestacks',
  singular: 'dockercomposestack',
  shortNames: ['dstack'],
  scope: 'Namespaced',
  description:
    'A DockerComposeStack runs a Compose project on Docker hosts: it owns the DockerNetworks, DockerVolumes, ' +
    'ConfigMaps, Secrets and DockerContainers (or DockerServices) that dockyard compose convert prints for it, ' +
    'updates only those a changed Compose file changes, and reports their health as its own.',
  spec: DockerComposeStackSpec,
  status: DockerComposeStackStatus,
  // Its name is the Compose project name, prefixed to every resource it owns (<stack>-<service>).
  nameMaxLength: 40,
  printerColumns: [
    { name: 'Services', type: 'string', jsonPath: '.status.readySummary' },
    { name: 'Resources', type: 'integer', jsonPath: '.status.resources', priority: 1 },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
};
