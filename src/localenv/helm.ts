// The helm CLI for the chart tests and scripts/render-manifests.ts, built like
// the control plane binaries (controlplane-binaries.ts): from the pinned Go
// module in tools/helm, once, into a cache entry keyed by a hash of its
// go.mod and go.sum, so a version bump is a new entry and never a stale binary.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';
import { buildPinnedGoTool, findModuleDir, requiredVersion, sourceHash } from './go-module.js';

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

function build(
  moduleDir: string,
  binDir: string,
  version: string,
  log: (msg: string) => void,
): Promise<void> {
  return buildPinnedGoTool({
    moduleDir,
    entry: binDir,
    output: 'helm',
    pkg: `${HELM_MODULE}/cmd/helm`,
    ldflags: versionLdflags(version),
    what: `helm ${version}`,
    expected: '~2 min on 2 cores',
    log,
  });
}
