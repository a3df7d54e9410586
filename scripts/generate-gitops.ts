// Writes gitops/argocd/argocd-cm-patch.yaml: the Argo CD health checks in
// gitops/argocd/health/<kind>.lua, one `resource.customizations.health.*` key
// per kind, as a patch for the argocd-cm ConfigMap.
// Usage: npx tsx scripts/generate-gitops.ts
// gitops/argocd-health.test.ts fails when the committed patch differs from
// what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { Document } from 'yaml';
import { MANAGED_KINDS } from '../src/controllers/kinds.js';
import { ALL_KINDS, GROUP } from '../src/crds/index.js';

export const HEALTH_DIR = 'gitops/argocd/health';
export const ARGOCD_CM_PATCH = 'gitops/argocd/argocd-cm-patch.yaml';

/**
 * Kinds whose health is the managed reconciler's summary alone share one
 * script (Argo CD needs a self-contained script per kind, so argocd-cm gets a
 * copy for each; the repository keeps one).
 */
const PLACED_OBJECT_KINDS = new Set(
  MANAGED_KINDS.filter((k) => k.health === 'placed-object').map((k) => k.definition.kind),
);

/** The health script of each kind, e.g. DockerHost → gitops/argocd/health/dockerhost.lua. */
export function healthScriptPath(kind: string): string {
  return join(HEALTH_DIR, PLACED_OBJECT_KINDS.has(kind) ? 'placed-object.lua' : `${kind.toLowerCase()}.lua`);
}

/** argocd-cm key for a kind's health check: resource.customizations.health.<group>_<kind>. */
export function healthKey(kind: string): string {
  return `resource.customizations.health.${GROUP}_${kind}`;
}

/** Kind → Lua source, for every Dockyard kind; a kind without a script is an error. */
export function readHealthScripts(): Map<string, string> {
  const scripts = new Map<string, string>();
  for (const def of ALL_KINDS) {
    const path = healthScriptPath(def.kind);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`${path} is missing: every Dockyard kind needs an Argo CD health check`);
    }
    scripts.set(def.kind, text);
  }
  return scripts;
}

const HEADER = [
  `Generated from ${HEALTH_DIR}/*.lua by scripts/generate-gitops.ts; do not edit.`,
  'Argo CD health checks for the Dockyard kinds. Merge them into argocd-cm:',
  '  kubectl -n argocd patch configmap argocd-cm --patch-file gitops/argocd/argocd-cm-patch.yaml',
  "or put the data keys under `configs.cm` of the argo-cd Helm chart's values.",
];

/** The argocd-cm patch, formatted as `prettier --check` expects it. */
export async function renderArgoCdPatch(scripts: ReadonlyMap<string, string>): Promise<string> {
  const data: Record<string, string> = {};
  for (const [kind, lua] of scripts) data[healthKey(kind)] = lua.endsWith('\n') ? lua : `${lua}\n`;
  const doc = new Document({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'argocd-cm',
      namespace: 'argocd',
      labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
    },
    data,
  });
  doc.commentBefore = HEADER.map((line) => ` ${line}`).join('\n');
  const text = doc.toString({ lineWidth: 0, blockQuote: 'literal' });
  const options = (await resolveConfig(ARGOCD_CM_PATCH)) ?? {};
  return format(text, { ...options, filepath: ARGOCD_CM_PATCH });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scripts = readHealthScripts();
  writeFileSync(ARGOCD_CM_PATCH, await renderArgoCdPatch(scripts));
  console.log(`wrote ${ARGOCD_CM_PATCH} with ${scripts.size} health checks`);
}
