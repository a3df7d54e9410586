// Renders the CRDs from the TypeBox definitions. Pure: the generator script
// writes the files, and a unit test fails when the committed YAML is stale.
import { stringify } from 'yaml';
import { GROUP, VERSION, type KindDefinition } from './kit.js';

export type JsonSchema = { [key: string]: unknown };

/**
 * Turns a TypeBox (JSON Schema) tree into a Kubernetes structural schema:
 * enums get an explicit type, records become additionalProperties, TypeBox's
 * own markers are dropped.
 */
export function toStructural(schema: unknown): JsonSchema {
  const plain = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  return convert(plain);
}

function convert(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema') continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, convert(v as JsonSchema)]),
      );
    } else if (key === 'items' && isObject(value)) {
      out.items = convert(value);
    } else if (key === 'patternProperties' && isObject(value)) {
      const [only] = Object.values(value);
      out.additionalProperties = convert(only as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  if (Array.isArray(out.enum) && out.type === undefined) {
    out.type = typeof out.enum[0] === 'number' ? 'integer' : 'string';
  }
  if (out.properties === undefined && out.additionalProperties === undefined && out.type === 'object') {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return orderKeys(out);
}

/** Stable key order keeps the generated YAML readable and diffs small. */
function orderKeys(node: JsonSchema): JsonSchema {
  const first = ['description', 'type', 'format', 'default', 'enum', 'required'];
  const ordered: JsonSchema = {};
  for (const key of first) if (key in node) ordered[key] = node[key];
  for (const [key, value] of Object.entries(node)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function crdName(def: KindDefinition): string {
  return `${def.plural}.${GROUP}`;
}

/** metadata as the API server checks it: only the name's length, when the kind limits it. */
function metadataSchema(def: KindDefinition): JsonSchema {
  if (def.nameMaxLength === undefined) return { type: 'object' };
  return { type: 'object', properties: { name: { type: 'string', maxLength: def.nameMaxLength } } };
}

export function toCrd(def: KindDefinition): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName(def),
      labels: { 'app.kubernetes.io/name': 'dockyard', 'app.kubernetes.io/part-of': 'dockyard' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['dockyard'],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              description: def.description,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: {
                  description: 'APIVersion defines the versioned schema of this representation of an object.',
                  type: 'string',
                },
                kind: {
                  description: 'Kind is a string value representing the REST resource.',
                  type: 'string',
                },
                metadata: metadataSchema(def),
                spec: toStructural(def.spec),
                status: toStructural(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = '# Generated from src/crds by `npm run generate`; do not edit.\n';

export function crdYaml(def: KindDefinition): string {
  return HEADER + stringify(toCrd(def), { lineWidth: 0 });
}

/** File name (inside manifests/crds and charts/dockyard/crds) to YAML text. */
export function renderAllCrds(defs: readonly KindDefinition[]): Map<string, string> {
  return new Map(defs.map((def) => [`${crdName(def)}.yaml`, crdYaml(def)]));
}
