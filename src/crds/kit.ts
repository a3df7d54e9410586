// Building blocks shared by all five Dockyard kinds. Every schema here is a
// TypeBox schema: one definition gives both the TypeScript type (Static<>) and
// the OpenAPI v3 schema the CRD YAML is generated from (see crd-yaml.ts).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import Type, { type Static, type TSchema } from 'typebox';

export const GROUP = 'dockyard.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** CEL cost estimation needs bounded strings and lists; these are the bounds. */
export const MAX = {
  name: 253,
  shortString: 256,
  longString: 4096,
  items: 64,
  bigItems: 256,
} as const;

export interface Rule {
  rule: string;
  message: string;
  /** JSONPath relative to the schema the rule sits on, shown as the field in API errors. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** CEL validation rules, carried as the `x-kubernetes-validations` extension. */
export function rules(...list: Rule[]): { 'x-kubernetes-validations': Rule[] } {
  return { 'x-kubernetes-validations': list };
}

export function str(description: string, opts: Record<string, unknown> = {}) {
  return Type.String({ description, maxLength: MAX.shortString, ...opts });
}

export function int(description: string, opts: Record<string, unknown> = {}) {
  return Type.Integer({ description, ...opts });
}

export function bool(description: string, opts: Record<string, unknown> = {}) {
  return Type.Boolean({ description, ...opts });
}

export function list<T extends TSchema>(items: T, description: string, opts: Record<string, unknown> = {}) {
  return Type.Array(items, { description, maxItems: MAX.items, ...opts });
}

export function stringMap(description: string) {
  return Type.Record(
    Type.String({ maxLength: MAX.shortString }),
    Type.String({ maxLength: MAX.longString }),
    {
      description,
      maxProperties: MAX.items,
    },
  );
}

/** A Kubernetes object name (DNS-1123 subdomain). */
export function objectName(description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: MAX.name,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  });
}

// One path segment that is not `..` (RE2 has no lookahead, so it is spelled
// out): empty, `.`, or a name that does not start with `..` unless it goes on.
const pathSegment = '(?:[^/.][^/]*|\\.[^/.][^/]*|\\.\\.[^/]+|\\.)?';

/**
 * An absolute path (under `prefix`) with no `..` segment. A host path that
 * climbs out of where it claims to be (`/data/../etc`, `/dev/../etc/shadow`)
 * is never needed (write the real path) and hides what is really mounted from
 * anyone reviewing a spec, so the API server refuses it outright.
 */
export function absolutePath(description: string, prefix = '', opts: Record<string, unknown> = {}) {
  return str(`${description} No .. segments.`, {
    maxLength: 1024,
    pattern: `^${prefix}(?:/${pathSegment})+$`,
    ...opts,
  });
}

// The translation to the Engine API needs exact integers (bytes, nano-CPUs,
// nanoseconds) below 2^53, or it refuses the spec at reconcile time where no
// one sees it. So the patterns bound the digits per unit: every value they
// accept fits (the largest byte quantity is 7.999999999Pi, the largest duration
// about 95 days), and the API server refuses the rest with the field's name.
const fraction = '(?:\\.[0-9]{1,9})?';
const BYTE_QUANTITY_PATTERN =
  '^(?:' +
  [
    `[0-9]{1,15}${fraction}`,
    `[0-9]{1,12}${fraction}(?:k|Ki)`,
    `[0-9]{1,9}${fraction}(?:M|Mi)`,
    `[0-9]{1,6}${fraction}(?:G|Gi)`,
    `[0-9]{1,3}${fraction}(?:T|Ti)`,
    `[0-7]${fraction}(?:P|Pi)`,
  ].join('|') +
  ')$';
const CPU_QUANTITY_PATTERN = '^(?:[0-9]{1,9}m|[0-9]{1,6}(?:\\.[0-9]{1,3})?)$';
const DURATION_PATTERN =
  '^' +
  // [unit, integer digits, fraction digits]: no fraction finer than 1ns.
  (
    [
      ['h', 3, 9],
      ['m', 4, 9],
      ['s', 6, 9],
      ['ms', 9, 6],
      ['us', 12, 3],
      ['ns', 15, 0],
    ] as const
  )
    .map(([unit, digits, fractionDigits]) => {
      const part = fractionDigits > 0 ? `(?:\\.[0-9]{1,${fractionDigits}})?` : '';
      return `(?:[0-9]{1,${digits}}${part}${unit})?`;
    })
    .join('') +
  '$';

/** Binary-SI quantity such as `256Mi`, `1Gi`, `500M` (memory, sizes), at most 8 PiB. */
export function byteQuantity(description: string) {
  return Type.String({
    description: `${description} A Kubernetes quantity, e.g. 256Mi, 1Gi or 500M (below 8Pi).`,
    minLength: 1,
    maxLength: 32,
    pattern: BYTE_QUANTITY_PATTERN,
  });
}

/** CPU quantity such as `500m`, `1`, `1.5`, at most a million CPUs. */
export function cpuQuantity(description: string) {
  return Type.String({
    description: `${description} A Kubernetes CPU quantity, e.g. 500m, 1 or 1.5.`,
    minLength: 1,
    maxLength: 32,
    pattern: CPU_QUANTITY_PATTERN,
  });
}

/** A Go-style duration such as `30s`, `5m`, `1h30m` (units largest first, each at most once). */
export function duration(description: string) {
  return Type.String({
    description: `${description} A duration such as 30s, 5m or 1h30m (units h, m, s, ms, us, ns, largest first).`,
    minLength: 2,
    maxLength: 32,
    pattern: DURATION_PATTERN,
  });
}

export function deletionPolicy(defaultPolicy: 'Delete' | 'Orphan', what: string) {
  return Type.Optional(
    Type.Enum(['Delete', 'Orphan'], {
      description:
        `What happens to the Docker ${what} when this resource is deleted, when its own placement ` +
        `(hostName/hostSelector) moves it off a host, or when its host is drained: Delete removes it, ` +
        `Orphan leaves it in place. A host whose labels or allowedNamespaces change keeps it. ` +
        `Default ${defaultPolicy}.`,
      default: defaultPolicy,
    }),
  );
}

/** Values of spec.adoptionPolicy (see adoptionPolicy). */
export const ADOPTION_POLICIES = ['Never', 'IfOrphaned'] as const;
export type AdoptionPolicy = (typeof ADOPTION_POLICIES)[number];

/**
 * Whether an existing Docker object of the resource's name that was not
 * created for it may be taken over: never implicitly (crossplane's
 * external-name model: the resource names the object and asks for it).
 */
export function adoptionPolicy(what: string, how: string) {
  return Type.Optional(
    Type.Enum([...ADOPTION_POLICIES], {
      description:
        `What to do when a Docker ${what} of this name already exists on a host and was not created for this ` +
        `resource. Never: leave it alone and report NameConflict. IfOrphaned: take it over when no live ` +
        `resource owns it, i.e. it has no Dockyard owner labels (made by hand: the migration path from ` +
        `hand-run hosts) or its Dockyard owner in this cluster no longer exists (kept by deletionPolicy ` +
        `Orphan); one whose owner still exists, that another cluster created, or that another resource ` +
        `adopted is never taken. ${how} Default Never.`,
      default: 'Never',
    }),
  );
}

const labelSelectorRequirement = Type.Object({
  key: str('The label key the selector applies to.'),
  operator: Type.Enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
    description: 'How the key relates to the values.',
  }),
  values: Type.Optional(
    list(str('A label value.'), 'Values for In and NotIn; empty for Exists and DoesNotExist.'),
  ),
});

export const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(stringMap('Labels that must all match exactly.')),
    matchExpressions: Type.Optional(
      list(labelSelectorRequirement, 'Set-based requirements, all of which must match.'),
    ),
  },
  { description: 'A Kubernetes label selector; an empty selector matches everything.' },
);
export type LabelSelector = Static<typeof LabelSelector>;

export const Condition = Type.Object({
  type: str('Condition type: Ready, Reconciling or Stalled.'),
  status: Type.Enum(['True', 'False', 'Unknown'], { description: 'Status of the condition.' }),
  reason: str('A CamelCase reason for the last transition.'),
  message: Type.String({ description: 'Human-readable details; may be empty.', maxLength: 32768 }),
  observedGeneration: Type.Optional(int('The generation the condition was computed from.', { minimum: 0 })),
  lastTransitionTime: Type.String({ description: 'When the status last changed.', format: 'date-time' }),
});
export type Condition = Static<typeof Condition>;

export const conditions = () =>
  Type.Optional(
    Type.Array(Condition, {
      description:
        'Ready, Reconciling and Stalled conditions (kstatus), read by kubectl wait, Argo CD and Flux.',
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  );

/**
 * Placement fields shared by every namespaced kind: exactly one of hostName or
 * hostSelector (enforced by placementRule on the spec).
 */
export const placementFields = {
  hostName: Type.Optional(objectName('Name of the single DockerHost to place this object on.')),
  hostSelector: Type.Optional(
    Type.Object(LabelSelector.properties, {
      description:
        'Label selector over DockerHosts: the object is ensured on every matching, schedulable host that ' +
        'admits this namespace.',
    }),
  ),
};

export const placementRule: Rule = {
  rule: 'has(self.hostName) != has(self.hostSelector)',
  message: 'exactly one of spec.hostName or spec.hostSelector must be set',
  fieldPath: '.hostName',
  reason: 'FieldValueInvalid',
};

/**
 * The saved state of a controller's xstate machine: state value, machine
 * version and a small context. Stored in status so a restarted controller
 * resumes where it was; people read the phase, not this.
 */
export const MachineState = Type.Object(
  {
    state: str('The machine state (equals the phase).', { maxLength: 64 }),
    version: int('Version of the machine that wrote this state; another version starts over.', {
      minimum: 0,
    }),
    context: Type.Optional(
      Type.Unsafe<Record<string, unknown>>({
        type: 'object',
        description: 'Small machine context (counters, last reason).',
        'x-kubernetes-preserve-unknown-fields': true,
      }),
    ),
  },
  { description: 'Internal: the controller state machine’s saved state.' },
);
export type MachineState = Static<typeof MachineState>;

/** The outcome states a host entry records (HostResult.state). */
export const HOST_RESULT_STATES = ['Ready', 'Progressing', 'Failed', 'Stalled', 'Unknown'] as const;

/**
 * One host's outcome as the replica that works on it saw it. Written only by
 * a sharded controller (--shards): replicas holding other shards summarise the
 * object's conditions from it, so they all summarise it the same way.
 */
export const HostResult = Type.Object(
  {
    state: Type.Enum([...HOST_RESULT_STATES], { description: 'Ready, or why not.' }),
    reason: Type.Optional(
      str('The reason, as in the Ready condition (e.g. PullFailed).', { maxLength: 128 }),
    ),
    message: Type.Optional(Type.String({ description: 'Why, for people.', maxLength: 4096 })),
  },
  {
    description:
      "With --shards: this host's outcome as the replica holding the host's shard saw it, so the " +
      'replicas holding other placed hosts summarise the conditions the same way.',
  },
);
export type HostResult = Static<typeof HostResult>;

/** Per-host status entry; kinds extend it with their own facts. */
export const hostStatusFields = {
  name: objectName('The DockerHost.'),
  phase: str('Where this host is in the lifecycle, e.g. Pending, Ready, Failed.'),
  id: Type.Optional(str('The Docker object ID on this host.')),
  message: Type.Optional(Type.String({ description: 'Why the host is in this phase.', maxLength: 4096 })),
  lastUpdateTime: Type.Optional(
    Type.String({ description: 'When this entry last changed.', format: 'date-time' }),
  ),
  machine: Type.Optional(MachineState),
  placementHash: Type.Optional(
    str(
      'Hash of spec.hostName/hostSelector this host was last selected under. A host that no longer ' +
        'matches with the same hash was changed by someone else (labels, allowedNamespaces) and keeps the ' +
        'object; with another hash the object itself moved away and leaves the host.',
      { maxLength: 64 },
    ),
  ),
  adopted: Type.Optional(
    Type.Boolean({
      description:
        'The Docker object on this host was adopted (spec.adoptionPolicy), not created for this resource: ' +
        'it keeps the labels it had, and the DockerHost lists it in status.adoptedObjects.',
    }),
  ),
  result: Type.Optional(HostResult),
};

export const placementStatusFields = {
  observedGeneration: Type.Optional(
    int('The metadata.generation this status was computed from.', { minimum: 0 }),
  ),
  conditions: conditions(),
  hostsReady: Type.Optional(
    str('Ready hosts over placed hosts, e.g. 2/3 (for printer columns).', { maxLength: 32 }),
  ),
  phase: Type.Optional(str('Summary phase across hosts (for printer columns).', { maxLength: 64 })),
};

/** The annotations every kind honours. */
export const ANNOTATIONS = {
  paused: 'dockyard.io/paused',
  reconcileRequestedAt: 'dockyard.io/reconcile-requested-at',
} as const;

/** Labels on every Docker object Dockyard creates; Dockyard never touches an object without them. */
export const OWNER_LABELS = {
  uid: 'dockyard.io/uid',
  namespace: 'dockyard.io/namespace',
  name: 'dockyard.io/name',
  kind: 'dockyard.io/kind',
  specHash: 'dockyard.io/spec-hash',
} as const;

/**
 * Object metadata as client-node types it (so Dockyard objects fit the
 * runtime's KubernetesObject-based informers), with a name always present.
 * Note: objects read as raw JSON carry timestamps as strings despite the Date
 * typing; only test them for presence.
 */
export type ObjectMeta = V1ObjectMeta & { name: string };

/** A Dockyard custom object as read from the API. */
export interface KubeObject<Kind extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything crd-yaml.ts needs to render one CRD. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: TSchema;
  status: TSchema;
  printerColumns: PrinterColumn[];
  /**
   * The longest metadata.name the kind takes, when shorter than Kubernetes'
   * 253 (a CRD schema may restrict only name and generateName).
   */
  nameMaxLength?: number;
}

export const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the object is converged on every placed host.',
};
export const hostsColumn: PrinterColumn = {
  name: 'Hosts',
  type: 'string',
  jsonPath: '.status.hostsReady',
  description: 'Ready hosts over placed hosts.',
};
export const phaseColumn: PrinterColumn = {
  name: 'Phase',
  type: 'string',
  jsonPath: '.status.phase',
  description: 'Summary phase across hosts.',
};
export const reasonColumn: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  priority: 1,
};
export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};

// The image reference grammar of distribution/reference (what `docker pull`
// accepts), as one RE2- and ECMAScript-compatible pattern.
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
export const IMAGE_REFERENCE_PATTERN = `^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`;

export function imageReference(description: string) {
  return Type.String({
    description: `${description} An image reference as docker pull accepts it: [registry/]repository[:tag][@digest].`,
    minLength: 1,
    maxLength: 512,
    pattern: IMAGE_REFERENCE_PATTERN,
  });
}
