// What the Go tools the local environment builds (control-plane binaries,
// helm) share: the pinned module folder in the repository, the versions its
// go.mod requires, a cache key over the files that decide the build, and the
// Go toolchain.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from './exec.js';

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
