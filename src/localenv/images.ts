import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { parseProgressLines, type ProgressMessage } from '../docker/image-client.js';
import { ensureDebianPackages } from './apt.js';
import { cacheDir } from './cache.js';
import { run } from './exec.js';
import { mountsUnder, parseMountInfo } from './host-docker.js';

/** The tiny workload image; dev mode may also tag it as `busybox:1.36`, which cannot be pulled here. */
export const WORKLOAD_IMAGE = 'dockyard.local/busybox:1.36';
const NODE_IMAGE_REPO = 'dockyard.local/dind-node';

/** Label holding the hash of the recipe an image was built from; a different hash means rebuild. */
export const RECIPE_LABEL = 'dockyard.recipe';

type Log = (m: string) => void;

/**
 * Reads a Docker progress stream (pull, push, import, load) to its end. Docker
 * reports most failures inside the stream with HTTP 200, so an `error` line
 * must become a rejection. Resolves with every message.
 */
export async function followProgress(
  stream: NodeJS.ReadableStream,
  what: string,
): Promise<ProgressMessage[]> {
  const messages: ProgressMessage[] = [];
  let buffered = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const parsed = parseProgressLines(buffered + chunk.toString());
    messages.push(...parsed.messages);
    buffered = parsed.rest;
  }
  messages.push(...parseProgressLines(`${buffered}\n`).messages);
  const failed = messages.find((m) => m.error ?? m.errorDetail?.message);
  if (failed) throw new Error(`${what}: ${failed.errorDetail?.message ?? failed.error}`);
  return messages;
}

/** The image as the daemon describes it, or undefined when the daemon has no such image. */
export async function inspectImage(
  docker: Dockerode,
  image: string,
): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(image).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw new Error(`inspecting image ${image}: ${(err as Error).message}`, { cause: err });
  }
}

/** The image's recipe hash: undefined when there is no such image, null when it carries none. */
async function imageLabel(docker: Dockerode, image: string): Promise<string | undefined | null> {
  const info = await inspectImage(docker, image);
  if (!info) return undefined;
  return info.Config.Labels?.[RECIPE_LABEL] ?? null;
}

/**
 * `tar -C dir -c . | docker import` through the API, with Dockerfile-style
 * `changes` (CMD, ENTRYPOINT, ENV, LABEL). Ownership is forced to root so the
 * image does not depend on who built it.
 */
export async function importRootfs(
  docker: Dockerode,
  dir: string,
  image: string,
  changes: string[],
): Promise<void> {
  const [repo, tag] = splitTag(image);
  const tar = spawn(
    'tar',
    ['-C', dir, '--numeric-owner', '--exclude=./proc/*', '--exclude=./sys/*', '-c', '.'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const tarExit = new Promise<number | null>((resolve) => tar.once('close', resolve));
  try {
    const response = await docker.importImage(tar.stdout, { repo, tag, changes });
    await followProgress(response, `docker import ${image}`);
  } catch (err) {
    tar.kill();
    throw err;
  }
  const code = await tarExit;
  if (code !== 0)
    throw new Error(`tar -C ${dir} failed while importing ${image} (exit ${code}): ${stderr.trim()}`);
}

/** `repo/name:tag` → [`repo/name`, `tag`]; a registry port (`127.0.0.1:5000/x`) is not a tag. */
export function splitTag(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  if (at <= image.lastIndexOf('/')) return [image, 'latest'];
  return [image.slice(0, at), image.slice(at + 1)];
}

/** Short hash of a recipe object: part of an image's tag or label, so a changed recipe means a rebuild. */
export function recipeHash(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
}

// ---------------------------------------------------------------------------
// Workload image: busybox from Debian's busybox-static.

const WORKLOAD_RECIPE = {
  version: 1,
  passwd: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  group: 'root:x:0:\nnogroup:x:65534:\n',
  changes: ['CMD ["sh"]', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
};

/**
 * Builds `dockyard.local/busybox:1.36` (about 2 MB) when it is missing or was
 * built from another recipe: /bin/busybox plus a symlink per applet, /tmp,
 * and /etc/passwd with root and nobody.
 */
export async function ensureWorkloadImage(docker: Dockerode, log: Log = () => {}): Promise<string> {
  const hash = recipeHash({ ...WORKLOAD_RECIPE, busybox: await busyboxVersion(log) });
  if ((await imageLabel(docker, WORKLOAD_IMAGE)) === hash) return WORKLOAD_IMAGE;
  log(`building ${WORKLOAD_IMAGE} from busybox-static`);
  const dir = await mkdtemp(join(tmpdir(), 'dockyard-busybox-'));
  try {
    await writeBusyboxRootfs(dir);
    await importRootfs(docker, dir, WORKLOAD_IMAGE, [
      ...WORKLOAD_RECIPE.changes,
      `LABEL ${RECIPE_LABEL}=${hash}`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return WORKLOAD_IMAGE;
}

async function busyboxVersion(log: Log): Promise<string> {
  await ensureDebianPackages(['busybox-static'], log);
  const { stdout } = await run('dpkg-query', ['-W', '-f=${Version}', 'busybox-static']);
  return stdout.trim();
}

async function writeBusyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  // --list-full names each applet with its usual directory (bin/sh, usr/bin/wget…).
  const { stdout } = await run('/bin/busybox', ['--list-full']);
  for (const applet of stdout.split('\n').map((l) => l.trim())) {
    if (!applet || applet === 'bin/busybox') continue;
    const target = join(dir, applet);
    await mkdir(dirname(target), { recursive: true });
    if (!existsSync(target)) await symlink('/bin/busybox', target);
  }
  for (const d of ['etc', 'root', 'tmp', 'var/tmp', 'proc', 'sys', 'dev'])
    await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await chmod(join(dir, 'var/tmp'), 0o1777);
  await writeFile(join(dir, 'etc/passwd'), WORKLOAD_RECIPE.passwd);
  await writeFile(join(dir, 'etc/group'), WORKLOAD_RECIPE.group);
}

// ---------------------------------------------------------------------------
// Node image: Debian bookworm with Docker, socat and the registry.

/**
 * Entrypoint of the node image. Runs as PID 1 of a node (or registry) container:
 * starts the registry forward when asked, then execs the command (dockerd by default).
 */
export const NODE_ENTRYPOINT = `#!/bin/sh
# Dockyard local node entrypoint.
set -eu

# REGISTRY_FORWARD=LOCALPORT:TARGETHOST:TARGETPORT makes the shared registry
# reachable at 127.0.0.1:LOCALPORT, the same address the host uses. Docker
# trusts plain-HTTP registries on 127.0.0.0/8, so no insecure-registries flag.
if [ -n "\${REGISTRY_FORWARD:-}" ]; then
  local_port=\${REGISTRY_FORWARD%%:*}
  target=\${REGISTRY_FORWARD#*:}
  socat "TCP-LISTEN:\${local_port},bind=127.0.0.1,fork,reuseaddr" "TCP:\${target}" &
fi

# A container that was stopped (docker stop / kill) and started again keeps
# its filesystem: dockerd's and containerd's pid files would name PID 1, which
# is alive again, and dockerd would refuse to start.
rm -f /run/docker.pid /run/docker/containerd/containerd.pid

# No command, or only flags: they are for dockerd.
if [ "$#" -eq 0 ] || [ "\${1#-}" != "$1" ]; then
  set -- dockerd "$@"
fi
exec "$@"
`;

/** Config for `docker-registry serve`; REGISTRY_HTTP_ADDR overrides the address per container. */
export const REGISTRY_CONFIG = `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/dockyard-registry
  delete:
    enabled: true
http:
  addr: 0.0.0.0:5000
auth:
  htpasswd:
    realm: dockyard
    path: /etc/dockyard-registry/htpasswd
`;
export const REGISTRY_CONFIG_PATH = '/etc/dockyard-registry/config.yml';
export const REGISTRY_HTPASSWD_PATH = '/etc/dockyard-registry/htpasswd';

const NODE_RECIPE = {
  version: 1,
  suite: 'bookworm',
  variant: 'minbase',
  // git: a DockerBuild's git context is cloned by the node's daemon (BuildKit runs git).
  include: ['docker.io', 'iptables', 'socat', 'ca-certificates', 'docker-registry', 'git'],
  entrypoint: NODE_ENTRYPOINT,
  registryConfig: REGISTRY_CONFIG,
  changes: [
    'ENTRYPOINT ["/usr/local/bin/dockyard-node-entrypoint"]',
    'CMD ["dockerd", "--tls=false", "-H", "tcp://0.0.0.0:2375", "-H", "unix:///var/run/docker.sock"]',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ],
};

/** Name of the node image for the current recipe; the tag changes whenever the recipe does. */
export function nodeImageName(): string {
  return `${NODE_IMAGE_REPO}:${NODE_RECIPE.suite}-${recipeHash(NODE_RECIPE)}`;
}

/** The first non-security `URIs:` of a deb822 sources file (or `deb` line of a one-line sources.list). */
export function debianMirror(sources: string): string | undefined {
  const uris = [
    ...[...sources.matchAll(/^URIs:\s*(.+)$/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/)),
    ...[...sources.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)].map((m) => m[1] ?? ''),
  ];
  return uris.find((u) => u && !/-security\b/.test(u));
}

function findMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const mirror = debianMirror(readFileSync(file, 'utf8'));
    if (mirror) return mirror;
  }
  throw new Error(
    'no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list',
  );
}

/**
 * Builds the Docker-in-Docker node image when the current recipe's tag is
 * missing. Cold build: buildDebootstrapImage (~30-60 s, ~520 MB unpacked);
 * the image itself is the cache (it lives in the daemon's data root).
 */
export async function ensureNodeImage(docker: Dockerode, log: Log = () => {}): Promise<string> {
  const image = nodeImageName();
  if ((await imageLabel(docker, image)) !== undefined) return image;
  await buildDebootstrapImage(docker, {
    image,
    recipe: NODE_RECIPE,
    buildDirPrefix: 'dind-node',
    customise: customiseNodeRootfs,
    changes: [...NODE_RECIPE.changes, `LABEL ${RECIPE_LABEL}=${recipeHash(NODE_RECIPE)}`],
    note: ' (takes a minute)',
    log,
  });
  return image;
}

async function customiseNodeRootfs(dir: string): Promise<void> {
  const entrypoint = join(dir, 'usr/local/bin/dockyard-node-entrypoint');
  await mkdir(dirname(entrypoint), { recursive: true });
  await writeFile(entrypoint, NODE_ENTRYPOINT, { mode: 0o755 });
  await mkdir(join(dir, dirname(REGISTRY_CONFIG_PATH)), { recursive: true });
  await writeFile(join(dir, REGISTRY_CONFIG_PATH), REGISTRY_CONFIG);
  await mkdir(join(dir, 'var/lib/dockyard-registry'), { recursive: true });
  // Package lists and downloaded archives are not needed at run time.
  for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    const path = join(dir, sub);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path)) {
      if (entry.endsWith('.deb') || entry.endsWith('_Packages') || entry.endsWith('Release')) {
        rmSync(join(path, entry), { force: true });
      }
    }
  }
  // Containers get their hostname and resolver from Docker.
  await writeFile(join(dir, 'etc/hostname'), 'dockyard-node\n');
  const resolv = join(dir, 'etc/resolv.conf');
  if (!existsSync(resolv)) await writeFile(resolv, '');
  if (!existsSync(join(dir, 'usr/sbin/dockerd')))
    throw new Error(`debootstrap in ${dir} did not install dockerd`);
}

// ---------------------------------------------------------------------------
// Images built from a Debian tree: debootstrap, customise, import. The node
// image and the controller's Node base (controller-image.ts) are made this way.

/** What debootstrap installs. */
export interface DebootstrapRecipe {
  suite: string;
  variant: string;
  include: readonly string[];
}

export interface DebootstrapImageOptions {
  image: string;
  recipe: DebootstrapRecipe;
  /** Names the build directory `<prefix>-<pid>-<time>`, so a later build can remove a dead builder's. */
  buildDirPrefix: string;
  /** Completes (and checks) the tree before it is imported. */
  customise: (dir: string) => Promise<void>;
  /** Dockerfile-style changes for the import: CMD, ENTRYPOINT, ENV, LABEL. */
  changes: string[];
  /** Appended to the "building" log line. */
  note?: string;
  log: Log;
}

/**
 * Builds `image`: debootstrap into a directory in the cache, `customise`,
 * import, then delete the directory, also when a step fails. Downloaded .debs
 * are kept in cacheDir('images', 'debs') so a recipe change rebuilds without
 * downloading again.
 */
export async function buildDebootstrapImage(docker: Dockerode, opts: DebootstrapImageOptions): Promise<void> {
  const { image, recipe, log } = opts;
  await ensureDebianPackages(['debootstrap'], log);
  const buildRoot = cacheDir('images', 'build');
  await removeStaleBuildDirs(buildRoot, opts.buildDirPrefix, log);
  const dir = join(buildRoot, `${opts.buildDirPrefix}-${process.pid}-${Date.now()}`);
  const started = Date.now();
  try {
    const mirror = findMirror();
    log(`building ${image}: debootstrap ${recipe.suite} from ${mirror}${opts.note ?? ''}`);
    await run(
      'debootstrap',
      [
        `--variant=${recipe.variant}`,
        `--include=${recipe.include.join(',')}`,
        `--cache-dir=${cacheDir('images', 'debs')}`,
        recipe.suite,
        dir,
        mirror,
      ],
      { timeoutMs: 15 * 60_000 },
    );
    await opts.customise(dir);
    log(`importing ${image}`);
    await importRootfs(docker, dir, image, opts.changes);
    log(`built ${image} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await removeBuildDir(dir);
  }
}

/**
 * debootstrap bind-mounts /proc, /sys and sometimes /dev into the target while
 * it runs. A failed run can leave them mounted: unmount before deleting, and
 * never let `rm` cross into another file system (it would delete host /dev).
 */
async function removeBuildDir(dir: string): Promise<void> {
  const mounts = mountsUnder(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')), [dir]);
  for (const mp of mounts) await run('umount', ['-l', mp]).catch(() => {});
  if (existsSync(dir)) await run('rm', ['-rf', '--one-file-system', dir]);
}

/** Build directories of processes that died mid-build (their name carries the builder's pid). */
async function removeStaleBuildDirs(buildRoot: string, prefix: string, log: Log): Promise<void> {
  const builderPid = new RegExp(`^${prefix}-(\\d+)-`);
  for (const entry of readdirSync(buildRoot)) {
    const pid = Number(builderPid.exec(entry)?.[1]);
    if (!pid || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
    log(`removing stale build directory ${entry}`);
    await removeBuildDir(join(buildRoot, entry));
  }
}

/** `docker save IMAGE | docker load` between two daemons. */
export async function copyImage(from: Dockerode, to: Dockerode, image: string): Promise<void> {
  const saved = await from.getImage(image).get();
  const loaded = await to.loadImage(saved);
  await followProgress(loaded, `loading ${image}`);
}
