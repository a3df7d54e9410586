// The chart's RBAC, read as text: every verb of every rule is justified by a
// `verb, verb: why` comment directly above the rule, and nothing is a
// wildcard, in the template and in the rendered plain manifests. The exact
// rules are snapshotted (and exercised under a real API server) by
// test/integration/chart.test.ts; this test is about the reasons.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { KIND_PLURALS, withKindResources } from './rbac-kinds.js';

const ROOT = join(import.meta.dirname, '..');
const TEMPLATE = join(ROOT, 'charts/dockyard/templates/rbac.yaml');
const INSTALL = join(ROOT, 'manifests/install.yaml');

export interface TemplateRule {
  /** 1-based line of `- apiGroups:` in the template. */
  line: number;
  verbs: string[];
  /** Everything the rule grants on, to look for wildcards. */
  grants: string[];
  /** Verb → the reason its comment gives. */
  reasons: Map<string, string>;
}

const flowList = (text: string): string[] =>
  [...text.matchAll(/"([^"]*)"|'([^']*)'|([^\s,[\]]+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');

/**
 * The rules of every `rules:` list in a template, with the comment block
 * right above each rule. Justifications are comment lines of the form
 * `# verb[, verb…]: reason`, the reason continuing on the following comment lines.
 */
export function parseTemplateRules(text: string): TemplateRule[] {
  const lines = text.split('\n');
  const rules: TemplateRule[] = [];
  lines.forEach((line, i) => {
    if (!/^\s*- apiGroups:/.test(line)) return;
    const comments: string[] = [];
    for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j] ?? ''); j--) comments.unshift(lines[j] ?? '');
    const reasons = new Map<string, string>();
    let current: string[] = [];
    for (const c of comments) {
      const body = c.replace(/^\s*#\s?/, '');
      const label = /^([a-z]+(?:(?:,\s*|\s+and\s+)[a-z]+)*):\s*(.*)$/.exec(body);
      if (label) {
        current = (label[1] ?? '').split(/,\s*|\s+and\s+/);
        for (const verb of current) reasons.set(verb, label[2] ?? '');
      } else {
        for (const verb of current) reasons.set(verb, `${reasons.get(verb) ?? ''} ${body}`.trim());
      }
    }
    // The rule's own lines: up to the next rule, document or non-indented line.
    const ruleLines: string[] = [line];
    for (let k = i + 1; k < lines.length; k++) {
      const l = lines[k] ?? '';
      if (/^\s*- apiGroups:/.test(l) || /^\S/.test(l) || /^\s*#/.test(l)) break;
      ruleLines.push(l);
    }
    const field = (name: string) => {
      const m = ruleLines.map((l) => new RegExp(`^\\s*-?\\s*${name}:\\s*\\[(.*)\\]`).exec(l)).find(Boolean);
      return m ? flowList(m[1] ?? '') : [];
    };
    rules.push({
      line: i + 1,
      verbs: field('verbs'),
      grants: [...field('apiGroups'), ...field('resources'), ...field('resourceNames'), ...field('verbs')],
      reasons,
    });
  });
  return rules;
}

/** Problems with one template's RBAC: unjustified verbs and wildcards. */
export function rbacProblems(text: string): string[] {
  const problems: string[] = [];
  const rules = parseTemplateRules(text);
  if (rules.length === 0) problems.push('no rules found');
  for (const rule of rules) {
    if (rule.verbs.length === 0) problems.push(`line ${rule.line}: rule without verbs`);
    for (const verb of rule.verbs) {
      const reason = rule.reasons.get(verb);
      if (reason === undefined)
        problems.push(`line ${rule.line}: verb ${verb} has no "${verb}: why" comment`);
      else if (reason.length < 20)
        problems.push(`line ${rule.line}: verb ${verb}'s reason is too thin: "${reason}"`);
    }
    for (const g of rule.grants) if (g.includes('*')) problems.push(`line ${rule.line}: wildcard ${g}`);
  }
  // Wildcards anywhere outside comments (e.g. a rule this parser did not see).
  text.split('\n').forEach((l, i) => {
    const code = l.replace(/#.*$/, '');
    if (/["'\s[,]\*["'\s\],]/.test(code) || /:\s*\*\s*$/.test(code))
      problems.push(`line ${i + 1}: wildcard in ${l.trim()}`);
  });
  return problems;
}

describe('chart RBAC template', () => {
  const text = readFileSync(TEMPLATE, 'utf8');

  it('justifies every verb of every rule and has no wildcard', () => {
    expect(rbacProblems(text)).toEqual([]);
  });

  it('finds the rules it checks (the ClusterRole and the leader-election Role)', () => {
    const rules = parseTemplateRules(text);
    expect(rules.length).toBe(13);
    expect(rules.flatMap((r) => r.verbs).sort()).toEqual(
      [
        // every kind: list, watch, patch; their status: patch
        'list',
        'watch',
        'patch',
        'patch',
        // a DockerService's replicas
        'create',
        'delete',
        // a DockerComposeStack's resources, ConfigMaps and Secrets
        'create',
        'get',
        'delete',
        'create',
        'patch',
        'delete',
        // its ControllerRevisions
        'list',
        'watch',
        'create',
        'delete',
        // events; secrets, configmaps, namespaces; the Lease
        'create',
        'patch',
        'get',
        'get',
        'get',
        'create',
        'get',
        'update',
        // the shard Leases (shards above 1 only)
        'list',
        'update',
        'delete',
      ].sort(),
    );
    // Secrets: get only, with its reason.
    const secrets = rules.find((r) => r.grants.includes('secrets'));
    expect(secrets?.verbs).toEqual(['get']);
    expect(secrets?.reasons.get('get')).toMatch(/never list or watch/);
  });

  it('grants on every Dockyard kind and its status (generated: run npm run generate)', () => {
    expect(text, 'the dockyard.io rules are stale: run npm run generate').toBe(withKindResources(text));
    const dockyard = parseTemplateRules(text).filter((r) => r.grants.includes('dockyard.io'));
    expect(dockyard.map((r) => r.grants.filter((g) => g.startsWith('docker')))).toEqual([
      [...KIND_PLURALS],
      KIND_PLURALS.map((p) => `${p}/status`),
      // Hand-written: the DockerContainers a DockerService creates and deletes.
      ['dockercontainers'],
      // and the resources a DockerComposeStack owns.
      ['dockernetworks', 'dockervolumes', 'dockercontainers', 'dockerservices'],
    ]);
  });

  it('lets a DockerService own its replicas and revisions, a DockerComposeStack its resources, and nothing else create or delete', () => {
    const rules = parseTemplateRules(text);
    const creating = rules.filter((r) => r.verbs.includes('create') || r.verbs.includes('delete'));
    expect(creating.map((r) => r.grants.filter((g) => !r.verbs.includes(g)))).toEqual([
      ['dockyard.io', 'dockercontainers'],
      ['dockyard.io', 'dockernetworks', 'dockervolumes', 'dockercontainers', 'dockerservices'],
      ['apps', 'controllerrevisions'],
      ['events.k8s.io', 'events'],
      ['', 'secrets', 'configmaps'],
      ['coordination.k8s.io', 'leases'],
      // The shard Leases' member Leases of replicas gone for long (shards above 1 only).
      ['coordination.k8s.io', 'leases'],
    ]);
    const revisions = rules.find((r) => r.grants.includes('controllerrevisions'));
    expect(revisions?.reasons.get('delete')).toMatch(/revisionHistoryLimit/);
  });

  it.each([
    [
      'a verb without a comment',
      '  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["get"]\n',
      /verb get has no/,
    ],
    [
      'a comment that skips one verb',
      '  # get: read by name, when the object is reconciled.\n  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["get", "list"]\n',
      /verb list has no/,
    ],
    [
      'a reason too thin to explain anything',
      '  # get: needed\n  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["get"]\n',
      /too thin/,
    ],
    [
      'a wildcard verb',
      '  # get: read by name, when the object is reconciled.\n  - apiGroups: [""]\n    resources: ["pods"]\n    verbs: ["*"]\n',
      /wildcard/,
    ],
    [
      'a wildcard resource',
      '  # get: read by name, when the object is reconciled.\n  - apiGroups: ["dockyard.io"]\n    resources: ["*"]\n    verbs: ["get"]\n',
      /wildcard/,
    ],
    ['a wildcard in block style', 'rules:\n  - apiGroups:\n      - "*"\n', /wildcard/],
  ])('catches %s', (_name, template, problem) => {
    expect(rbacProblems(`rules:\n${template}`).join('\n')).toMatch(problem);
  });
});

describe('withKindResources', () => {
  const rules = (kinds: string, status: string) =>
    `rules:\n  - apiGroups: ["dockyard.io"]\n    resources: [${kinds}]\n    verbs: ["list", "watch"]\n` +
    `  - apiGroups: ["dockyard.io"]\n    resources: [${status}]\n    verbs: ["patch"]\n`;
  const oneKind = '  - apiGroups: ["dockyard.io"]\n    resources: ["as"]\n    verbs: ["create"]\n';

  it.each([
    ['adds a new kind to both rules', rules('"as"', '"as/status"'), ['as', 'bs']],
    ['puts the kinds in the given order', rules('"bs", "as"', '"bs/status", "as/status"'), ['as', 'bs']],
    ['drops a kind no longer listed', rules('"as", "gone"', '"as/status", "gone/status"'), ['as', 'bs']],
  ])('%s', (_name, template, plurals) => {
    expect(withKindResources(template, plurals)).toBe(rules('"as", "bs"', '"as/status", "bs/status"'));
  });

  it('leaves a hand-written rule on one kind alone (it neither lists nor watches)', () => {
    expect(withKindResources(rules('"as"', '"as/status"') + oneKind, ['as', 'bs'])).toBe(
      rules('"as", "bs"', '"as/status", "bs/status"') + oneKind,
    );
  });

  it.each([
    ['a template without the status rule', rules('"as"', '"as/status"').split('  - apiGroups')[0] ?? ''],
    [
      'a dockyard.io rule in block style',
      'rules:\n  - apiGroups: ["dockyard.io"]\n    resources:\n      - as\n',
    ],
  ])('refuses %s', (_name, template) => {
    expect(() => withKindResources(template, ['as'])).toThrow(/dockyard\.io rule/);
  });
});

describe('rendered plain manifests (manifests/install.yaml)', () => {
  it('carry the same rules without any wildcard', () => {
    const docs = parseAllDocuments(readFileSync(INSTALL, 'utf8')).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const roles = docs.filter((d) => d && (d.kind === 'ClusterRole' || d.kind === 'Role'));
    expect(roles.length).toBe(2);
    const rules = roles.flatMap((r) => (r.rules ?? []) as Array<Record<string, string[] | undefined>>);
    // The shard Leases' rule renders only with shards above 1 (the default is 1).
    expect(rules.length).toBe(parseTemplateRules(readFileSync(TEMPLATE, 'utf8')).length - 1);
    expect(
      rules.filter((r) => r.apiGroups?.includes('dockyard.io')).map((r) => r.resources),
      'manifests/install.yaml is stale: run npm run generate',
    ).toEqual([
      [...KIND_PLURALS],
      KIND_PLURALS.map((p) => `${p}/status`),
      ['dockercontainers'],
      ['dockernetworks', 'dockervolumes', 'dockercontainers', 'dockerservices'],
    ]);
    for (const rule of rules) {
      for (const key of ['apiGroups', 'resources', 'resourceNames', 'verbs', 'nonResourceURLs']) {
        for (const value of rule[key] ?? [])
          expect(value, `${key} in ${JSON.stringify(rule)}`).not.toContain('*');
      }
    }
  });
});
