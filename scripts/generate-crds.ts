// Writes the CRD YAML generated from src/crds into manifests/crds and
// charts/dockyard/crds, and the kinds the chart's RBAC grants on
// (scripts/rbac-kinds.ts). `npm run generate`; src/crds/crd-files.test.ts and
// scripts/chart-rbac.test.ts fail when the committed files differ from what
// this would write.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_KINDS } from '../src/crds/index.js';
import { renderAllCrds } from '../src/crds/crd-yaml.js';
import { RBAC_TEMPLATE, withKindResources } from './rbac-kinds.js';

export const CRD_DIRS = ['manifests/crds', 'charts/dockyard/crds'];

const files = renderAllCrds(ALL_KINDS);
for (const dir of CRD_DIRS) {
  mkdirSync(dir, { recursive: true });
  for (const stale of readdirSync(dir))
    if (!files.has(stale) && stale.endsWith('.yaml')) rmSync(join(dir, stale));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
}
console.log(`wrote ${files.size} CRDs into ${CRD_DIRS.join(' and ')}`);
writeFileSync(RBAC_TEMPLATE, withKindResources(readFileSync(RBAC_TEMPLATE, 'utf8')));
console.log(`wrote the kinds ${RBAC_TEMPLATE} grants on`);
