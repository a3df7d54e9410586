import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnce } from './build-lock.js';
import { cacheDir } from './cache.js';
import { run } from './exec.js';
import { findModuleDir, goCommand, requiredVersion, sourceHash } from './go-module.js';

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  kubectl: string;
  /** e.g. "v1.37.2", from tools/controlplane/go.mod. */
  kubernetesVersion: string;
  /** e.g. "v3.7.0", from tools/controlplane/go.mod. */
  etcdVersion: string;
}

interface Target {
  /** File name of the binary in the cache folder. */
  binary: 'kube-apiserver' | 'kube-controller-manager' | 'kubectl' | 'etcd';
  /** Go package built from tools/controlplane. */
  pkg: string;
}

const TARGETS: readonly Target[] = [
  { binary: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  // Shares most packages with kube-apiserver: built in the same `go build`, it
  // adds about 5 CPU-minutes to a cold build (see README, Timings).
  { binary: 'kube-controller-manager', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  { binary: 'kubectl', pkg: 'k8s.io/kubernetes/cmd/kubectl' },
  { binary: 'etcd', pkg: './etcd' },
];

/**
 * Part of the cache key besides the pinned sources: changing how we build
 * (flags, stamped variables) must not reuse binaries built the old way.
 */
const BUILD_RECIPE = 'go build -trimpath -ldflags=-s -w + component-base version stamp v1';

const MODULE_DIR_IN_REPO = join('tools', 'controlplane');
/** The files whose content decides the binaries (with BUILD_RECIPE: the cache key). */
const SOURCE_FILES = ['go.mod', 'go.sum', join('etcd', 'main.go')];

/**
 * Returns the kube-apiserver, kube-controller-manager, etcd and kubectl
 * binaries built from the pinned module in tools/controlplane, building only
 * the ones missing from the cache.
 * A cold build of kube-apiserver takes many minutes on a small machine; later
 * calls cost a few stat calls.
 */
export async function ensureControlPlaneBinaries(
  log: (msg: string) => void = () => {},
): Promise<ControlPlaneBinaries> {
  const moduleDir = findModuleDir(MODULE_DIR_IN_REPO);
  const versions = readPinnedVersions(readFileSync(join(moduleDir, 'go.mod'), 'utf8'));
  const binDir = cacheDir(
    'bin',
    `k8s-${versions.kubernetesVersion}-etcd-${versions.etcdVersion}-${sourceHash(moduleDir, SOURCE_FILES, BUILD_RECIPE)}`,
  );
  const paths = {
    kubeApiserver: join(binDir, 'kube-apiserver'),
    kubeControllerManager: join(binDir, 'kube-controller-manager'),
    kubectl: join(binDir, 'kubectl'),
    etcd: join(binDir, 'etcd'),
  };
  // Parallel test files find the binaries missing at once: one builds, the others wait and reuse.
  await buildOnce({
    target: TARGETS.map((t) => join(binDir, t.binary)),
    lockPath: join(binDir, '.lock'),
    what: 'the control-plane binaries',
    build: () =>
      build({
        moduleDir,
        binDir,
        targets: TARGETS.filter((t) => !existsSync(join(binDir, t.binary))),
        versions,
        log,
      }),
    log,
  });
  return { ...paths, ...versions };
}

/** Reads the pinned versions from go.mod so they live in exactly one place. */
export function readPinnedVersions(goMod: string): { kubernetesVersion: string; etcdVersion: string } {
  return {
    kubernetesVersion: requiredVersion(goMod, 'k8s.io/kubernetes', MODULE_DIR_IN_REPO),
    etcdVersion: requiredVersion(goMod, 'go.etcd.io/etcd/server/v3', MODULE_DIR_IN_REPO),
  };
}

/**
 * kube-apiserver reports the version stamped at link time (`kubectl version`,
 * /version, and the compatibility version it derives from it); a plain
 * `go build` would report v0.0.0-master.
 */
function versionLdflags(kubernetesVersion: string): string {
  const [major, minor] = kubernetesVersion.replace(/^v/, '').split('.');
  const vars = {
    gitVersion: kubernetesVersion,
    gitMajor: major ?? '',
    gitMinor: minor ?? '',
    gitTreeState: 'clean',
  };
  const stamps = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) =>
    Object.entries(vars).map(([name, value]) => `-X ${pkg}.${name}=${value}`),
  );
  return ['-s', '-w', ...stamps].join(' ');
}

/**
 * Builds into a temporary folder next to the cache entry and renames each
 * binary into place, so an interrupted build never leaves a half-written
 * binary that a later run would trust.
 */
async function build(opts: {
  moduleDir: string;
  binDir: string;
  targets: readonly Target[];
  versions: { kubernetesVersion: string; etcdVersion: string };
  log: (msg: string) => void;
}): Promise<void> {
  const { moduleDir, binDir, targets, versions, log } = opts;
  const go = await goCommand(
    'kube-apiserver, kube-controller-manager, etcd and kubectl for the local control plane',
  );
  const names = targets.map((t) => describeTarget(t, versions)).join(', ');
  const slow = targets.some((t) => t.binary === 'kube-apiserver' || t.binary === 'kube-controller-manager');
  log(`building ${names} (first run only${slow ? ', ~10 min on 2 cores' : ''})`);
  const tmpDir = mkdtempSync(join(binDir, '.build-'));
  const started = Date.now();
  const ticker = setInterval(
    () => log(`still building ${names} (${Math.round((Date.now() - started) / 60_000)} min)`),
    60_000,
  );
  ticker.unref();
  try {
    await run(
      go,
      [
        'build',
        '-trimpath',
        `-ldflags=${versionLdflags(versions.kubernetesVersion)}`,
        '-o',
        tmpDir + '/',
        ...targets.map((t) => t.pkg),
      ],
      { cwd: moduleDir },
    );
    for (const t of targets) renameSync(join(tmpDir, t.binary), join(binDir, t.binary));
    log(`built ${names} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    clearInterval(ticker);
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

function describeTarget(t: Target, versions: { kubernetesVersion: string; etcdVersion: string }): string {
  return t.binary === 'etcd' ? `etcd ${versions.etcdVersion}` : `${t.binary} ${versions.kubernetesVersion}`;
}
