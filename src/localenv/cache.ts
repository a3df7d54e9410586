import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Root of everything the local environment builds or downloads once and
 * reuses: control-plane binaries, the Docker data root (which holds the cached
 * node and workload images), generated rootfs trees. It lives outside the repo
 * so a fresh clone on the same machine reuses it; DOCKYARD_CACHE_DIR moves it.
 */
export function cacheDir(...parts: string[]): string {
  const root = process.env.DOCKYARD_CACHE_DIR ?? join(homedir(), '.cache', 'dockyard');
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
