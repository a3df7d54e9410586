// Where the browser bundle is: dist/dashboard-web at the package root, built
// by `npm run build` (scripts/build-dashboard.ts; dev mode and the tests
// build it on demand). Nothing is loaded from anywhere else.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUNDLE_FILES = ['index.html', 'app.js', 'stream-worker.js', 'app.css'] as const;

/** The package root: the nearest directory above this module with a package.json. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export function bundleDir(root = packageRoot()): string {
  return join(root, 'dist', 'dashboard-web');
}

/** The bundle's directory, or an error that says how to build it. */
export function requireBundle(dir = bundleDir()): string {
  const missing = BUNDLE_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0)
    throw new Error(
      `the dashboard's bundle is not built (${missing.join(', ')} missing in ${dir}): run npm run build`,
    );
  return dir;
}
