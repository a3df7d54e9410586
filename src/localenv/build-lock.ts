// One build at a time per cache entry, across processes. Parallel test files,
// `npm run generate` and a dev run can all find a cached tool missing at once;
// without a lock each starts the same multi-minute `go build` (on two cores
// that slows every one of them down) and they race to rename into place.
// The builds themselves still write to a temporary path and rename, so the
// lock only saves the duplicate work: a lock taken over wrongly costs time,
// never a broken binary.
//
// The lock is a file created with O_EXCL holding the holder's pid. A holder
// that died (SIGKILL, a closed terminal) leaves it behind; the next process
// sees the pid is gone and takes it over.

import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/** A lock file with no pid in it yet: its creator is between open and write, unless it is this old. */
const UNWRITTEN_GRACE_MS = 10_000;
/** A cold helm build took 800 s on a loaded two-core machine: wait well beyond that before giving up. */
const DEFAULT_TIMEOUT_MS = 45 * 60_000;
const DEFAULT_POLL_MS = 1_000;

export type LockState = 'held' | 'stale';

/** Pure: whether a lock file found in place still guards a build in progress. */
export function lockState(
  found: { content: string; ageMs: number },
  isAlive: (pid: number) => boolean,
): LockState {
  const pid = Number.parseInt(found.content.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return found.ageMs > UNWRITTEN_GRACE_MS ? 'stale' : 'held';
  return isAlive(pid) ? 'held' : 'stale';
}

/** Signal 0 checks existence only; EPERM means it exists under another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface BuildOnceOptions {
  /** The file or files the build produces; all present means built. */
  target: string | readonly string[];
  /** The lock file, next to the target (same cache entry). */
  lockPath: string;
  /** For messages, e.g. "helm v4.3.2". */
  what: string;
  /** Builds `target` (writing elsewhere and renaming into place). */
  build: () => Promise<void>;
  log?: (msg: string) => void;
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Builds `target` unless it exists, holding the lock while building. A
 * process that waited for another's build finds the target there and
 * returns without building.
 */
export async function buildOnce(opts: BuildOnceOptions): Promise<void> {
  const built = () => [opts.target].flat().every((file) => existsSync(file));
  if (built()) return;
  await acquire(opts);
  try {
    if (built()) return;
    await opts.build();
  } finally {
    release(opts.lockPath);
  }
}

function readLock(lockPath: string): { content: string; ageMs: number } | undefined {
  try {
    const ageMs = Date.now() - statSync(lockPath).mtimeMs;
    return { content: readFileSync(lockPath, 'utf8'), ageMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
    throw err;
  }
}

async function acquire(opts: BuildOnceOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let told = false;
  for (;;) {
    try {
      writeFileSync(opts.lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const found = readLock(opts.lockPath);
    if (!found) continue;
    if (lockState(found, pidAlive) === 'stale') {
      opts.log?.(`taking over the lock ${opts.lockPath} left by pid ${found.content.trim() || '?'}`);
      rmSync(opts.lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for pid ${found.content.trim()} to finish building ${opts.what} ` +
          `(lock ${opts.lockPath}; remove it if no such build runs)`,
      );
    if (!told) opts.log?.(`waiting for pid ${found.content.trim()}, which is building ${opts.what}`);
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? DEFAULT_POLL_MS));
  }
}

function release(lockPath: string): void {
  const found = readLock(lockPath);
  if (found && Number.parseInt(found.content.trim(), 10) === process.pid) rmSync(lockPath, { force: true });
}
