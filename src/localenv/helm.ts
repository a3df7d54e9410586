// The helm CLI for the chart tests and scripts/render-manifests.ts, built like
// the control plane binaries (controlplane-binaries.ts): from the pinned Go
// module in tools/helm, once, into a cache entry keyed by a hash of its
// go.mod and go.sum, so a version bump is a new entry and never a stale binary.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';
import { onPath, run } from './exec.js';

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
  const moduleDir = findModuleDir();
  const version = readPinnedHelmVersion(readFileSync(join(moduleDir, 'go.mod'), 'utf8'));
  const binDir = cacheDir('bin', `helm-${version}-${sourceHash(moduleDir)}`);
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
  const escaped = HELM_MODULE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${MODULE_DIR_IN_REPO}/go.mod does not require ${HELM_MODULE}`);
  return match[1];
}

function sourceHash(moduleDir: string): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'tools.go']) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(moduleDir, file)))
      .update('\0');
  }
  hash.update(BUILD_RECIPE);
  return hash.digest('hex').slice(0, 12);
}

/** Walks up from this file to the repo root, so it works from src/ and from any build output. */
function findModuleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, MODULE_DIR_IN_REPO);
    if (existsSync(join(candidate, 'go.mod'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${MODULE_DIR_IN_REPO}/go.mod above ${import.meta.url}`);
    dir = parent;
  }
}

async function goCommand(): Promise<string> {
  if (await onPath('go')) return 'go';
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error(
    'the Go toolchain is needed once to build the helm CLI for the chart tests, ' +
      'but `go` is not on PATH (install Go ≥ 1.26 from https://go.dev/dl or apt, then retry)',
  );
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
  const go = await goCommand();
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
