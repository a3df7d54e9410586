// The helm CLI for the chart tests and scripts/render-manifests.ts, built like
// the control plane binaries (controlplane-binaries.ts): from the pinned Go
// module in tools/helm, once, into a cache entry keyed by a hash of its
// go.mod and go.sum, so a version bump is a new entry and never a stale binary.

import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';
import { run } from './exec.js';
import { findModuleDir, goCommand, requiredVersion, sourceHash } from './go-module.js';

const MODULE_DIR_IN_REPO = join('tools', 'helm');
const HELM_MODULE = 'helm.sh/helm/v4';

/**
 * Part of the cache key besides the pinned sources: changing how we build
 * (flags, stamped variables) must not reuse a binary built the old way.
 */
const BUILD_RECIPE = 'go build -trimpath CGO_ENABLED=0 -ldflags=-s -w + internal/version stamp v1';

/**
 * Returns the path of the helm binary built from tools/helm, building it when
 * the cache has none for the pinned sources (about two minutes on two cores;
 * later calls cost a stat). Parallel callers (test files, `npm run generate`)
 * build it once: the others wait on the cache entry's lock and reuse it.
 */
export async function ensureHelm(log: (msg: string) => void = () => {}): Promise<string> {
  const moduleDir = findModuleDir(MODULE_DIR_IN_REPO);
  const version = readPinnedHelmVersion(readFileSync(join(moduleDir, 'go.mod'), 'utf8'));
  const binDir = cacheDir(
    'bin',
    `helm-${version}-${sourceHash(moduleDir, ['go.mod', 'go.sum', 'tools.go'], BUILD_RECIPE)}`,
  );
  const helm = join(binDir, 'helm');
  await buildOnce({
    target: helm,
    lockPath: join(binDir, '.lock'),
    what: `helm ${version}`,
    build: () => build(moduleDir, binDir, version, log),
    log,
  });
  return helm;
}

/** The helm version tools/helm/go.mod requires, e.g. "v4.3.2". */
export function readPinnedHelmVersion(goMod: string): string {
  return requiredVersion(goMod, HELM_MODULE, MODULE_DIR_IN_REPO);
}

/**
 * helm reports the version stamped at link time (`helm version`, the
 * User-Agent); a plain `go build` would say "v4.3" with "unreleased" metadata.
 * The Kubernetes version it assumes for `helm template` (.Capabilities) comes
 * from the client-go version in the build info, which go.mod pins.
 */
function versionLdflags(version: string): string {
  const pkg = 'helm.sh/helm/v4/internal/version';
  return [
    '-s',
    '-w',
    `-X ${pkg}.version=${version}`,
    `-X ${pkg}.metadata=`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
}

/** Builds into a temporary folder inside the cache entry and renames into place (never a half-written binary). */
async function build(
  moduleDir: string,
  binDir: string,
  version: string,
  log: (msg: string) => void,
): Promise<void> {
  const go = await goCommand('the helm CLI for the chart tests');
  log(`building helm ${version} (first run only, ~2 min on 2 cores)`);
  const tmpDir = mkdtempSync(join(binDir, '.build-'));
  const started = Date.now();
  try {
    await run(
      go,
      [
        'build',
        '-trimpath',
        `-ldflags=${versionLdflags(version)}`,
        '-o',
        join(tmpDir, 'helm'),
        `${HELM_MODULE}/cmd/helm`,
      ],
      // A static binary, as helm's own Makefile builds it.
      { cwd: moduleDir, env: { ...process.env, CGO_ENABLED: '0' } },
    );
    renameSync(join(tmpDir, 'helm'), join(binDir, 'helm'));
    log(`built helm ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
