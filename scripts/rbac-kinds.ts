// The chart's RBAC grants on every Dockyard kind: the resource lists of its
// two dockyard.io rules that cover every kind (the informers' list/watch, and
// the /status subresources) are written from ALL_KINDS by
// scripts/generate-crds.ts, so a new kind is granted the day its CRD is
// generated. The rest of the template, with the reason of every verb (and a
// dockyard.io rule on one kind, such as the DockerContainers a DockerService
// creates), stays hand-written; scripts/chart-rbac.test.ts fails when the
// lists are stale.
import { ALL_KINDS } from '../src/crds/index.js';

export const RBAC_TEMPLATE = 'charts/dockyard/templates/rbac.yaml';

/** The plurals every kind's rules grant on, in the API's order. */
export const KIND_PLURALS: readonly string[] = ALL_KINDS.map((d) => d.plural);

const flow = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;

/** Which generated list a dockyard.io rule carries, from its resources and verbs; undefined: hand-written. */
function generatedList(resources: string, verbs: string): 'kinds' | 'status' | undefined {
  if (resources.includes('/status')) return 'status';
  // Every kind has an informer: the rule that lists and watches is the one over every kind.
  return /"list"/.test(verbs) && /"watch"/.test(verbs) ? 'kinds' : undefined;
}

/**
 * The template with the `resources:` line of each generated dockyard.io rule
 * rewritten: the rule whose list names `/status` subresources gets
 * `<plural>/status` for every kind, the rule that lists and watches every
 * plural. Other dockyard.io rules (a grant on one kind) are left as written.
 * Throws unless there is exactly one of each, so a reshaped template is
 * noticed rather than half rewritten.
 */
export function withKindResources(template: string, plurals: readonly string[] = KIND_PLURALS): string {
  const lines = template.split('\n');
  const rewritten = { kinds: 0, status: 0 };
  lines.forEach((line, i) => {
    if (!/^\s*- apiGroups:\s*\["dockyard\.io"\]\s*$/.test(line)) return;
    const next = /^(\s*resources:\s*)\[(.*)\]\s*$/.exec(lines[i + 1] ?? '');
    if (!next)
      throw new Error(`${RBAC_TEMPLATE}:${i + 2}: a dockyard.io rule without a resources: [...] line`);
    const verbs = /^\s*verbs:\s*\[(.*)\]\s*$/.exec(lines[i + 2] ?? '')?.[1] ?? '';
    const list = generatedList(next[2] ?? '', verbs);
    if (!list) return;
    rewritten[list]++;
    lines[i + 1] = `${next[1]}${flow(list === 'status' ? plurals.map((p) => `${p}/status`) : plurals)}`;
  });
  if (rewritten.kinds !== 1 || rewritten.status !== 1)
    throw new Error(
      `${RBAC_TEMPLATE}: expected one dockyard.io rule for the kinds (list, watch) and one for their ` +
        `/status, found ${rewritten.kinds} and ${rewritten.status}`,
    );
  return lines.join('\n');
}
