// Writes gitops/argocd/argocd-cm-patch.yaml: the Argo CD health checks in
// gitops/argocd/health/<kind>.lua, one `resource.customizations.health.*` key
// per kind, as a patch for the argocd-cm ConfigMap. First it rewrites the
// reason tables in those scripts from src/crds/reasons.ts. The helpers every
// script shares live in gitops/argocd/health/common.lua, written in place of a
// script's `-- #include common.lua` line (Argo CD wants each self-contained).
// Usage: npx tsx scripts/generate-gitops.ts
//        npx tsx scripts/generate-gitops.ts --print DockerService   (one composed script, e.g. for harness.lua)
// gitops/argocd-health.test.ts fails when the committed patch or a script's
// reason table differs from what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { Document } from 'yaml';
import { MANAGED_KINDS } from '../src/controllers/kinds.js';
import { ALL_KINDS, GROUP } from '../src/crds/index.js';
import {
  FAILED_PHASES,
  ROLLOUT_FAILED_REASONS,
  SUSPENDED_REASONS,
  WAITING_REASONS,
} from '../src/crds/reasons.js';

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

/** The line a kind's script puts where common.lua's helpers go. */
export const COMMON_INCLUDE = '-- #include common.lua';
const COMMON_PATH = join(HEALTH_DIR, 'common.lua');

/** The script as Argo CD runs it: common.lua written in place of its include line (exactly one). */
export function composeHealthScript(lua: string, common = readFileSync(COMMON_PATH, 'utf8')): string {
  const lines = lua.split('\n');
  const at = lines.filter((line) => line === COMMON_INCLUDE).length;
  if (at !== 1) throw new Error(`a health script needs the line "${COMMON_INCLUDE}" once, found ${at}`);
  return lines.map((line) => (line === COMMON_INCLUDE ? common.trimEnd() : line)).join('\n');
}

/** Kind → self-contained Lua source, for every Dockyard kind; a kind without a script is an error. */
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
    scripts.set(def.kind, composeHealthScript(text));
  }
  return scripts;
}

/**
 * The Lua tables the health checks take from src/crds/reasons.ts, by name.
 * A script that declares `local <NAME> = { … }` gets the table's contents
 * written by withReasonTables; the scripts keep the comment saying why.
 */
export const REASON_TABLES: Readonly<Record<string, readonly string[]>> = {
  WAITING_REASONS,
  FAILED_PHASES,
  ROLLOUT_FAILED_REASONS,
  SUSPENDED_REASONS,
};

/** A one-level Lua table constructor on lines of its own: `local NAME = { … }`. */
const LUA_TABLE = /^local ([A-Z][A-Z_]*) = \{[^{}]*\}$/gm;

/**
 * The script with each REASON_TABLES table it declares rewritten as a set
 * (`{ Reason = true, … }`, what a Lua lookup by reason wants). A hand-written
 * *_REASONS or *_PHASES table is an error: it would drift from the module.
 */
export function withReasonTables(lua: string): string {
  return lua.replace(LUA_TABLE, (table, name: string) => {
    const values = REASON_TABLES[name];
    if (values) return [`local ${name} = {`, ...values.map((v) => `  ${v} = true,`), '}'].join('\n');
    if (/_(REASONS|PHASES)$/.test(name))
      throw new Error(
        `local ${name} is a reason list not taken from src/crds/reasons.ts: add it to REASON_TABLES`,
      );
    return table;
  });
}

/** Rewrites the reason tables of every health script; returns the scripts it changed. */
export function writeReasonTables(): string[] {
  const paths = [...new Set(ALL_KINDS.map((def) => healthScriptPath(def.kind)))];
  return paths.filter((path) => {
    const lua = readFileSync(path, 'utf8');
    const next = withReasonTables(lua);
    if (next !== lua) writeFileSync(path, next);
    return next !== lua;
  });
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

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === '--print'
) {
  const script = readHealthScripts().get(process.argv[3] ?? '');
  if (script === undefined)
    throw new Error(`--print KIND: one of ${ALL_KINDS.map((d) => d.kind).join(', ')}`);
  process.stdout.write(script);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const path of writeReasonTables()) console.log(`wrote the reason tables of ${path}`);
  const scripts = readHealthScripts();
  writeFileSync(ARGOCD_CM_PATCH, await renderArgoCdPatch(scripts));
  console.log(`wrote ${ARGOCD_CM_PATCH} with ${scripts.size} health checks`);
}
