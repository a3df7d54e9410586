// docs/api.md from the TypeBox definitions in src/crds: every kind, every
// field (type, required, default, description) and every CEL rule. Pure; the
// schemas go through toStructural first, so the reference shows exactly what
// the CRDs the API server validates against say.
import { toStructural, type JsonSchema } from '../../src/crds/crd-yaml.js';
import {
  ANNOTATIONS,
  API_VERSION,
  GROUP,
  OWNER_LABELS,
  type KindDefinition,
  type Rule,
} from '../../src/crds/index.js';
import { cell, code, table } from './markdown.js';

const ANNOTATION_DOCS: Record<keyof typeof ANNOTATIONS, string> = {
  paused:
    'Set to `"true"` to pause: Dockyard keeps observing and reporting status but changes nothing in Docker ' +
    '(Argo CD shows the object as Suspended). Deleting a paused object still cleans up.',
  reconcileRequestedAt:
    'Any new value asks for an immediate reconcile (any annotation change wakes the controller), e.g. ' +
    '`kubectl annotate --overwrite dockercontainer web dockyard.io/reconcile-requested-at="$(date +%s)"`.',
};

const LABEL_DOCS: Record<keyof typeof OWNER_LABELS, string> = {
  uid: 'UID of the owning Dockyard object.',
  namespace: 'Namespace of the owning Dockyard object.',
  name: 'Name of the owning Dockyard object.',
  kind: 'Kind of the owning Dockyard object.',
  specHash: 'Hash of the normalised spec the Docker object was created from; a different hash means drift.',
};

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
}

interface RuleRow extends Rule {
  on: string;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(node: JsonSchema): string {
  const facets: string[] = [];
  let type = typeof node.type === 'string' ? node.type : 'object';
  if (type === 'array' && isSchema(node.items)) {
    const items = node.items;
    type = `[]${isSchema(items.additionalProperties) ? 'map[string]string' : String(items.type ?? 'object')}`;
    const keys = node['x-kubernetes-list-map-keys'];
    if (Array.isArray(keys)) facets.push(`unique by ${keys.map((k) => code(String(k))).join(', ')}`);
    if (typeof node.minItems === 'number') facets.push(`at least ${node.minItems}`);
    if (typeof node.maxItems === 'number') facets.push(`at most ${node.maxItems}`);
  } else if (type === 'object' && isSchema(node.additionalProperties)) {
    type = `map[string]${String(node.additionalProperties.type ?? 'string')}`;
    if (typeof node.maxProperties === 'number') facets.push(`at most ${node.maxProperties} entries`);
  } else if (type === 'object' && node['x-kubernetes-preserve-unknown-fields'] === true) {
    type = 'object (free-form)';
  }
  if (typeof node.format === 'string') facets.push(node.format);
  if (Array.isArray(node.enum)) facets.push(`one of ${node.enum.map((v) => code(String(v))).join(', ')}`);
  const min = node.minimum;
  const max = node.maximum;
  if (typeof min === 'number' && typeof max === 'number') facets.push(`${min} to ${max}`);
  else if (typeof min === 'number') facets.push(`≥ ${min}`);
  else if (typeof max === 'number') facets.push(`≤ ${max}`);
  return facets.length > 0 ? `${type}, ${facets.join(', ')}` : type;
}

/** Depth-first over properties (and array items), in declaration order. */
function walk(node: JsonSchema, path: string, fields: FieldRow[], rules: RuleRow[]): void {
  const validations = node['x-kubernetes-validations'];
  if (Array.isArray(validations)) for (const r of validations as Rule[]) rules.push({ ...r, on: path });
  if (node.type === 'array' && isSchema(node.items)) {
    walk(node.items, `${path}[]`, fields, rules);
    return;
  }
  if (!isSchema(node.properties)) return;
  const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
  for (const [name, child] of Object.entries(node.properties)) {
    if (!isSchema(child)) continue;
    const childPath = `${path}.${name}`;
    fields.push({
      path: childPath,
      type: describeType(child),
      required: required.has(name),
      default: child.default,
      description: typeof child.description === 'string' ? child.description : '',
    });
    walk(child, childPath, fields, rules);
  }
}

/** Every field and rule of one top-level schema (spec or status). */
export function schemaRows(
  root: 'spec' | 'status',
  schema: unknown,
): { fields: FieldRow[]; rules: RuleRow[] } {
  const fields: FieldRow[] = [];
  const rules: RuleRow[] = [];
  walk(toStructural(schema), root, fields, rules);
  return { fields, rules };
}

function fieldTable(fields: FieldRow[]): string {
  return table(
    ['Field', 'Type', 'Required', 'Default', 'Description'],
    fields.map((f) => [
      code(f.path),
      cell(f.type),
      f.required ? 'yes' : '',
      f.default === undefined ? '' : code(JSON.stringify(f.default)),
      cell(f.description),
    ]),
  );
}

function ruleTable(rules: RuleRow[]): string {
  return table(
    ['On', 'Rule (CEL)', 'Message', 'Field', 'Reason'],
    rules.map((r) => [
      code(r.on),
      code(r.rule),
      cell(r.message),
      r.fieldPath ? code(`${r.on}${r.fieldPath}`) : '',
      r.reason ?? 'FieldValueInvalid',
    ]),
  );
}

function kindSection(def: KindDefinition): string {
  const spec = schemaRows('spec', def.spec);
  const status = schemaRows('status', def.status);
  const columns = def.printerColumns.map((c) => (c.priority ? `${c.name} (wide)` : c.name)).join(', ');
  return [
    `## ${def.kind}`,
    def.description,
    table(
      ['', ''],
      [
        ['apiVersion', code(API_VERSION)],
        ['kind', code(def.kind)],
        ['scope', def.scope],
        ['resource', `${code(`${def.plural}.${GROUP}`)}; short names ${def.shortNames.map(code).join(', ')}`],
        ...(def.nameMaxLength !== undefined
          ? [['name', `at most ${def.nameMaxLength} characters (checked by the API server)`]]
          : []),
        ['`kubectl get` columns', columns],
      ],
    ),
    `### ${def.kind} spec`,
    'Required means required when the enclosing object is given.',
    fieldTable(spec.fields),
    ...(spec.rules.length > 0
      ? [
          `### ${def.kind} validation rules`,
          'Checked by the API server (CEL, `x-kubernetes-validations`); a failing rule rejects the write with the message.',
          ruleTable(spec.rules),
        ]
      : []),
    `### ${def.kind} status`,
    'Written by the controller through the status subresource.',
    fieldTable(status.fields),
  ].join('\n\n');
}

export function renderApiDoc(kinds: readonly KindDefinition[]): string {
  return [
    '# API reference',
    '<!-- Generated from src/crds by scripts/generate-docs.ts; do not edit. -->',
    `Group ${code(GROUP)}, version ${code(API_VERSION.split('/')[1] ?? '')}. Every kind has the status ` +
      'subresource and reports `status.observedGeneration` and the kstatus conditions `Ready`, ' +
      '`Reconciling` and `Stalled` (see [troubleshooting.md](troubleshooting.md) for their reasons). ' +
      'The namespaced kinds but DockerService are placed with exactly one of `spec.hostName` or ' +
      '`spec.hostSelector` and report one entry per placed host in `status.hosts`; their lifecycles are ' +
      'drawn in [state-machines.md](state-machines.md). A DockerService places DockerContainers (its ' +
      'replicas) instead and reports its rollout: see the guide [services.md](services.md).',
    kinds.map((k) => `- [${k.kind}](#${k.kind.toLowerCase()}) (${k.scope.toLowerCase()})`).join('\n'),
    '## Annotations',
    'Honoured on every kind. On a DockerService, `dockyard.io/paused` holds the rollout; its own ' +
      'annotations `dockyard.io/promote` (promote a Manual canary) and `dockyard.io/rollback` (roll back ' +
      'by hand) are described in [services.md](services.md#annotations).',
    table(
      ['Annotation', 'Meaning'],
      (Object.keys(ANNOTATIONS) as Array<keyof typeof ANNOTATIONS>).map((k) => [
        code(ANNOTATIONS[k]),
        cell(ANNOTATION_DOCS[k]),
      ]),
    ),
    '## Labels on Docker objects',
    'Every Docker object Dockyard creates carries these labels; Dockyard never changes or deletes a Docker ' +
      'object without them.',
    table(
      ['Label', 'Value'],
      (Object.keys(OWNER_LABELS) as Array<keyof typeof OWNER_LABELS>).map((k) => [
        code(OWNER_LABELS[k]),
        cell(LABEL_DOCS[k]),
      ]),
    ),
    ...kinds.map(kindSection),
  ].join('\n\n');
}
