// Builds the dashboard's browser bundle (dist/dashboard-web) with esbuild:
// one minified ES module from src/dashboard/web/app.ts with lit-html inside,
// its stylesheet and page. `npm run build` builds it for the image; dev mode
// and the browser tests build it when a source is newer than the bundle.

import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILES, bundleDir, packageRoot } from '../dashboard/assets.js';

function newestSource(root: string): number {
  const dirs = [join(root, 'src/dashboard/web'), join(root, 'src/dashboard/views')];
  let newest = 0;
  for (const dir of dirs)
    for (const f of readdirSync(dir)) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  return newest;
}

function oldestOutput(out: string): number {
  const files = BUNDLE_FILES.map((f) => join(out, f));
  if (!files.every((f) => existsSync(f))) return 0;
  return Math.min(...files.map((f) => statSync(f).mtimeMs));
}

export interface BundleResult {
  dir: string;
  built: boolean;
  /** app.js + app.css + index.html, bytes. */
  bytes: number;
}

export async function ensureDashboardBundle(
  opts: { root?: string; force?: boolean } = {},
): Promise<BundleResult> {
  const root = opts.root ?? packageRoot();
  const out = bundleDir(root);
  const stale = opts.force || oldestOutput(out) < newestSource(root);
  if (stale) {
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: {
        app: join(root, 'src/dashboard/web/app.ts'),
        'stream-worker': join(root, 'src/dashboard/web/stream-worker.ts'),
      },
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      outdir: out,
      legalComments: 'none',
      logLevel: 'silent',
    });
    copyFileSync(join(root, 'src/dashboard/web/app.css'), join(out, 'app.css'));
    copyFileSync(join(root, 'src/dashboard/web/index.html'), join(out, 'index.html'));
  }
  const bytes = BUNDLE_FILES.reduce((n, f) => n + statSync(join(out, f)).size, 0);
  return { dir: out, built: stale, bytes };
}
