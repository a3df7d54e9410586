// The Compose loader (tools/compose-loader: compose-go built for WebAssembly),
// built like helm (helm.ts): once per pinned source into a cache entry keyed by
// a hash of go.mod, go.sum and main.go, then copied to wasm/compose-loader.wasm
// in the repository, where src/compose finds it at run time (from src/ under
// tsx, from dist/, and in the controller image, which copies wasm/).

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPOSE_LOADER_WASM } from '../compose/wasm-path.js';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';
import { buildPinnedGoTool, findModuleDir, requiredVersion, sourceHash } from './go-module.js';

const MODULE_DIR_IN_REPO = join('tools', 'compose-loader');
const COMPOSE_GO_MODULE = 'github.com/compose-spec/compose-go/v2';
const BUILD_RECIPE = 'GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags=-s -w v1';

/**
 * Makes wasm/compose-loader.wasm current for the pinned sources and returns
 * its path: about 15 s the first time on two cores, a stat and a compare after.
 */
export async function ensureComposeLoader(log: (msg: string) => void = () => {}): Promise<string> {
  const moduleDir = findModuleDir(MODULE_DIR_IN_REPO);
  const version = requiredVersion(
    readFileSync(join(moduleDir, 'go.mod'), 'utf8'),
    COMPOSE_GO_MODULE,
    MODULE_DIR_IN_REPO,
  );
  const key = sourceHash(moduleDir, ['go.mod', 'go.sum', 'main.go'], BUILD_RECIPE);
  const entry = cacheDir('wasm', `compose-loader-${version}-${key}`);
  const cached = join(entry, 'compose-loader.wasm');
  await buildOnce({
    target: cached,
    lockPath: join(entry, '.lock'),
    what: `the Compose loader (compose-go ${version})`,
    build: () => build({ moduleDir, entry, version, log }),
    log,
  });
  installIfChanged(cached, COMPOSE_LOADER_WASM);
  return COMPOSE_LOADER_WASM;
}

function installIfChanged(from: string, to: string): void {
  if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) return;
  mkdirSync(dirname(to), { recursive: true });
  // Copy then rename: a reader never sees a half-written module.
  const partial = `${to}.${process.pid}.partial`;
  copyFileSync(from, partial);
  renameSync(partial, to);
}

function build(opts: { moduleDir: string; entry: string; version: string; log: (msg: string) => void }) {
  return buildPinnedGoTool({
    moduleDir: opts.moduleDir,
    entry: opts.entry,
    output: 'compose-loader.wasm',
    pkg: '.',
    ldflags: '-s -w',
    env: { GOOS: 'wasip1', GOARCH: 'wasm' },
    what: `the Compose loader (compose-go ${opts.version} for WebAssembly)`,
    expected: '~15 s',
    log: opts.log,
  });
}
