// A stack's project folder: its inline Compose file, or the keys of its
// ConfigMap (at their own names, or where spec.project.configMapRef.items
// puts them). The folder is written to a private temporary directory the
// Compose loader alone reads, and removed after the load.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { DockerComposeStack } from '../../crds/dockercomposestack.js';
import { loadComposeProject, type LoadedCompose } from '../../compose/project-loader.js';

/** Where the loader sees the project folder; bind sources under it are project files. */
export const PROJECT_DIR = '/project';

/** Path in the project folder → content. */
export type ProjectFiles = Map<string, Buffer>;

/** The inline Compose file is the project's compose.yaml. */
export function inlineFiles(compose: string): ProjectFiles {
  return new Map([['compose.yaml', Buffer.from(compose, 'utf8')]]);
}

/** A ConfigMap's keys as project files (data and binaryData), placed by `items` where listed. */
export function configMapFiles(
  configMap: Pick<V1ConfigMap, 'data' | 'binaryData'>,
  items: ReadonlyArray<{ key: string; path: string }> = [],
): ProjectFiles {
  const placed = new Map(items.map((i) => [i.key, i.path]));
  const files: ProjectFiles = new Map();
  for (const [key, value] of Object.entries(configMap.data ?? {}))
    files.set(placed.get(key) ?? key, Buffer.from(value, 'utf8'));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {}))
    files.set(placed.get(key) ?? key, Buffer.from(value, 'base64'));
  return files;
}

/** Hash of everything a load depends on: the files, the variables, the files list and profiles. */
export function projectHash(stack: DockerComposeStack, files: ProjectFiles): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort())
    hash
      .update(path)
      .update('\0')
      .update(files.get(path) ?? '')
      .update('\0');
  const { files: composeFiles, profiles } = stack.spec.project;
  hash.update(
    JSON.stringify([stack.metadata.name, composeFiles ?? [], profiles ?? [], sortedEntries(stack.spec.env)]),
  );
  return hash.digest('hex').slice(0, 16);
}

const sortedEntries = (map: Record<string, string> | undefined) =>
  Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Loads the project as docker compose would, from a private copy of its folder. */
export async function loadStackProject(
  stack: DockerComposeStack,
  files: ProjectFiles,
): Promise<LoadedCompose> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-stack-'));
  try {
    for (const [path, content] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content, { mode: 0o600 });
    }
    return await loadComposeProject({
      hostDir: dir,
      guestDir: PROJECT_DIR,
      workingDir: PROJECT_DIR,
      configFiles: (stack.spec.project.files ?? []).map((f) => `${PROJECT_DIR}/${f}`),
      profiles: stack.spec.project.profiles ?? [],
      environment: stack.spec.env ?? {},
      // The stack's name is the project's, whatever a `name:` key says (as docker compose -p).
      projectName: stack.metadata.name,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
