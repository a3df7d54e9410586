// Runs the Compose loader (compose-go for WebAssembly, see
// tools/compose-loader/main.go) under Node's WASI. The module sees only the
// one directory it is given, mounted at `guestDir`: the CLI gives the file
// system root, the DockerComposeStack controller a temporary folder holding
// the stack's own files, so a stack's compose file can never read the
// controller's service account token or anything else of its pod.

import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComposeProject } from './project-types.js';
import { COMPOSE_LOADER_WASM } from './wasm-path.js';

export interface LoadComposeOptions {
  /** The host directory the loader may read; it sees it as `guestDir`. */
  hostDir: string;
  /** Where hostDir appears inside the loader, e.g. `/` or `/project`. */
  guestDir: string;
  /** Compose's project directory (relative paths resolve against it), a guest path. */
  workingDir: string;
  /** Compose files in merge order, guest paths; empty = compose.yaml etc. in workingDir. */
  configFiles: readonly string[];
  /** --env-file arguments, guest paths; empty = `.env` in workingDir when present. */
  envFiles?: readonly string[];
  profiles?: readonly string[];
  /** Variables for interpolation (the process environment is never passed implicitly). */
  environment?: Readonly<Record<string, string>>;
  projectName: string;
  /** Defaults to wasm/compose-loader.wasm. */
  wasmPath?: string;
}

/** Compose's own message for a file it refuses (bad YAML, a missing required variable, an unknown key…). */
export class ComposeLoadError extends Error {
  override name = 'ComposeLoadError';
}

/** The part of the WebAssembly global this file uses (the ES2024 lib has no WebAssembly types). */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<object>;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** One compile per process (~0.3 s for the 9 MB module); every load instantiates it afresh. */
const compiled = new Map<string, Promise<WasmModule>>();

function compiledModule(path: string): Promise<WasmModule> {
  let module = compiled.get(path);
  if (!module) {
    if (!existsSync(path)) {
      throw new Error(
        `the Compose loader is not built (${path} is missing): run \`npm run build:compose-loader\` (needs Go once)`,
      );
    }
    module = readFile(path).then((bytes) => wasm.compile(bytes));
    compiled.set(path, module);
  }
  return module;
}

export interface LoadedCompose {
  /** The project as `docker compose config --format json` prints it. */
  project: ComposeProject;
  /** Bytes of every config and secret that is not external, keyed `configs/NAME` or `secrets/NAME`. */
  sources: Map<string, Buffer>;
}

/** Loads a Compose project as `docker compose` would. */
export async function loadComposeProject(opts: LoadComposeOptions): Promise<LoadedCompose> {
  const module = await compiledModule(opts.wasmPath ?? COMPOSE_LOADER_WASM);
  const io = mkdtempSync(join(tmpdir(), 'dockyard-compose-'));
  try {
    const { exitCode, stdout, stderr } = await runLoader(module, opts, io);
    if (exitCode !== 0) throw new ComposeLoadError(stderr.trim() || `the Compose loader exited ${exitCode}`);
    const output = JSON.parse(stdout) as { project: ComposeProject; sources: Record<string, string> | null };
    const sources = new Map(
      Object.entries(output.sources ?? {}).map(([key, base64]) => [key, Buffer.from(base64, 'base64')]),
    );
    return { project: output.project, sources };
  } finally {
    rmSync(io, { recursive: true, force: true });
  }
}

/**
 * Node warns that WASI is experimental when node:wasi loads; the CLI's users have
 * nothing to do about it, so that one warning is not printed.
 */
async function quietly<T>(create: () => Promise<T>): Promise<T> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('WASI'))
      (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await create();
  } finally {
    process.emitWarning = emitWarning;
  }
}

let wasiModule: Promise<typeof import('node:wasi')> | undefined;

/** node:wasi, imported on first use (it warns when it loads). */
function loadWasi(): Promise<typeof import('node:wasi')> {
  wasiModule ??= quietly(() => import('node:wasi'));
  return wasiModule;
}

async function runLoader(
  module: WasmModule,
  opts: LoadComposeOptions,
  io: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const request = {
    projectName: opts.projectName,
    workingDir: opts.workingDir,
    configFiles: opts.configFiles,
    envFiles: opts.envFiles ?? [],
    profiles: opts.profiles ?? [],
    environment: opts.environment ?? {},
  };
  const paths = { stdin: join(io, 'request.json'), stdout: join(io, 'stdout'), stderr: join(io, 'stderr') };
  writeFileSync(paths.stdin, JSON.stringify(request));
  const fds = {
    stdin: openSync(paths.stdin, 'r'),
    stdout: openSync(paths.stdout, 'w'),
    stderr: openSync(paths.stderr, 'w'),
  };
  try {
    const { WASI } = await loadWasi();
    const wasi = new WASI({
      version: 'preview1',
      args: ['compose-loader'],
      env: { PWD: opts.workingDir },
      preopens: { [opts.guestDir]: opts.hostDir },
      returnOnExit: true,
      ...fds,
    });
    const instance = await wasm.instantiate(module, wasi.getImportObject());
    const exitCode = wasi.start(instance);
    return {
      exitCode,
      stdout: readFileSync(paths.stdout, 'utf8'),
      stderr: readFileSync(paths.stderr, 'utf8'),
    };
  } finally {
    for (const fd of Object.values(fds)) closeSync(fd);
  }
}
