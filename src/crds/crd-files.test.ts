import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAllCrds } from './crd-yaml.js';
import { ALL_KINDS } from './index.js';

// The committed CRD YAML must be exactly what the types generate; run
// `npm run generate` after changing anything under src/crds.
describe('committed CRD files', () => {
  const expected = renderAllCrds(ALL_KINDS);
  for (const dir of ['manifests/crds', 'charts/dockyard/crds']) {
    for (const [file, text] of expected) {
      it(`${dir}/${file} is current`, () => {
        let committed: string;
        try {
          committed = readFileSync(join(dir, file), 'utf8');
        } catch {
          throw new Error(`${dir}/${file} is missing: run npm run generate`);
        }
        expect(committed, `${dir}/${file} is stale: run npm run generate`).toBe(text);
      });
    }
  }
});
