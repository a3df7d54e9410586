import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Hollow Docker hosts (bench/hollow) imitate the Engine for scale benchmarks
// only. Functional tests must keep running against real daemons, and
// production code must never depend on the imitation, so nothing in src/,
// test/integration or test/faults may import it, except the conformance test
// whose job is to compare it with a real daemon.

const ROOT = join(import.meta.dirname, '..');
const SCANNED = ['src', 'test/integration', 'test/faults', 'test/support', 'test/compose'];
const ALLOWED = new Set(['test/integration/hollow-conformance.test.ts']);
/** An import or dynamic import whose specifier reaches bench/hollow. */
const IMPORTS_HOLLOW = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"][^'"]*bench\/hollow(?:\/[^'"]*)?['"]/;

async function sourceFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

export function importsHollow(source: string): boolean {
  return IMPORTS_HOLLOW.test(source);
}

describe('hollow Docker hosts stay out of functional tests and production code', () => {
  it.each([
    ["import { startHollowHost } from '../../bench/hollow/index.js';", true],
    ["const m = await import('../bench/hollow/fleet.js');", true],
    ["import x from 'bench/hollow';", true],
    ["import { startLab } from '../support/lab.js';", false],
    ['// see bench/hollow/README.md', false],
  ])('recognises %s', (line, expected) => {
    expect(importsHollow(line)).toBe(expected);
  });

  it('finds no import of bench/hollow outside the conformance test', async () => {
    const offenders: string[] = [];
    for (const dir of SCANNED)
      for (const file of await sourceFiles(join(ROOT, dir))) {
        const rel = relative(ROOT, file);
        if (ALLOWED.has(rel)) continue;
        if (importsHollow(await readFile(file, 'utf8'))) offenders.push(rel);
      }
    expect(offenders).toEqual([]);
  });

  it('still sees the conformance test import it (the check is not looking at nothing)', async () => {
    const conformance = await readFile(join(ROOT, 'test/integration/hollow-conformance.test.ts'), 'utf8');
    expect(importsHollow(conformance)).toBe(true);
  });
});
