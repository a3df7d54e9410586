// What the Go tools the local environment builds (control-plane binaries,
// helm, docker compose, the Compose loader) share: the pinned module folder in the repository, the versions its
// go.mod requires, a cache key over the files that decide the build, and the
// Go toolchain.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath, run } from './exec.js';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';

/** The version `go.mod` requires for `modulePath`; `dirInRepo` names the module folder in errors. */
export function requiredVersion(goMod: string, modulePath: string, dirInRepo: string): string {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${dirInRepo}/go.mod does not require ${modulePath}`);
  return match[1];
}

/**
 * Short hash of everything that decides what the binaries contain: the
 * module's `files` and the build `recipe` (flags, stamped variables), so a
 * change of either is a new cache entry, never a stale binary.
 */
export function sourceHash(moduleDir: string, files: readonly string[], recipe: string): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(moduleDir, file)))
      .update('\0');
  }
  hash.update(recipe);
  return hash.digest('hex').slice(0, 12);
}

/** Walks up from this file to the repo root, so it works from src/ and from any build output. */
export function findModuleDir(dirInRepo: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, dirInRepo);
    if (existsSync(join(candidate, 'go.mod'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${dirInRepo}/go.mod above ${import.meta.url}`);
    dir = parent;
  }
}

/** The `go` command; `purpose` says in the error what it is needed for. */
export async function goCommand(purpose: string): Promise<string> {
  if (await onPath('go')) return 'go';
  // The official tarball's location; npm scripts do not always carry a login PATH.
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error(
    `the Go toolchain is needed once to build ${purpose}, ` +
      'but `go` is not on PATH (install Go ≥ 1.26 from https://go.dev/dl or apt, then retry)',
  );
}

export interface PinnedGoBuild {
  /** The module folder (findModuleDir). */
  moduleDir: string;
  /** The cache entry the output goes into. */
  entry: string;
  /** File name of the output inside the entry. */
  output: string;
  /** What to build: a package path, or `.` for the module's own main package. */
  pkg: string;
  ldflags: string;
  /** Extra environment (GOOS, GOARCH…); CGO_ENABLED=0 always: static outputs, as the projects release them. */
  env?: Record<string, string>;
  /** For the Go-missing error and the log lines, e.g. "helm v4.3.2". */
  what: string;
  /** How long it takes the first time, for the log line, e.g. "~2 min on 2 cores". */
  expected: string;
  log: (msg: string) => void;
}

/**
 * `go build -trimpath` of a pinned tool into a temporary folder inside its
 * cache entry, renamed into place once complete (never a half-written
 * binary). Run under buildOnce, which serialises parallel callers.
 */
export async function buildPinnedGoTool(b: PinnedGoBuild): Promise<void> {
  const go = await goCommand(b.what);
  b.log(`building ${b.what} (first run only, ${b.expected})`);
  const tmpDir = mkdtempSync(join(b.entry, '.build-'));
  const started = Date.now();
  try {
    await run(go, ['build', '-trimpath', `-ldflags=${b.ldflags}`, '-o', join(tmpDir, b.output), b.pkg], {
      cwd: b.moduleDir,
      env: { ...process.env, ...b.env, CGO_ENABLED: '0' },
    });
    renameSync(join(tmpDir, b.output), join(b.entry, b.output));
    b.log(`built ${b.what} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** A command-line tool built from a pinned Go module in tools/<name> (helm, docker compose, cosign). */
export interface PinnedGoBinary {
  /** The module folder in the repository, e.g. `tools/helm`. */
  dirInRepo: string;
  /** The Go module whose version the folder's go.mod pins, e.g. `helm.sh/helm/v4`. */
  module: string;
  /** The binary's file name, also the cache entry's prefix. */
  binary: string;
  /** The main package, e.g. `helm.sh/helm/v4/cmd/helm`. */
  pkg: string;
  /**
   * Part of the cache key besides the pinned sources: changing how we build
   * (flags, stamped variables) must not reuse a binary built the old way.
   */
  recipe: string;
  /** The link flags for a version: each project's own version stamp. */
  ldflags(version: string): string;
  /** For log lines, e.g. "helm v4.3.2". */
  what(version: string): string;
  /** How long the first build takes, e.g. "~2 min on 2 cores". */
  expected: string;
}

/**
 * The path of the tool's binary, built into a cache entry keyed by its
 * go.mod, go.sum and tools.go and the recipe when the cache has none (a
 * version bump is a new entry, never a stale binary; later calls cost a
 * stat). Parallel callers build it once: the others wait on the entry's lock.
 */
export async function ensurePinnedGoBinary(
  tool: PinnedGoBinary,
  log: (msg: string) => void = () => {},
): Promise<string> {
  const moduleDir = findModuleDir(tool.dirInRepo);
  const version = requiredVersion(
    readFileSync(join(moduleDir, 'go.mod'), 'utf8'),
    tool.module,
    tool.dirInRepo,
  );
  const entry = cacheDir(
    'bin',
    `${tool.binary}-${version}-${sourceHash(moduleDir, ['go.mod', 'go.sum', 'tools.go'], tool.recipe)}`,
  );
  const target = join(entry, tool.binary);
  await buildOnce({
    target,
    lockPath: join(entry, '.lock'),
    what: tool.what(version),
    build: () =>
      buildPinnedGoTool({
        moduleDir,
        entry,
        output: tool.binary,
        pkg: tool.pkg,
        ldflags: tool.ldflags(version),
        what: tool.what(version),
        expected: tool.expected,
        log,
      }),
    log,
  });
  return target;
}
