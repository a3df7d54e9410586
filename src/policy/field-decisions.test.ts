// Item 10 of issue #12: every field of every kind's spec is decided by the
// host policy, or is harmless with a reason, or never reaches Docker. A new
// field that is not in FIELD_DECISIONS fails here, so it cannot silently
// bypass the policy.
import type { TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { DockerBuildSpec } from '../crds/dockerbuild.js';
import { DockerContainerSpec } from '../crds/dockercontainer.js';
import { DockerImageSpec } from '../crds/dockerimage.js';
import { DockerNetworkSpec } from '../crds/dockernetwork.js';
import { DockerVolumeSpec } from '../crds/dockervolume.js';
import { FIELD_DECISIONS, type SpecKind } from './field-decisions.js';
import { POLICY_ESCAPES, type PolicyEscape } from './policy-escapes.fixture.js';

const SPECS: Record<SpecKind, TSchema> = {
  DockerContainer: DockerContainerSpec,
  DockerVolume: DockerVolumeSpec,
  DockerNetwork: DockerNetworkSpec,
  DockerImage: DockerImageSpec,
  DockerBuild: DockerBuildSpec,
};

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
}

/** Every leaf path of a schema: `spec.a.b`, `[]` for list items, `.*` for map keys. */
export function leafPaths(node: SchemaNode, path = 'spec'): string[] {
  const variants = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  if (variants.length > 0) return [...new Set(variants.flatMap((v) => leafPaths(v, path)))];
  if (node.type === 'array') return leafPaths(node.items ?? {}, `${path}[]`);
  if (node.type === 'object' || node.properties || node.patternProperties) {
    const maps = [
      ...Object.values(node.patternProperties ?? {}),
      ...(typeof node.additionalProperties === 'object' ? [node.additionalProperties] : []),
    ];
    return [
      ...Object.entries(node.properties ?? {}).flatMap(([key, child]) => leafPaths(child, `${path}.${key}`)),
      ...maps.flatMap((child) => leafPaths(child, `${path}.*`)),
    ];
  }
  return [path];
}

const KINDS = Object.keys(SPECS) as SpecKind[];
const kindOf = (e: PolicyEscape): SpecKind =>
  e.container
    ? 'DockerContainer'
    : e.volume
      ? 'DockerVolume'
      : e.build
        ? 'DockerBuild'
        : e.image
          ? 'DockerImage'
          : 'DockerNetwork';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether a violation's field (`spec.mounts[0].hostPath`,
 * `spec.options[com.docker.network.bridge.name]`) names the path or one of
 * its ancestors (`spec.security.devices[0]` for every field of a device).
 */
export function exercises(path: string, field: string): boolean {
  const tokens = path.match(/\.[^.[]+|\[\]|^spec/g) ?? [];
  for (let n = tokens.length; n >= 2; n--) {
    // The path itself, a list of scalars as a whole, or a whole list item; not any ancestor.
    const whole = n === tokens.length || (n === tokens.length - 1 && tokens[n] === '[]');
    if (!whole && tokens[n - 1] !== '[]') continue;
    const pattern = tokens
      .slice(0, n)
      .map((t) =>
        t === '[]' ? '\\[[0-9]+\\]' : t === '.*' ? '(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[[^\\]]+\\])' : escape(t),
      )
      .join('');
    if (new RegExp(`^${pattern}$`).test(field)) return true;
  }
  return false;
}

describe('every spec field that reaches Docker is decided by the host policy', () => {
  it.each(KINDS)('%s: every field of the schema is classified', (kind) => {
    const unclassified = leafPaths(SPECS[kind] as SchemaNode).filter((p) => !(p in FIELD_DECISIONS[kind]));
    // A new field? Decide it in the policy (with an escape row), or say in
    // src/policy/field-decisions.ts why it is harmless.
    expect(unclassified).toEqual([]);
  });

  it.each(KINDS)('%s: every classified field still exists', (kind) => {
    const paths = new Set(leafPaths(SPECS[kind] as SchemaNode));
    expect(Object.keys(FIELD_DECISIONS[kind]).filter((p) => !paths.has(p))).toEqual([]);
  });

  it.each(KINDS)('%s: every field the policy decides is exercised by an escape row', (kind) => {
    const decided = Object.entries(FIELD_DECISIONS[kind]).filter(([, d]) => 'decidedBy' in d);
    const rows = POLICY_ESCAPES.filter((e) => kindOf(e) === kind);
    const unexercised = decided
      .filter(([path]) => !rows.some((e) => exercises(path, e.field)))
      .map(([p]) => p);
    expect(unexercised).toEqual([]);
  });

  it('every escape row names a field the policy decides (never a harmless one)', () => {
    const misplaced = POLICY_ESCAPES.filter((e) => {
      const decisions = Object.entries(FIELD_DECISIONS[kindOf(e)]);
      return !decisions.some(([path, d]) => 'decidedBy' in d && exercises(path, e.field));
    }).map((e) => `${e.name}: ${e.field}`);
    expect(misplaced).toEqual([]);
  });

  it('every harmless or Dockyard-only field says why', () => {
    for (const kind of KINDS) {
      for (const [path, d] of Object.entries(FIELD_DECISIONS[kind])) {
        const why = 'harmless' in d ? d.harmless : 'dockyardOnly' in d ? d.dockyardOnly : d.decidedBy;
        expect(why.length, `${kind} ${path}`).toBeGreaterThan(10);
      }
    }
  });

  it.each([
    ['spec.mounts[].hostPath', 'spec.mounts[3].hostPath', true],
    ['spec.mounts[].hostPath', 'spec.mounts[x].hostPath', false],
    ['spec.mounts[].hostPath', 'spec.mounts', false],
    ['spec.security.devices[].permissions', 'spec.security.devices[0]', true],
    ['spec.security.capDrop[]', 'spec.security.capDrop', true],
    ['spec.options.*', 'spec.options[com.docker.network.bridge.name]', true],
    ['spec.options.*', 'spec.options.parent', true],
    ['spec.ipam.options.*', 'spec.options.parent', false],
    ['spec.user', 'spec.userx', false],
  ] as const)('exercises(%s, %s) is %s', (path, field, expected) => {
    expect(exercises(path, field)).toBe(expected);
  });

  it('walks nested objects, lists and maps of the real schemas', () => {
    const paths = leafPaths(DockerContainerSpec as SchemaNode);
    expect(paths).toContain('spec.env[].valueFrom.secretKeyRef.name');
    expect(paths).toContain('spec.logging.options.*');
    expect(paths).toContain('spec.hostSelector.matchExpressions[].values[]');
    expect(paths.length).toBeGreaterThan(60);
  });
});
