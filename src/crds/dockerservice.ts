// DockerService: a set of DockerContainers (its replicas) kept on the
// DockerHosts a selector matches, updated revision by revision under a
// health-gated rolling strategy that rolls back by itself. It never talks to
// Docker: it owns DockerContainer objects (ownerReferences, as a Deployment
// owns Pods), and everything a DockerContainer does is reused.
import Type, { type Static } from 'typebox';
import { containerProperties, containerRules } from './dockercontainer.js';
import {
  ageColumn,
  bool,
  conditions,
  int,
  LabelSelector,
  list,
  MachineState,
  objectName,
  readyColumn,
  reasonColumn,
  rules,
  str,
  stringMap,
  type KindDefinition,
  type KubeObject,
} from './kit.js';

/** A replica's spec: a DockerContainer's, without placement (the service places it) or lifecycle the rollout owns. */
const {
  adoptionPolicy: _adoption,
  deletionPolicy: _deletion,
  state: _state,
  ...templateProperties
} = containerProperties;

export const ContainerTemplateSpec = Type.Object(templateProperties, {
  description:
    'The DockerContainer spec of every replica, without hostName/hostSelector (the service places ' +
    'replicas), state (replicas run), deletionPolicy (a replica the rollout replaces is always removed) ' +
    'and adoptionPolicy (replicas are always created by the service).',
  ...rules(...containerRules),
});
export type ContainerTemplateSpec = Static<typeof ContainerTemplateSpec>;

export const ContainerTemplate = Type.Object(
  {
    metadata: Type.Optional(
      Type.Object(
        {
          labels: Type.Optional(stringMap('Labels on each replica’s DockerContainer object.')),
          annotations: Type.Optional(stringMap('Annotations on each replica’s DockerContainer object.')),
        },
        { description: 'Metadata of each replica’s DockerContainer object.' },
      ),
    ),
    spec: ContainerTemplateSpec,
  },
  {
    description:
      'What each replica is. A change of it (labels and annotations included) is a new revision, rolled out ' +
      'under updateStrategy.',
  },
);
export type ContainerTemplate = Static<typeof ContainerTemplate>;

export const SERVICE_MODES = ['Replicated', 'Global'] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];
export const UPDATE_ORDERS = ['StopFirst', 'StartFirst'] as const;
export type UpdateOrder = (typeof UPDATE_ORDERS)[number];
export const FAILURE_ACTIONS = ['Pause', 'Rollback'] as const;
export type FailureAction = (typeof FAILURE_ACTIONS)[number];
export const CANARY_PROMOTIONS = ['Automatic', 'Manual'] as const;

export const Canary = Type.Object(
  {
    replicas: int('How many replicas get the new revision first.', { minimum: 1, maximum: 1000 }),
    availableSeconds: Type.Optional(
      int(
        'How long every canary replica must stay Available before the rollout goes on (Automatic) or ' +
          'waits to be promoted (Manual). Default 60.',
        { minimum: 0, maximum: 86400, default: 60 },
      ),
    ),
    promotion: Type.Optional(
      Type.Enum([...CANARY_PROMOTIONS], {
        description:
          'Automatic: the rollout goes on by itself after availableSeconds. Manual: it waits (phase ' +
          'CanaryPaused, Argo CD Suspended) until the dockyard.io/promote annotation names the revision ' +
          '(status.updateRevision). Default Automatic.',
        default: 'Automatic',
      }),
    ),
  },
  {
    description:
      'A canary step: the first replicas of a new revision, watched before the others are touched. A ' +
      'canary that fails is handled by failureAction like any other failure.',
  },
);

export type Canary = Static<typeof Canary>;

export const UpdateStrategy = Type.Object(
  {
    maxUnavailable: Type.Optional(
      int(
        'At most this many replicas may be not Available at once, counting replicas on hosts that are ' +
          'down: Available replicas never drop below replicas − maxUnavailable because of the rollout. ' +
          'Under StopFirst it is how many replicas are replaced at once. Default 1.',
        { minimum: 0, maximum: 1000, default: 1 },
      ),
    ),
    maxSurge: Type.Optional(
      int(
        'At most this many replicas beyond the desired count may exist at once. Under StartFirst it is how ' +
          'many replicas are replaced at once (a new replica starts next to the old one, which is removed ' +
          'once the new one is Available). Default 1.',
        { minimum: 0, maximum: 1000, default: 1 },
      ),
    ),
    order: Type.Optional(
      Type.Enum([...UPDATE_ORDERS], {
        description:
          'StopFirst: the old replica is removed before its replacement starts on the same host (paced ' +
          'by maxUnavailable). StartFirst: the replacement starts first (paced by maxSurge); refused when ' +
          'the template pins a containerName or a hostPort, which one host cannot hold twice. Default ' +
          'StopFirst.',
        default: 'StopFirst',
      }),
    ),
    minReadySeconds: Type.Optional(
      int(
        'A replica counts as Available after it has been Ready (running, and healthy when it has a ' +
          'healthcheck) this long without a restart. Default 0.',
        { minimum: 0, maximum: 3600, default: 0 },
      ),
    ),
    progressDeadlineSeconds: Type.Optional(
      int(
        'A rollout that makes no progress (no replica became Available) for this long has failed: ' +
          'failureAction applies. Default 600.',
        { minimum: 1, maximum: 86400, default: 600 },
      ),
    ),
    canary: Type.Optional(Canary),
    failureAction: Type.Optional(
      Type.Enum([...FAILURE_ACTIONS], {
        description:
          'What a failed rollout does. Rollback: go back to the last revision that was fully Available ' +
          '(never to the one being abandoned), as a rollout of its own; Ready=False with reason ' +
          'RolledBack until the template changes. Pause: stop where it is (phase Failed) until the ' +
          'template changes. A rollback that fails pauses. Default Rollback.',
        default: 'Rollback',
      }),
    ),
    maxFailureRatio: Type.Optional(
      Type.Number({
        description:
          'The share of the new revision’s replicas that may fail (exit, turn unhealthy, restart, or be ' +
          'refused) before the rollout has failed, e.g. 0.1. Default 0: the first failure.',
        minimum: 0,
        maximum: 1,
        default: 0,
      }),
    ),
  },
  {
    description: 'How a new revision replaces the replicas (Swarm update_config, Deployment strategy).',
    ...rules(
      {
        rule: "!has(self.order) || self.order != 'StartFirst' || !has(self.maxSurge) || self.maxSurge >= 1",
        message: 'updateStrategy.maxSurge must be at least 1 with order StartFirst',
        fieldPath: '.maxSurge',
      },
      {
        rule: "(has(self.order) && self.order == 'StartFirst') || !has(self.maxUnavailable) || self.maxUnavailable >= 1",
        message: 'updateStrategy.maxUnavailable must be at least 1 with order StopFirst',
        fieldPath: '.maxUnavailable',
      },
    ),
  },
);
export type UpdateStrategy = Static<typeof UpdateStrategy>;

const startFirst =
  "has(self.updateStrategy) && has(self.updateStrategy.order) && self.updateStrategy.order == 'StartFirst'";
const pinsHostPort = 'has(self.template.spec.ports) && self.template.spec.ports.exists(p, has(p.hostPort))';
const onePerHost =
  "(has(self.mode) && self.mode == 'Global') || (has(self.placement) && has(self.placement.maxPerHost) && self.placement.maxPerHost == 1)";

export const DockerServiceSpec = Type.Object(
  {
    hostSelector: Type.Object(LabelSelector.properties, {
      description:
        'Label selector over DockerHosts: replicas go to matching, schedulable hosts that admit this ' +
        'namespace. An empty selector matches every such host.',
    }),
    mode: Type.Optional(
      Type.Enum([...SERVICE_MODES], {
        description:
          'Replicated: spec.replicas replicas spread over the matching hosts. Global: one replica on every ' +
          'matching host (Swarm’s global mode). Default Replicated.',
        default: 'Replicated',
      }),
    ),
    replicas: Type.Optional(
      // No schema default: the API server would add it to Global services too, which the rule
      // below refuses. The controller reads a missing value as 1.
      int('Replicated: how many replicas. Default 1.', { minimum: 0, maximum: 1000 }),
    ),
    placement: Type.Optional(
      Type.Object(
        {
          maxPerHost: Type.Optional(
            int('Replicated: at most this many replicas on one host.', { minimum: 1, maximum: 1000 }),
          ),
          spreadByHostLabel: Type.Optional(
            str(
              'Replicated: spread replicas evenly over the values of this DockerHost label (e.g. a site or ' +
                'a rack) first, then over hosts. Hosts without the label form one group.',
              { maxLength: 317 },
            ),
          ),
        },
        { description: 'Where replicas go among the matching hosts (Replicated only).' },
      ),
    ),
    template: ContainerTemplate,
    updateStrategy: Type.Optional(UpdateStrategy),
    revisionHistoryLimit: Type.Optional(
      int('How many old revisions (ControllerRevisions) are kept for rollback. Default 10.', {
        minimum: 1,
        maximum: 100,
        default: 10,
      }),
    ),
    paused: Type.Optional(
      bool(
        'Stop the rollout where it is: no replica is replaced, added or removed (phase Paused, Argo CD ' +
          'Suspended). The dockyard.io/paused annotation does the same. Replicas themselves are still kept ' +
          'running by their DockerContainers.',
      ),
    ),
  },
  {
    description: 'Desired state of a DockerService.',
    ...rules(
      {
        rule: "!has(self.mode) || self.mode != 'Global' || (!has(self.replicas) && !has(self.placement))",
        message: 'spec.replicas and spec.placement only apply to mode Replicated',
        fieldPath: '.replicas',
        reason: 'FieldValueForbidden',
      },
      {
        rule: `!(${startFirst}) || (!has(self.template.spec.containerName) && !(${pinsHostPort}))`,
        message:
          'updateStrategy.order StartFirst cannot be used when template.spec pins a containerName or a ' +
          'hostPort: the new replica could not start next to the old one on the same host',
        fieldPath: '.updateStrategy.order',
        reason: 'FieldValueForbidden',
      },
      {
        rule: `!has(self.template.spec.containerName) || ${onePerHost}`,
        message:
          'template.spec.containerName needs mode Global or placement.maxPerHost 1: one host cannot hold two ' +
          'containers of one name',
        fieldPath: '.template.spec.containerName',
      },
      {
        rule: `!(${pinsHostPort}) || ${onePerHost}`,
        message:
          'a template.spec.ports hostPort needs mode Global or placement.maxPerHost 1: one host cannot hold ' +
          'a host port twice',
        fieldPath: '.template.spec.ports',
      },
    ),
  },
);
export type DockerServiceSpec = Static<typeof DockerServiceSpec>;

export const ROLLOUT_PHASES = [
  'Progressing',
  'CanaryPaused',
  'Paused',
  'Complete',
  'Failed',
  'RollingBack',
  'RolledBack',
] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export const RolloutHost = Type.Object({
  name: objectName('The DockerHost.'),
  ready: Type.Boolean({ description: 'Whether the DockerHost is Ready (reachable).' }),
  replicas: int('Replicas on this host.', { minimum: 0 }),
  updated: int('Replicas on this host at the rollout’s target revision.', { minimum: 0 }),
  available: int('Available replicas on this host.', { minimum: 0 }),
});

export const Rollout = Type.Object(
  {
    phase: Type.Enum([...ROLLOUT_PHASES], { description: 'Where the rollout is.' }),
    revision: int('The target revision’s number (its ControllerRevision’s revision).', { minimum: 0 }),
    targetHash: str('The template hash the replicas are being brought to.', { maxLength: 64 }),
    abandonedHash: Type.Optional(
      str('RollingBack/RolledBack: the revision that failed and was given up.', { maxLength: 64 }),
    ),
    startedAt: Type.Optional(Type.String({ description: 'When this rollout began.', format: 'date-time' })),
    lastProgressAt: Type.Optional(
      Type.String({
        description: 'When a replica last became Available at the target (the progress deadline’s clock).',
        format: 'date-time',
      }),
    ),
    updated: int('Replicas at the target revision.', { minimum: 0 }),
    ready: int('Ready replicas at the target revision.', { minimum: 0 }),
    available: int('Available replicas at the target revision.', { minimum: 0 }),
    failed: int('Replicas of the target revision that failed in this rollout.', { minimum: 0 }),
    message: Type.Optional(Type.String({ description: 'Why the rollout is where it is.', maxLength: 4096 })),
    hosts: Type.Optional(list(RolloutHost, 'Per-host counts.', { maxItems: 1000 })),
    machine: Type.Optional(MachineState),
  },
  { description: 'The current (or last) rollout.' },
);
export type Rollout = Static<typeof Rollout>;

export const DockerServiceStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      int('The metadata.generation this status was computed from.', { minimum: 0 }),
    ),
    conditions: conditions(),
    phase: Type.Optional(str('The rollout phase (for printer columns).', { maxLength: 64 })),
    replicas: Type.Optional(int('Desired replicas.', { minimum: 0 })),
    readyReplicas: Type.Optional(int('Replicas that are Ready.', { minimum: 0 })),
    updatedReplicas: Type.Optional(int('Replicas at the revision the spec asks for.', { minimum: 0 })),
    availableReplicas: Type.Optional(
      int('Replicas Available (Ready for minReadySeconds, on a Ready host).', { minimum: 0 }),
    ),
    readySummary: Type.Optional(
      str('Ready over desired, e.g. 3/4 (for printer columns).', { maxLength: 32 }),
    ),
    updateRevision: Type.Optional(str('Hash of spec.template.', { maxLength: 64 })),
    currentRevision: Type.Optional(
      str('Hash of the revision the replicas are being kept at.', { maxLength: 64 }),
    ),
    stableRevision: Type.Optional(
      str('Hash of the last revision that became fully Available: the target of a rollback.', {
        maxLength: 64,
      }),
    ),
    revision: Type.Optional(int('The number of the revision the replicas are kept at.', { minimum: 0 })),
    rollout: Type.Optional(Rollout),
  },
  { description: 'Observed state of a DockerService.' },
);
export type DockerServiceStatus = Static<typeof DockerServiceStatus>;
export type DockerService = KubeObject<'DockerService', DockerServiceSpec, DockerServiceStatus>;

export const dockerServiceDefinition: KindDefinition = {
  kind: 'DockerService',
  plural: 'dockerservices',
  singular: 'dockerservice',
  shortNames: ['dsvc'],
  scope: 'Namespaced',
  description:
    'A DockerService keeps a set of DockerContainers (replicas) on the DockerHosts it selects and rolls ' +
    'template changes out host by host, health-gated, rolling back by itself when a revision fails.',
  spec: DockerServiceSpec,
  status: DockerServiceStatus,
  // Its name is the value of the dockyard.io/service label on every replica,
  // and a label value holds at most 63 characters (as a Service's name).
  nameMaxLength: 63,
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', priority: 1 },
    { name: 'Desired', type: 'integer', jsonPath: '.status.replicas' },
    { name: 'Ready', type: 'string', jsonPath: '.status.readySummary' },
    { name: 'Up-to-date', type: 'integer', jsonPath: '.status.updatedReplicas' },
    { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas' },
    { name: 'Revision', type: 'integer', jsonPath: '.status.revision' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { ...readyColumn, name: 'Healthy', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
};
