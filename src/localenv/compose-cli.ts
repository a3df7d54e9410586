// The docker compose CLI, the reference implementation the Compose proof
// corpus compares Dockyard's conversion with (`docker compose up -d --wait`
// against a Docker node). Test-only, never shipped. Built like helm (helm.ts):
// from the pinned Go module in tools/compose-cli, once, into a cache entry
// keyed by its go.mod, go.sum and tools.go and the build recipe, so a version
// bump is a new entry and never a stale binary.

import { join } from 'node:path';
import { ensurePinnedGoBinary, requiredVersion, type PinnedGoBinary } from './go-module.js';

const MODULE_DIR_IN_REPO = join('tools', 'compose-cli');
const COMPOSE_MODULE = 'github.com/docker/compose/v5';

const COMPOSE: PinnedGoBinary = {
  dirInRepo: MODULE_DIR_IN_REPO,
  module: COMPOSE_MODULE,
  binary: 'docker-compose',
  pkg: `${COMPOSE_MODULE}/cmd`,
  recipe: 'go build -trimpath CGO_ENABLED=0 -ldflags=-s -w + internal.Version stamp v1',
  ldflags: versionLdflags,
  what: (version) => `docker compose ${version}`,
  expected: '~1 min on 2 cores',
};

/**
 * Returns the path of the docker-compose binary built from tools/compose-cli
 * (about a minute on two cores the first time; later calls cost a stat).
 */
export function ensureComposeCli(log: (msg: string) => void = () => {}): Promise<string> {
  return ensurePinnedGoBinary(COMPOSE, log);
}

/** The docker compose version tools/compose-cli/go.mod requires, e.g. "v5.6.0". */
export function readPinnedComposeVersion(goMod: string): string {
  return requiredVersion(goMod, COMPOSE_MODULE, MODULE_DIR_IN_REPO);
}

/**
 * `-X internal.Version` is what compose's own Makefile stamps: it is what
 * `docker-compose version` prints and the "compose/<version>" User-Agent the
 * daemon sees; a plain `go build` says "dev". The Makefile's `e2e` build tag
 * selects nothing outside compose's tests, so it is left out.
 */
function versionLdflags(version: string): string {
  return ['-s', '-w', `-X ${COMPOSE_MODULE}/internal.Version=${version}`].join(' ');
}

export interface ComposeInvocation {
  /** The path ensureComposeCli returned. */
  binary: string;
  /** The daemon to act on, e.g. `tcp://127.0.0.1:2375` or `unix:///…/docker.sock`. */
  dockerHost: string;
  /** The project name (`-p`): the com.docker.compose.project label and the prefix of every name. */
  projectName: string;
  /** Where relative paths in the files resolve and where `.env` is read (`--project-directory`). */
  projectDir: string;
  /** The Compose files (`-f`), in order. */
  files: readonly string[];
  /** The subcommand and its flags, e.g. `['up', '-d', '--wait']`. */
  args: readonly string[];
  /** The variables interpolation sees: the only ones besides PATH and HOME. */
  env?: Readonly<Record<string, string>>;
  /** Where PATH and HOME come from; process.env unless a test says otherwise. */
  inherit?: NodeJS.ProcessEnv;
}

/**
 * The command line and environment for one docker-compose run, standalone
 * (not as a docker CLI plugin). The environment is built, not inherited: the
 * caller's COMPOSE_FILE, COMPOSE_PROJECT_NAME, COMPOSE_PROFILES, DOCKER_CONTEXT
 * or a docker-CLI plugin marker would silently change what compose does, and
 * every other variable would take part in interpolation. Progress is plain
 * text so a failure's output reads in a test log.
 */
export function composeCommand(inv: ComposeInvocation): {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
} {
  const inherit = inv.inherit ?? process.env;
  const env: NodeJS.ProcessEnv = {};
  if (inherit.PATH !== undefined) env.PATH = inherit.PATH;
  if (inherit.HOME !== undefined) env.HOME = inherit.HOME;
  Object.assign(env, inv.env, { DOCKER_HOST: inv.dockerHost });
  return {
    command: inv.binary,
    args: [
      '--ansi',
      'never',
      '--progress',
      'plain',
      '--project-name',
      inv.projectName,
      '--project-directory',
      inv.projectDir,
      ...inv.files.flatMap((file) => ['--file', file]),
      ...inv.args,
    ],
    env,
    cwd: inv.projectDir,
  };
}
