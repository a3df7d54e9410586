// The chart's RBAC grants on every Dockyard kind: the resource lists of its
// two dockyard.io rules (the kinds, and their /status) are written from
// ALL_KINDS by scripts/generate-crds.ts, so a new kind is granted the day its
// CRD is generated. The rest of the template, with the reason of every verb,
// stays hand-written; scripts/chart-rbac.test.ts fails when the lists are stale.
import { ALL_KINDS } from '../src/crds/index.js';

export const RBAC_TEMPLATE = 'charts/dockyard/templates/rbac.yaml';

/** The plurals every kind's rules grant on, in the API's order. */
export const KIND_PLURALS: readonly string[] = ALL_KINDS.map((d) => d.plural);

const flow = (items: readonly string[]) => `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;

/**
 * The template with the `resources:` line of each dockyard.io rule rewritten:
 * the rule whose list names `/status` subresources gets `<plural>/status` for
 * every kind, the other every plural. Throws unless there is exactly one of
 * each, so a reshaped template is noticed rather than half rewritten.
 */
export function withKindResources(template: string, plurals: readonly string[] = KIND_PLURALS): string {
  const lines = template.split('\n');
  const rewritten = { kinds: 0, status: 0 };
  lines.forEach((line, i) => {
    if (!/^\s*- apiGroups:\s*\["dockyard\.io"\]\s*$/.test(line)) return;
    const next = /^(\s*resources:\s*)\[(.*)\]\s*$/.exec(lines[i + 1] ?? '');
    if (!next)
      throw new Error(`${RBAC_TEMPLATE}:${i + 2}: a dockyard.io rule without a resources: [...] line`);
    const status = (next[2] ?? '').includes('/status');
    rewritten[status ? 'status' : 'kinds']++;
    lines[i + 1] = `${next[1]}${flow(status ? plurals.map((p) => `${p}/status`) : plurals)}`;
  });
  if (rewritten.kinds !== 1 || rewritten.status !== 1)
    throw new Error(
      `${RBAC_TEMPLATE}: expected one dockyard.io rule for the kinds and one for their /status, ` +
        `found ${rewritten.kinds} and ${rewritten.status}`,
    );
  return lines.join('\n');
}
