// Random and hostile specs for all five kinds against the structural schema
// the CRDs are generated from (the same TypeBox check schema.test.ts runs;
// CEL rules are the API server's part and test/integration/crds.test.ts covers
// them). What must hold for any input:
// - validation never throws and never touches Object.prototype;
// - every refusal points at a field: its path resolves inside the submitted
//   spec (or, for a missing field, at the object that lacks it);
// - what is accepted, once unknown fields are pruned as the API server prunes
//   them, is something the controllers can use: numbers are exact integers,
//   quantities and durations translate, paths have no `..` segment.
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { parseByteQuantity, parseCpuQuantity, parseDuration } from './quantities.js';
import { DockerBuildSpec } from './dockerbuild.js';
import { DockerComposeStackSpec } from './dockercomposestack.js';
import { DockerContainerSpec } from './dockercontainer.js';
import { DockerHostSpec } from './dockerhost.js';
import { DockerImageSpec } from './dockerimage.js';
import { DockerNetworkSpec } from './dockernetwork.js';
import { DockerServiceSpec } from './dockerservice.js';
import { DockerVolumeSpec } from './dockervolume.js';
import { SCHEMA_CASES, type KindName } from './schema-cases.fixture.js';

const SPECS: Record<KindName, TSchema> = {
  DockerHost: DockerHostSpec,
  DockerImage: DockerImageSpec,
  DockerNetwork: DockerNetworkSpec,
  DockerVolume: DockerVolumeSpec,
  DockerContainer: DockerContainerSpec,
  DockerService: DockerServiceSpec,
  DockerComposeStack: DockerComposeStackSpec,
  DockerBuild: DockerBuildSpec,
};
const KINDS = Object.keys(SPECS) as KindName[];
const COMPILED = Object.fromEntries(KINDS.map((k) => [k, Compile(SPECS[k])])) as Record<
  KindName,
  ReturnType<typeof Compile>
>;
const NUM_RUNS = Number(process.env.DOCKYARD_PROPERTY_RUNS ?? 400);

type Json = { [key: string]: unknown };
type Path = Array<string | number>;

// ---------------------------------------------------------------------------
// Where values can go: every property path the schema declares (array items
// at index 0, maps under a sample key), so mutations hit real fields, not just
// unknown ones.
// ---------------------------------------------------------------------------

function schemaPaths(schema: unknown, prefix: Path = [], depth = 0): Path[] {
  if (typeof schema !== 'object' || schema === null || depth > 8) return [];
  const node = schema as Json;
  const out: Path[] = [];
  if (node.properties && typeof node.properties === 'object') {
    for (const [key, child] of Object.entries(node.properties as Json)) {
      out.push([...prefix, key], ...schemaPaths(child, [...prefix, key], depth + 1));
    }
  }
  if (node.items) out.push([...prefix, 0], ...schemaPaths(node.items, [...prefix, 0], depth + 1));
  if (node.patternProperties) out.push([...prefix, 'some-key']);
  return out;
}

const PATHS = Object.fromEntries(
  KINDS.map((k) => [k, schemaPaths(JSON.parse(JSON.stringify(SPECS[k])))]),
) as Record<KindName, Path[]>;
const VALID_BASES = Object.fromEntries(
  KINDS.map((k) => [k, SCHEMA_CASES.filter((c) => c.kind === k && c.valid).map((c) => c.spec)]),
) as Record<KindName, Array<Record<string, unknown>>>;

// ---------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

const controlChars = fc
  .array(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 8 })
  .map((codes) => String.fromCharCode(...codes));

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  controlChars.map((c) => `a${c}b`),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../etc',
    '/..',
    '/a/../b',
    '/var/run/docker.sock',
    '/',
    '/proc/1/root',
    'relative/path',
    '/dev/../etc/shadow',
    'container:abc',
    'host',
    'other-ns/name',
    '${jndi:ldap://x}',
    "'; DROP TABLE x; --",
    '\u0000',
    '\u202e',
    'İ',
    '𝒳',
    '999999999999999999999Ei',
    '99999999999999999999999h',
    '1e308',
    '-1',
    'NaN',
    'tcp://0.0.0.0:2375',
    ...PROTO_KEYS,
  ),
  fc.nat({ max: 2_000_000 }).map((n) => 'x'.repeat(n % 70_000)), // huge, past every maxLength
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(), // includes NaN, ±Infinity, -0
  fc.constantFrom(
    -1,
    0,
    -0,
    65_536,
    2 ** 31,
    2 ** 53,
    2 ** 64,
    Number.MAX_SAFE_INTEGER + 2,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    0.5,
    1e-300,
  ),
);

/** Nested arrays and objects hundreds of levels deep, with prototype keys inside. */
const deepJunk = fc.integer({ min: 1, max: 400 }).map((depth) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++)
    v = i % 2 === 0 ? [v] : ownProps({ [PROTO_KEYS[i % PROTO_KEYS.length] ?? 'k']: v });
  return v;
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }),
  deepJunk,
  fc.array(hostileString, { maxLength: 5 }),
  fc
    .dictionary(fc.oneof(hostileString, fc.constantFrom(...PROTO_KEYS)), hostileString, { maxKeys: 4 })
    .map(ownProps),
);

/** Builds an object whose keys are all own data properties, even `__proto__` (as JSON.parse does). */
function ownProps(entries: Record<string, unknown>): Json {
  const out: Json = {};
  for (const key of Reflect.ownKeys(entries)) {
    if (typeof key !== 'string') continue;
    Object.defineProperty(out, key, {
      value: entries[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Sets `value` at `path`, creating own containers on the way (never assigning through a prototype). */
function setAt(root: Json, path: Path, value: unknown): void {
  let node: unknown = root;
  for (const [i, key] of path.entries()) {
    if (typeof node !== 'object' || node === null) return;
    // JSON (all the API server ever hands over) cannot give an array a named key.
    if (Array.isArray(node) && typeof key !== 'number') return;
    const container = node as Record<string | number, unknown>;
    const last = i === path.length - 1;
    let next: unknown = last ? value : Object.hasOwn(container, key) ? container[key] : undefined;
    if (!last && (typeof next !== 'object' || next === null))
      next = typeof path[i + 1] === 'number' ? [] : {};
    Object.defineProperty(container, key, {
      value: next,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    node = next;
  }
}

const mutation = (kind: KindName) =>
  fc.record({
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PATHS[kind]) },
      // Unknown fields, at the top and inside known objects, including prototype keys.
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom<Path>([], ...PATHS[kind]),
            fc.oneof(fc.constantFrom(...PROTO_KEYS), hostileString),
          )
          .map(([p, key]) => [...p, key]),
      },
    ),
    value: hostileValue,
  });

/** A valid spec of `kind` with one to four hostile mutations. */
const hostileSpec = (kind: KindName) =>
  fc
    .tuple(fc.constantFrom(...VALID_BASES[kind]), fc.array(mutation(kind), { minLength: 1, maxLength: 4 }))
    .map(([base, mutations]) => {
      const spec = structuredClone(base) as Json;
      for (const m of mutations) setAt(spec, m.path, m.value);
      return spec;
    });

// ---------------------------------------------------------------------------
// What must hold
// ---------------------------------------------------------------------------

/** `/mounts/0/hostPath` → `spec.mounts[0].hostPath`. */
function fieldOf(instancePath: string): string {
  return (
    'spec' +
    instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^[0-9]+$/.test(p) ? `[${p}]` : `.${p}`))
      .join('')
  );
}

function resolves(root: unknown, instancePath: string): boolean {
  let node = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key))
      return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

interface Refusal {
  field: string;
  message: string;
}

/** Validates like the unit schema test; returns the refusals as `field: message`. */
function validate(kind: KindName, spec: unknown): Refusal[] {
  const errors = [...Value.Errors(SPECS[kind], spec)];
  // The compiled checker must agree with the interpreted one.
  expect(COMPILED[kind].Check(spec)).toBe(errors.length === 0);
  return errors.map((e) => {
    expect(resolves(spec, e.instancePath), `error path ${e.instancePath} is not in the spec`).toBe(true);
    expect(e.message.length).toBeGreaterThan(0);
    return { field: fieldOf(e.instancePath), message: e.message };
  });
}

const QUANTITY_FIELDS: Record<string, (v: string) => number> = {
  memory: parseByteQuantity,
  memoryReservation: parseByteQuantity,
  tmpfsSize: parseByteQuantity,
  cpus: parseCpuQuantity,
  interval: parseDuration,
  timeout: parseDuration,
  startPeriod: parseDuration,
  stopGracePeriod: parseDuration,
  refreshInterval: parseDuration,
};
const PATH_FIELDS = new Set(['target', 'hostPath', 'containerPath']);

/** What the controllers rely on in an accepted (and pruned) spec. */
/** The only numbers that are not integers: shares, between 0 and 1. */
const FRACTION_FIELDS: ReadonlySet<string> = new Set(['maxFailureRatio']);

function assertUsable(value: unknown, key = ''): void {
  if (typeof value === 'number' && FRACTION_FIELDS.has(key)) {
    expect(value >= 0 && value <= 1, `${key} = ${value}`).toBe(true);
  } else if (typeof value === 'number') {
    expect(Number.isSafeInteger(value), `${key} = ${value}`).toBe(true);
  } else if (typeof value === 'string') {
    // Own keys only: a map key `__proto__` must not find Object.prototype.
    const parse = Object.hasOwn(QUANTITY_FIELDS, key) ? QUANTITY_FIELDS[key] : undefined;
    if (parse) expect(() => parse(value), `${key} = ${value}`).not.toThrow();
    if (PATH_FIELDS.has(key)) expect(value.split('/'), `${key} = ${value}`).not.toContain('..');
  } else if (Array.isArray(value)) {
    for (const item of value) assertUsable(item, key);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) assertUsable(v, k);
  }
}

function checkOne(kind: KindName, spec: unknown): Refusal[] {
  const refusals = validate(kind, spec);
  if (refusals.length === 0) {
    const pruned = Value.Clean(SPECS[kind], structuredClone(spec));
    expect(Value.Check(SPECS[kind], pruned)).toBe(true);
    // Labels and driver options are maps: their values are the user's, not quantities.
    const { labels: _l, driverOptions: _d, options: _o, ...rest } = pruned as Json;
    assertUsable(rest);
  }
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  return refusals;
}

/** A JSON view of a counterexample; fast-check's own printer chokes on arrays with an own `constructor`. */
function describeValue(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
  );
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}

/** fc.assert, reporting the counterexample and the original error itself. */
function assertProperty<T>(property: fc.IProperty<T>): void {
  const details = fc.check(property, { numRuns: NUM_RUNS });
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `property failed (seed ${details.seed}, path ${details.counterexamplePath}): ${error}\n` +
        `counterexample: ${describeValue(details.counterexample)}`,
    );
  }
}

describe('schema properties', () => {
  it('collects the declared fields of every kind, so mutations reach real fields', () => {
    for (const kind of KINDS) {
      expect(PATHS[kind].length).toBeGreaterThan(kind === 'DockerContainer' ? 80 : 5);
      expect(VALID_BASES[kind].length).toBeGreaterThan(0);
    }
    expect(PATHS.DockerContainer).toContainEqual(['mounts', 0, 'hostPath']);
  });

  it.each(KINDS)(
    '%s: hostile mutations of valid specs never throw; refusals name fields',
    (kind) => {
      let refused = 0;
      assertProperty(
        fc.property(hostileSpec(kind), (spec) => {
          if (checkOne(kind, spec).length > 0) refused++;
        }),
      );
      // The generator is hostile enough to be refused most of the time.
      expect(refused).toBeGreaterThan(NUM_RUNS / 4);
    },
    120_000,
  );

  it.each(KINDS)(
    '%s: any JSON value as a spec never throws',
    (kind) => {
      assertProperty(
        fc.property(fc.oneof(fc.jsonValue({ maxDepth: 6 }), hostileValue), (spec) => {
          checkOne(kind, spec);
        }),
      );
    },
    120_000,
  );

  it('a spec polluted through __proto__ keys stays an ordinary object and refuses nothing it should not', () => {
    const spec = JSON.parse(
      '{"hostName":"a","image":"busybox","__proto__":{"polluted":true,"privileged":true},' +
        '"security":{"__proto__":{"privileged":true}},"labels":{"__proto__":"x","constructor":"y"}}',
    ) as Json;
    const refusals = checkOne('DockerContainer', spec);
    expect(refusals).toEqual([]);
    const pruned = Value.Clean(DockerContainerSpec, structuredClone(spec)) as Json;
    expect((pruned.security as Json).privileged).toBeUndefined();
    expect(({} as Json).polluted).toBeUndefined();
  });

  it.each([
    [
      'bind hostPath with ..',
      { mounts: [{ type: 'bind', hostPath: '/srv/../etc', target: '/x' }] },
      'spec.mounts[0].hostPath',
    ],
    ['target with ..', { mounts: [{ type: 'tmpfs', target: '/a/..' }] }, 'spec.mounts[0].target'],
    [
      'device with ..',
      { security: { devices: [{ hostPath: '/dev/../etc/shadow' }] } },
      'spec.security.devices[0].hostPath',
    ],
    ['memory past 2^53 bytes', { resources: { memory: '9Pi' } }, 'spec.resources.memory'],
    ['exabytes', { resources: { memory: '1Ei' } }, 'spec.resources.memory'],
    ['a million and one CPUs', { resources: { cpus: '1000001' } }, 'spec.resources.cpus'],
    ['years of grace', { stopGracePeriod: '99999999h' }, 'spec.stopGracePeriod'],
    ['repeated duration units', { stopGracePeriod: '999h999h999h999h' }, 'spec.stopGracePeriod'],
    [
      'sub-nanosecond duration',
      { healthcheck: { command: ['true'], interval: '1.5ns' } },
      'spec.healthcheck.interval',
    ],
    ['pids past the kernel limit', { resources: { pidsLimit: 2 ** 53 } }, 'spec.resources.pidsLimit'],
    [
      'huge retry count',
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 1e20 } },
      'spec.restartPolicy.maximumRetryCount',
    ],
    ['fractional port', { ports: [{ containerPort: 80.5 }] }, 'spec.ports[0].containerPort'],
    ['NaN port', { ports: [{ containerPort: Number.NaN }] }, 'spec.ports[0].containerPort'],
    ['control characters in a name', { containerName: 'a\nb' }, 'spec.containerName'],
    ['unicode look-alike capability', { security: { capAdd: ['SYS_ADMİN'] } }, 'spec.security.capAdd[0]'],
  ])('refuses %s (fixed or guarded by the schema)', (_name, extra, field) => {
    const refusals = checkOne('DockerContainer', { hostName: 'a', image: 'busybox:1.36', ...extra });
    expect(refusals.map((r) => r.field)).toContain(field);
  });
});
