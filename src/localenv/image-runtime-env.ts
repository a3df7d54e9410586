import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url));
/** The Dockerfile's ENV lines this reads; only the runtime ones, not the build stage's npm settings. */
const RUNTIME_SETTINGS = ['MALLOC_ARENA_MAX', 'NODE_OPTIONS'];

/**
 * The controller image's memory-related runtime settings (`NAME=value`),
 * read from the Dockerfile itself so the benchmark runs the controller the
 * way the image does and the two cannot drift apart.
 */
export function imageRuntimeEnv(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const found: string[] = [];
  for (const line of joined.split('\n')) {
    if (!line.startsWith('ENV ')) continue;
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const [name] = pair.split('=', 1);
      if (name && RUNTIME_SETTINGS.includes(name)) found.push(pair);
    }
  }
  return found;
}
