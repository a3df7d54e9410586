// The controller's container image, built here where no registry can be
// reached. The project's Dockerfile expects a Debian image with Node 26 and
// npm (node:26-bookworm-slim on a connected machine); this file builds a local
// stand-in for it from the same pieces the rest of the environment trusts
// (Debian via debootstrap, the project's own Node binary, npm pinned by
// integrity), then runs the real `docker build` on top of it. Only BASE_IMAGE
// differs between here and a connected machine: the Dockerfile is the same.

import { ensureComposeLoader } from './compose-loader.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { cacheDir } from './cache.js';
import { run } from './exec.js';
import { buildDebootstrapImage, inspectImage, RECIPE_LABEL, recipeHash } from './images.js';

type Log = (m: string) => void;

/** What buildControllerImage tags by default. */
export const CONTROLLER_IMAGE = 'dockyard.local/dockyard:dev';
export const NODE_BASE_REPO = 'dockyard.local/node-base';

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * What the local base is made of. Change anything here (or the project's Node
 * version) and the tag changes, so the next run builds a new base.
 */
export const NODE_BASE_RECIPE = {
  version: 1,
  suite: 'bookworm',
  variant: 'minbase',
  // ca-certificates as in the official slim image (npm's registry is https);
  // libatomic1 because the Node 26 binary links libatomic.so.1, which minbase lacks.
  include: ['ca-certificates', 'libatomic1'],
  // npm for the Dockerfile's build stage. The `node` npm package ships only
  // the Node binary, so npm comes from its registry tarball, checked against
  // this integrity (the lockfile's format) like every other dependency.
  npm: {
    version: '11.19.1',
    integrity:
      'sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==',
  },
  // Emptied after debootstrap (except `keep`), as Debian's slim images leave
  // them out; `dir/*` means each directory in `dir`.
  slim: [
    { dir: 'usr/share/man', keep: [] },
    { dir: 'usr/share/info', keep: [] },
    { dir: 'usr/share/locale', keep: ['locale.alias'] },
    { dir: 'usr/share/doc/*', keep: ['copyright'] },
    { dir: 'var/cache/apt', keep: ['archives'] },
    { dir: 'var/cache/apt/archives', keep: ['partial', 'lock'] },
    { dir: 'var/lib/apt/lists', keep: ['partial', 'lock'] },
    { dir: 'var/log', keep: ['apt'] },
    { dir: 'var/log/apt', keep: [] },
  ],
};

/**
 * The machine's CA bundle. Certificates it holds beyond Debian's (a proxy's or
 * a company's CA, e.g. one that inspects egress TLS) are added to the base, and
 * npm there is told to use the system bundle, so the build stage reaches the
 * npm registry wherever the host does.
 */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const BASE_NPMRC = 'usr/local/etc/npmrc';

/** The repository root: where the Dockerfile and .dockerignore live. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** `dockyard.local/node-base:26-<hash>`: the major version, like node:26-…, plus the recipe. */
export function nodeBaseImageName(nodeVersion: string, hash: string): string {
  const major = /^v?(\d+)\./.exec(nodeVersion)?.[1];
  if (!major) throw new Error(`not a Node.js version: ${nodeVersion}`);
  return `${NODE_BASE_REPO}:${major}-${hash}`;
}

/** Image config for the imported rootfs, as node:26-bookworm-slim has it (minus its entrypoint script). */
export function nodeBaseChanges(nodeVersion: string, hash: string): string[] {
  return [
    `ENV PATH=${BASE_PATH}`,
    `ENV NODE_VERSION=${nodeVersion.replace(/^v/, '')}`,
    'CMD ["node"]',
    `LABEL ${RECIPE_LABEL}=${hash}`,
  ];
}

/** Subresource Integrity string, the form package-lock.json and the npm registry use. */
export function integrityOf(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** PEM certificates in `hostBundle` that `baseBundle` lacks, in order, compared by content. */
export function extraCertificates(hostBundle: string, baseBundle: string): string[] {
  const key = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
  const known = new Set((baseBundle.match(PEM_CERTIFICATE) ?? []).map(key));
  const extra = new Map<string, string>();
  for (const pem of hostBundle.match(PEM_CERTIFICATE) ?? []) {
    if (!known.has(key(pem))) extra.set(key(pem), pem.replace(/\r/g, '').trim() + '\n');
  }
  return [...extra.values()];
}

/** The project's Node: the real file behind node_modules/node/bin/node, and its version. */
async function projectNode(): Promise<{ path: string; version: string }> {
  const pkg = createRequire(import.meta.url).resolve('node/package.json');
  const path = realpathSync(join(dirname(pkg), 'bin', 'node'));
  const { stdout } = await run(path, ['-p', 'process.versions.node']);
  return { path, version: stdout.trim() };
}

/**
 * Builds `dockyard.local/node-base:26-<hash>` when missing: debootstrap
 * minbase bookworm (+ ca-certificates, libatomic1), the project's Node binary
 * as /usr/local/bin/node, npm in /usr/local/lib/node_modules/npm with the
 * usual links, the CAs this machine trusts beyond Debian's, then `docker
 * import`. The image in the daemon is the cache; downloaded .debs and the npm
 * tarball stay in the cache directory too.
 */
export async function ensureNodeBaseImage(docker: Dockerode, log: Log = () => {}): Promise<string> {
  const node = await projectNode();
  const hostBundle = existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE, 'utf8') : '';
  const hash = recipeHash({
    ...NODE_BASE_RECIPE,
    node: node.version,
    hostCaBundle: createHash('sha256').update(hostBundle).digest('hex'),
  });
  const image = nodeBaseImageName(node.version, hash);
  if (await inspectImage(docker, image)) return image;

  const npmTarball = await ensureNpmTarball(log);
  await buildDebootstrapImage(docker, {
    image,
    recipe: NODE_BASE_RECIPE,
    buildDirPrefix: 'node-base',
    customise: async (dir) => {
      await installNode(dir, node.path);
      await installNpm(dir, npmTarball);
      await trustHostCertificates(dir, hostBundle, log);
      await verifyRootfs(dir, node.version);
      await slimRootfs(dir);
    },
    changes: nodeBaseChanges(node.version, hash),
    note: `, Node ${node.version}`,
    log,
  });
  await removeOtherTags(docker, NODE_BASE_REPO, image, log);
  return image;
}

/** `npm pack npm@VERSION` into the cache once (a registry download), checked against the pinned integrity. */
async function ensureNpmTarball(log: Log): Promise<string> {
  const { version, integrity } = NODE_BASE_RECIPE.npm;
  const dir = cacheDir('images', 'npm');
  const tarball = join(dir, `npm-${version}.tgz`);
  if (!existsSync(tarball)) {
    log(`downloading npm ${version} from the npm registry`);
    await run('npm', ['pack', `npm@${version}`, '--pack-destination', dir, '--silent'], {
      cwd: dir,
      timeoutMs: 5 * 60_000,
    });
  }
  const actual = integrityOf(await readFile(tarball));
  if (actual !== integrity) {
    await rm(tarball, { force: true });
    throw new Error(`npm ${version} tarball ${tarball}: integrity ${actual}, expected ${integrity}`);
  }
  return tarball;
}

async function installNode(dir: string, nodePath: string): Promise<void> {
  const target = join(dir, 'usr/local/bin/node');
  await mkdir(dirname(target), { recursive: true });
  await copyFile(nodePath, target);
  await chmod(target, 0o755);
}

/** The layout of the official Node images: npm's package under lib, links in bin. */
async function installNpm(dir: string, tarball: string): Promise<void> {
  const target = join(dir, 'usr/local/lib/node_modules/npm');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1', '--no-same-owner']);
  for (const [link, script] of [
    ['npm', 'npm-cli.js'],
    ['npx', 'npx-cli.js'],
  ] as const) {
    await symlink(`../lib/node_modules/npm/bin/${script}`, join(dir, 'usr/local/bin', link));
  }
}

/** Adds the host's extra CAs the Debian way (local certificates + update-ca-certificates) and points npm at them. */
async function trustHostCertificates(dir: string, hostBundle: string, log: Log): Promise<void> {
  const baseBundle = readFileSync(join(dir, HOST_CA_BUNDLE), 'utf8');
  const extra = extraCertificates(hostBundle, baseBundle);
  if (extra.length === 0) return;
  log(`adding the ${extra.length} CA certificates this machine trusts beyond Debian's to the base`);
  const local = join(dir, 'usr/local/share/ca-certificates');
  await mkdir(local, { recursive: true });
  for (const [i, pem] of extra.entries()) await writeFile(join(local, `dockyard-host-${i + 1}.crt`), pem);
  await run('chroot', [dir, 'update-ca-certificates'], { env: { PATH: BASE_PATH } });
  // Node has its own roots; npm reads its global config from <prefix>/etc/npmrc.
  await mkdir(dirname(join(dir, BASE_NPMRC)), { recursive: true });
  await writeFile(join(dir, BASE_NPMRC), `cafile=${HOST_CA_BUNDLE}\n`);
}

/** Node and npm run inside the rootfs (catches a shared library the binary needs but minbase lacks). */
async function verifyRootfs(dir: string, nodeVersion: string): Promise<void> {
  const env = { PATH: BASE_PATH, HOME: '/root' };
  const { stdout: nodeOut } = await run('chroot', [dir, 'node', '-p', 'process.versions.node'], { env });
  if (nodeOut.trim() !== nodeVersion)
    throw new Error(`node in the base rootfs reports ${nodeOut.trim()}, expected ${nodeVersion}`);
  const { stdout: npmOut } = await run('chroot', [dir, 'npm', '--version'], { env });
  if (npmOut.trim() !== NODE_BASE_RECIPE.npm.version)
    throw new Error(`npm in the base rootfs reports ${npmOut.trim()}`);
  await rm(join(dir, 'root/.npm'), { recursive: true, force: true });
}

async function slimRootfs(dir: string): Promise<void> {
  for (const { dir: sub, keep } of NODE_BASE_RECIPE.slim) {
    const each = sub.endsWith('/*');
    const path = join(dir, each ? sub.slice(0, -2) : sub);
    if (!existsSync(path)) continue;
    const targets = each
      ? readdirSync(path, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(path, e.name))
      : [path];
    for (const target of targets) {
      for (const name of readdirSync(target))
        if (!keep.includes(name)) await rm(join(target, name), { recursive: true, force: true });
    }
  }
  // Containers get their hostname and resolver from Docker; keep the builder's out of the image.
  await writeFile(join(dir, 'etc/hostname'), 'localhost\n');
  await writeFile(join(dir, 'etc/resolv.conf'), '');
}

/** Bases of older recipes: removed when nothing uses them any more (Docker refuses otherwise). */
async function removeOtherTags(docker: Dockerode, repo: string, keep: string, log: Log): Promise<void> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [repo] }) });
  for (const tag of images.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== keep)) {
    await docker
      .getImage(tag)
      .remove()
      .then(() => log(`removed ${tag} (an older recipe)`))
      .catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// The controller image: the project's Dockerfile, built by the daemon.

export interface BuildControllerImageOptions {
  /** The Dockerfile's BASE_IMAGE: here, ensureNodeBaseImage's result. */
  baseImage: string;
  /** Default CONTROLLER_IMAGE. */
  tag?: string;
  /** Directory holding the Dockerfile and .dockerignore; default the repository root. */
  contextDir?: string;
  /** DOCKER_HOST for the CLI; default the address `docker` talks to, then $DOCKER_HOST. */
  dockerHost?: string;
  log?: Log;
}

/** `docker build` argv. --force-rm: a failed step's container is removed too, so none leaks. */
export function dockerBuildArgs(opts: {
  tag: string;
  contextDir: string;
  buildArgs: Record<string, string>;
}): string[] {
  const buildArgs = Object.entries(opts.buildArgs)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
  return ['build', '--force-rm', '--tag', opts.tag, ...buildArgs, opts.contextDir];
}

/** The DOCKER_HOST a dockerode client talks to (its modem's options); undefined for TLS or unknown. */
export function dockerHostOf(modem: {
  socketPath?: unknown;
  host?: unknown;
  port?: unknown;
  protocol?: unknown;
}): string | undefined {
  if (typeof modem.socketPath === 'string' && modem.socketPath) return `unix://${modem.socketPath}`;
  if (typeof modem.host === 'string' && modem.host && modem.protocol !== 'https') {
    return `tcp://${modem.host}:${String(modem.port ?? 2375)}`;
  }
  return undefined;
}

/**
 * Runs `docker build --build-arg BASE_IMAGE=<base> -t <tag> <repo>` against
 * the daemon `docker` talks to, with the classic builder: it uses a base that
 * exists only in the local image store without asking a registry, and works
 * with Engine 20.10 and a CLI without buildx. The build context is the
 * repository filtered by .dockerignore (the CLI applies it). Layers are the
 * cache: with nothing changed, every step is reused and this takes seconds.
 * What a rebuild replaces is removed, so rebuilds do not pile up in the cache.
 */
export async function buildControllerImage(
  docker: Dockerode,
  opts: BuildControllerImageOptions,
): Promise<string> {
  const log = opts.log ?? (() => {});
  const tag = opts.tag ?? CONTROLLER_IMAGE;
  const contextDir = opts.contextDir ?? repoRoot();
  const dockerHost =
    opts.dockerHost ?? dockerHostOf((docker.modem ?? {}) as object) ?? process.env.DOCKER_HOST;
  if (!dockerHost) throw new Error('buildControllerImage: no DOCKER_HOST for the docker CLI');
  const pkg = JSON.parse(readFileSync(join(contextDir, 'package.json'), 'utf8')) as { version?: string };
  // The image carries the Compose loader built here (the build stages have no Go).
  if (!opts.contextDir) await ensureComposeLoader(log);

  const args = dockerBuildArgs({
    tag,
    contextDir,
    buildArgs: { BASE_IMAGE: opts.baseImage, VERSION: pkg.version ?? '0.0.0' },
  });
  const started = Date.now();
  log(`docker ${args.join(' ')}`);
  const used = await runDocker(args, { ...process.env, DOCKER_HOST: dockerHost, DOCKER_BUILDKIT: '0' }, log);
  const built = (await inspectImage(docker, tag))?.Id;
  if (!built) throw new Error(`docker build finished but ${tag} is not in the image store`);
  log(`built ${tag} (${built.slice(7, 19)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await removeStaleBuildCache(docker, opts.baseImage, used, log);
  if (opts.baseImage.startsWith(`${NODE_BASE_REPO}:`))
    await removeOtherTags(docker, NODE_BASE_REPO, opts.baseImage, log);
  return tag;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags?: string[] | null;
}

/**
 * The classic builder keeps every step's result as an image: that is its
 * cache. A rebuild after a change leaves the replaced chain behind (the old
 * tagged image, the old build stage, a failed build's steps), each chain
 * hundreds of MB when the lockfile changed. Returns the tips of those chains:
 * untagged images nothing builds on, descending from one of `roots` (base
 * images), and not among the images the last build produced or reused
 * (`used`, short IDs from its `---> id` lines).
 */
export function staleBuildImages(
  images: readonly ImageSummary[],
  roots: ReadonlySet<string>,
  used: ReadonlySet<string>,
): string[] {
  const parentOf = new Map(images.map((i) => [i.Id, i.ParentId]));
  const hasChildren = new Set(images.map((i) => i.ParentId).filter(Boolean));
  const untagged = (i: ImageSummary) => (i.RepoTags ?? []).every((t) => t === '<none>:<none>');
  const descends = (id: string) => {
    for (let p = parentOf.get(id); p; p = parentOf.get(p)) if (roots.has(p)) return true;
    return false;
  };
  const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
  return images
    .filter((i) => untagged(i) && !hasChildren.has(i.Id) && !used.has(shortId(i.Id)) && descends(i.Id))
    .map((i) => i.Id);
}

/** Removes stale chains (see staleBuildImages); Docker prunes each one's untagged, unshared parents. */
async function removeStaleBuildCache(
  docker: Dockerode,
  baseImage: string,
  used: ReadonlySet<string>,
  log: Log,
): Promise<void> {
  const images = (await docker.listImages({ all: true })) as ImageSummary[];
  const roots = new Set(
    images
      .filter((i) => (i.RepoTags ?? []).some((t) => t === baseImage || t.startsWith(`${NODE_BASE_REPO}:`)))
      .map((i) => i.Id),
  );
  for (const id of staleBuildImages(images, roots, used)) {
    await docker
      .getImage(id)
      .remove()
      .then(() => log(`removed stale build cache ${id.slice(7, 19)}`))
      .catch(() => {});
  }
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * Runs the docker CLI, logging its `Step n/m` lines; a failure carries the
 * failed step's output. Resolves with the short IDs of the images the build
 * produced or reused (its `---> id` lines).
 */
async function runDocker(args: string[], env: NodeJS.ProcessEnv, log: Log): Promise<Set<string>> {
  const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ids = new Set<string>();
  let step: string[] = [];
  let partial = '';
  const take = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const raw of parts) {
      // The classic builder colours a RUN step's stderr.
      const line = raw.replace(ANSI_COLOUR, '');
      if (line.startsWith('Step ')) {
        log(line);
        step = [];
      }
      step.push(line);
      const id = /^ ---> ([0-9a-f]{12})$/.exec(line)?.[1];
      if (id) ids.add(id);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const timeout = setTimeout(() => child.kill('SIGTERM'), 30 * 60_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timeout));
  if (partial) step.push(partial);
  if (code !== 0) {
    throw new Error(`docker ${args.join(' ')} failed (exit ${code}):\n${failureExcerpt(step)}`);
  }
  return ids;
}

/** The start (where tools say what went wrong) and the end of a long output; all of a short one. */
export function failureExcerpt(lines: readonly string[], head = 25, tail = 15): string {
  if (lines.length <= head + tail) return lines.join('\n');
  const skipped = lines.length - head - tail;
  return [...lines.slice(0, head), `… ${skipped} lines …`, ...lines.slice(-tail)].join('\n');
}
