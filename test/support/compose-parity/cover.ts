// Which corpus projects `npm test` runs: a subset that still exercises
// everything the whole corpus does (the whole corpus runs in `npm run bench --
// --scenarios=compose-parity`, or with COMPOSE_PARITY_FULL=1). "Everything" is
// the set of features read off each project's own files and its corpus.json
// entry:
//   - every Compose key path, with names the user chose generalised
//     (services.*.healthcheck.interval, networks.*.ipam.config[].subnet), and
//     whether a list item is a scalar or a mapping (short and long syntax);
//   - the values of keys whose value picks a behaviour (restart, network_mode,
//     ipc, pid, driver, condition, type…), up to their first ':' (not numbers
//     or interpolated values);
//   - interpolation forms (${V}, ${V:-d}, ${V-d}, ${V:?m}, $$), YAML merge
//     keys and anchors, !reset/!override tags, a .env file;
//   - how the project is run (several -f files, profiles, variables,
//     privileged, external objects);
//   - each DIFFERENCES.md row (one of the projects it names);
// except in services the lab's engine refuses (their keys are never compared).
// A greedy set cover then picks projects in corpus order of most new
// features first, until every feature of the corpus is covered.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { CorpusEntry } from './corpus.js';
import type { DifferenceRow } from './differences.js';

/** Mappings whose keys are the user's names (services, labels, variables…), not Compose keys. */
const NAMED_KEYS = new Set([
  'services',
  'networks',
  'volumes',
  'configs',
  'secrets',
  'labels',
  'environment',
  'sysctls',
  'driver_opts',
  'extra_hosts',
  'ulimits',
  'depends_on',
  'options',
  'annotations',
  'args',
  'include',
]);

/** Keys whose value chooses a behaviour: the value (up to its first ':') is a feature too. */
const BEHAVIOUR_VALUES = new Set([
  'restart',
  'network_mode',
  'ipc',
  'pid',
  'driver',
  'condition',
  'type',
  'userns_mode',
  'cgroup',
  'init',
  'read_only',
  'internal',
  'external',
  'attachable',
  'enable_ipv6',
  'disable',
  'mode',
  'required',
]);

const INTERPOLATIONS: Array<[string, RegExp]> = [
  ['${V}', /\$\{\w+\}/],
  ['${V:-d}', /\$\{\w+:-/],
  ['${V-d}', /\$\{\w+-/],
  ['${V:?m}', /\$\{\w+:\?/],
  ['${V?m}', /\$\{\w+\?/],
  ['${V:+r}', /\$\{\w+:\+/],
  ['$$', /\$\$/],
  ['$V', /(^|[^$])\$[A-Za-z_]\w*/],
];

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function walk(node: Node | null | undefined, path: string, parentKey: string, out: Set<string>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (key.startsWith('x-')) continue;
      const name = NAMED_KEYS.has(parentKey) ? '*' : key;
      const child = path ? `${path}.${name}` : name;
      out.add(child);
      const value = pair.value as Node | null;
      if (value && 'tag' in value && typeof value.tag === 'string' && value.tag.startsWith('!'))
        out.add(`tag ${value.tag}`);
      // Numbers (file modes, counts) and interpolated values are data, not a choice of behaviour.
      const chosen = isScalar(value) ? String(value.value).split(':')[0]! : '';
      if (BEHAVIOUR_VALUES.has(key) && chosen !== '' && !/^\d+$|\$/.test(chosen))
        out.add(`${child}=${chosen}`);
      walk(value, child, name === '*' ? '' : key, out);
    }
  } else if (isSeq(node)) {
    for (const item of node.items as Node[]) {
      if (isScalar(item)) out.add(`${path}[]=scalar`);
      else walk(item, `${path}[]`, '', out);
    }
  }
}

/**
 * Keys that make Dockyard refuse a service on the lab's Engine 20.10
 * (UnsupportedByEngine; DIFFERENCES.md row `project.up`): such a service
 * never runs, so its other keys are never compared and count for nothing.
 */
const KEYS_REFUSED_BY_THE_LAB_ENGINE = [['healthcheck', 'start_interval']];

/** The services `service` depends on (depends_on as a list or a map). */
function dependencies(doc: Document, service: string): string[] {
  const deps = doc.getIn(['services', service, 'depends_on']);
  if (isSeq(deps)) return deps.items.flatMap((i) => (isScalar(i) ? [String(i.value)] : []));
  if (isMap(deps)) return deps.items.flatMap((p) => (isScalar(p.key) ? [String(p.key.value)] : []));
  return [];
}

/**
 * The document without the services the lab's engine refuses and those that
 * depend on them (they stay down too); each refusal is a feature of its own.
 */
function withoutRefusedServices(doc: Document, out: Set<string>): Node {
  const services = doc.get('services');
  if (!isMap(services)) return doc.contents as Node;
  const names = services.items.flatMap((p) => (isScalar(p.key) ? [String(p.key.value)] : []));
  const down = new Set<string>();
  for (const name of names)
    for (const path of KEYS_REFUSED_BY_THE_LAB_ENGINE)
      if (doc.hasIn(['services', name, ...path])) {
        out.add(`service refused by the lab's engine: ${path.join('.')}`);
        down.add(name);
      }
  for (let grew = down.size > 0; grew;) {
    grew = false;
    for (const name of names)
      if (!down.has(name) && dependencies(doc, name).some((d) => down.has(d))) grew = Boolean(down.add(name));
  }
  for (const name of down) doc.deleteIn(['services', name]);
  return doc.contents as Node;
}

/** The features one project exercises (file comment). */
export function projectFeatures(entry: CorpusEntry, projectDir: string): Set<string> {
  const out = new Set<string>();
  for (const file of yamlFiles(projectDir)) {
    const text = readFileSync(file, 'utf8');
    walk(withoutRefusedServices(parseDocument(text, { merge: false }), out), '', '', out);
    for (const [form, pattern] of INTERPOLATIONS) if (pattern.test(text)) out.add(`interpolation ${form}`);
    if (/^\s*<<:/m.test(text)) out.add('yaml merge key');
    if (/&\w+/.test(text)) out.add('yaml anchor');
  }
  if (existsSync(join(projectDir, '.env'))) out.add('.env file');
  if ((entry.files?.length ?? 0) > 1) out.add('run: several -f files');
  if ((entry.files?.length ?? 0) === 1) out.add('run: one -f file');
  if ((entry.profiles?.length ?? 0) > 0) out.add('run: profiles');
  if (Object.keys(entry.env ?? {}).length > 0) out.add('run: variables');
  if (entry.privileged) out.add('run: privileged host');
  if (entry.external) out.add('run: external objects');
  return out;
}

/**
 * The projects to run: greedy set cover of every feature of the corpus and
 * of every DIFFERENCES.md row, in corpus order among equals.
 */
export function coveringSubset(
  corpus: readonly CorpusEntry[],
  opts: { corpusDir: string; rows: readonly DifferenceRow[] },
): CorpusEntry[] {
  const features = new Map(corpus.map((e) => [e.dir, projectFeatures(e, join(opts.corpusDir, e.dir))]));
  opts.rows.forEach((row, i) => {
    for (const dir of row.projects ?? []) features.get(dir)?.add(`DIFFERENCES.md row ${i + 1}`);
  });
  const uncovered = new Set([...features.values()].flatMap((f) => [...f]));
  const chosen: CorpusEntry[] = [];
  while (uncovered.size > 0) {
    let best: { entry: CorpusEntry; gain: number } | undefined;
    for (const entry of corpus) {
      const gain = [...(features.get(entry.dir) ?? [])].filter((f) => uncovered.has(f)).length;
      if (gain > (best?.gain ?? 0)) best = { entry, gain };
    }
    if (!best) break;
    chosen.push(best.entry);
    for (const f of features.get(best.entry.dir) ?? []) uncovered.delete(f);
  }
  return corpus.filter((e) => chosen.includes(e));
}
