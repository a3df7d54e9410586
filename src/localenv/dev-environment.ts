// The infrastructure under `dockyard dev`: a control plane whose data is kept
// in the dev data dir (so a second start finds the objects again), the local
// Docker daemon, and the image the quickstart example names. Also the
// DockerHost object that registers that daemon as `local`.
//
// What is started here is stopped here: the control plane always, the Docker
// daemon only if this process started it. Containers the controllers created
// for the user's objects are the user's workloads and are never touched.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import type { DockerHostSpec } from '../crds/dockerhost.js';
import { ControlPlane } from './control-plane.js';
import { ensureComposeLoader } from './compose-loader.js';
import { ensureControlPlaneBinaries } from './controlplane-binaries.js';
import { HostDocker, hostDockerPaths } from './host-docker.js';
import { ensureWorkloadImage, followProgress, inspectImage, splitTag } from './images.js';
import { isAlive, listPids, processCmdline, readPid, signalPid, waitFor } from './process.js';

type Log = (msg: string) => void;

/** The image examples/quickstart.yaml runs. */
export const QUICKSTART_IMAGE = 'busybox:1.36';
/** The DockerHost dev mode registers for the local daemon. */
export const LOCAL_HOST_NAME = 'local';
/** Label on the DockerHost dev mode registers. */
export const DEV_LABEL = 'dockyard.io/dev';
const FIELD_MANAGER = 'dockyard-dev';
const PULL_TIMEOUT_MS = 60_000;

export interface DevPaths {
  /** The control plane's kept data dir (etcd, certificates, ports, logs). */
  controlPlane: string;
  /** Holds the pid of the dev process using this data dir. */
  pidFile: string;
  /** Holds the pid of the Docker daemon dev mode started, while it runs. */
  dockerdPidFile: string;
}

export function devPaths(dir: string): DevPaths {
  return {
    controlPlane: join(dir, 'control-plane'),
    pidFile: join(dir, 'dev.pid'),
    dockerdPidFile: join(dir, 'dockerd.pid'),
  };
}

/** The pieces of a running dev environment the CLI needs. */
export interface DevEnvironmentInfo {
  dockerHost: string;
  /** True when this process started the Docker daemon (and will stop it). */
  dockerStartedByUs: boolean;
  apiServerUrl: string;
  /** The control plane's admin kubeconfig. */
  kubeconfigPath: string;
  /** The kubectl built with the control plane. */
  kubectlPath: string;
}

/**
 * Starts and stops the dev infrastructure. start() runs its steps in order and
 * checks `signal` between them; stop() stops whatever was started, whether
 * start() finished, failed or was interrupted.
 */
export class DevEnvironment {
  readonly paths: DevPaths;
  private readonly log: Log;
  private readonly warn: Log;
  private hostDocker: HostDocker | undefined;
  private controlPlane: ControlPlane | undefined;
  private locked = false;
  private step: 'new' | 'build' | 'docker' | 'control-plane' | 'image' | 'started' = 'new';

  constructor(
    readonly dir: string,
    opts: { log?: Log; warn?: Log } = {},
  ) {
    this.paths = devPaths(dir);
    this.log = opts.log ?? (() => {});
    this.warn = opts.warn ?? this.log;
  }

  /**
   * Asks a running control-plane build (`go build`, minutes on a fresh
   * machine) to stop, so start() fails fast and cleans its temporary build
   * folder. Other steps are short and are left to finish; start() checks its
   * signal after each.
   */
  interruptBuild(): void {
    if (this.step !== 'build') return;
    for (const pid of childPids(process.pid)) {
      if (basename(processCmdline(pid)?.[0] ?? '') === 'go') signalPid(pid, 'SIGINT');
    }
  }

  async start(signal?: AbortSignal): Promise<DevEnvironmentInfo> {
    await mkdir(this.dir, { recursive: true });
    this.lock();
    await this.stopLeftovers();
    signal?.throwIfAborted();
    // The slow step on a fresh machine (~10 min on 2 cores); its progress goes to `log`.
    this.step = 'build';
    await ensureControlPlaneBinaries(this.log);
    // DockerComposeStack loads Compose projects with it (about 15 s the first time).
    await ensureComposeLoader(this.log);
    signal?.throwIfAborted();
    this.step = 'docker';
    this.hostDocker = await HostDocker.ensure({ log: this.log });
    const dockerdPid = this.hostDocker.startedByUs ? readPid(hostDockerPaths().pidFile) : undefined;
    if (dockerdPid !== undefined) writeFileSync(this.paths.dockerdPidFile, `${dockerdPid}\n`);
    signal?.throwIfAborted();
    this.step = 'control-plane';
    this.controlPlane = new ControlPlane({ dataDir: this.paths.controlPlane, log: this.log });
    await this.controlPlane.start();
    signal?.throwIfAborted();
    this.step = 'image';
    await ensureQuickstartImage(this.hostDocker.client(), this.log, this.warn);
    signal?.throwIfAborted();
    this.step = 'started';
    return {
      dockerHost: this.hostDocker.dockerHost,
      dockerStartedByUs: this.hostDocker.startedByUs,
      apiServerUrl: this.controlPlane.apiServerUrl,
      kubeconfigPath: this.controlPlane.kubeconfigPath,
      kubectlPath: this.controlPlane.kubectlPath,
    };
  }

  kubeConfig(): KubeConfig {
    if (!this.controlPlane) throw new Error('dev environment not started');
    return this.controlPlane.kubeConfig();
  }

  /** Control plane first (its data stays), then the Docker daemon if we started it. Idempotent. */
  async stop(): Promise<void> {
    const cp = this.controlPlane;
    this.controlPlane = undefined;
    if (cp) {
      this.log('stopping the control plane (its data is kept)');
      await cp.stop();
    }
    const docker = this.hostDocker;
    this.hostDocker = undefined;
    if (docker?.startedByUs) {
      this.log(`stopping the Docker daemon dev mode started (${docker.dockerHost})`);
      await docker.stop();
      rmSync(this.paths.dockerdPidFile, { force: true });
    }
    this.unlock();
  }

  /**
   * For a process that must exit now (a second Ctrl-C, a missed deadline):
   * SIGKILLs this data dir's control-plane processes, asks a Docker daemon we
   * started to stop (it finishes on its own), and releases the lock. Synchronous.
   */
  emergencyStop(): void {
    for (const pid of listPids()) {
      if (isControlPlaneOf(processCmdline(pid), this.paths.controlPlane)) signalPid(pid, 'SIGKILL');
    }
    if (this.hostDocker?.startedByUs) {
      const pid = readPid(hostDockerPaths().pidFile);
      if (pid !== undefined) signalPid(pid, 'SIGTERM');
    }
    this.controlPlane = undefined;
    this.hostDocker = undefined;
    this.unlock();
  }

  private lock(): void {
    const holder = readPid(this.paths.pidFile);
    if (holder !== undefined && holder !== process.pid && isDevProcess(processCmdline(holder))) {
      throw new Error(
        `another dockyard dev (pid ${holder}) is using ${this.dir}; stop it first, or pass another --data-dir`,
      );
    }
    writeFileSync(this.paths.pidFile, `${process.pid}\n`);
    this.locked = true;
  }

  private unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    if (readPid(this.paths.pidFile) === process.pid) rmSync(this.paths.pidFile, { force: true });
  }

  /**
   * What an earlier dev process that was killed (SIGKILL, a closed terminal)
   * left running: its etcd, kube-apiserver and kube-controller-manager hold
   * etcd's data dir and the ports, and a Docker daemon it started would otherwise be used but never
   * stopped again. Nobody else uses this data dir (we hold the lock), so they
   * are stopped; the daemon is started afresh by HostDocker.ensure.
   */
  private async stopLeftovers(): Promise<void> {
    const pids = listPids().filter((pid) => isControlPlaneOf(processCmdline(pid), this.paths.controlPlane));
    const dockerd = readPid(this.paths.dockerdPidFile);
    if (dockerd !== undefined && isDockerd(processCmdline(dockerd))) pids.push(dockerd);
    rmSync(this.paths.dockerdPidFile, { force: true });
    for (const pid of pids) {
      this.log(`stopping ${processCmdline(pid)?.[0] ?? '?'} pid ${pid}, left running by an earlier dev run`);
      signalPid(pid, 'SIGTERM');
    }
    if (pids.length === 0) return;
    try {
      // dockerd stops its containers first (10 s for those that ignore SIGTERM).
      await waitFor(async () => pids.every((pid) => !isAlive(pid)), {
        timeoutMs: 60_000,
        what: 'processes left by an earlier dev run to exit',
      });
    } catch {
      for (const pid of pids) signalPid(pid, 'SIGKILL');
    }
  }
}

/** Direct children of `parent`, from the ppid field of /proc/PID/stat. */
function childPids(parent: number): number[] {
  return listPids().filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so split after the last ')'.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

function isDockerd(cmdline: readonly string[] | undefined): boolean {
  return basename(cmdline?.[0] ?? '') === 'dockerd';
}

const CONTROL_PLANE_PROGRAMS = new Set(['etcd', 'kube-apiserver', 'kube-controller-manager']);

/**
 * True when `cmdline` is an etcd, kube-apiserver or kube-controller-manager
 * whose arguments point into `controlPlaneDir` (etcd's --data-dir,
 * kube-apiserver's --cert-dir, kube-controller-manager's --kubeconfig).
 */
export function isControlPlaneOf(cmdline: readonly string[] | undefined, controlPlaneDir: string): boolean {
  if (!cmdline || cmdline.length === 0) return false;
  if (!CONTROL_PLANE_PROGRAMS.has(basename(cmdline[0] ?? ''))) return false;
  const prefix = controlPlaneDir.replace(/\/+$/, '') + '/';
  return cmdline.slice(1).some((arg) => arg.includes(prefix));
}

/** True when `cmdline` looks like a running `dockyard dev` (any launcher: tsx, node, npx). */
export function isDevProcess(cmdline: readonly string[] | undefined): boolean {
  return !!cmdline && cmdline.includes('dev') && cmdline.some((a) => /(main\.[jt]s|dockyard)$/.test(a));
}

/** The DockerHost dev mode applies for the local daemon at `dockerHost` (a DOCKER_HOST-style URL). */
export function localDockerHost(dockerHost: string): {
  apiVersion: string;
  kind: 'DockerHost';
  metadata: { name: string; labels: Record<string, string> };
  spec: DockerHostSpec;
} {
  const url = new URL(dockerHost);
  let endpoint: string;
  let insecure: boolean | undefined;
  if (url.protocol === 'unix:') {
    endpoint = `unix://${url.pathname}`;
  } else if (url.protocol === 'tcp:' || url.protocol === 'http:') {
    // A plain-TCP local daemon (DOCKER_HOST=tcp://…) has no TLS; say so explicitly.
    endpoint = `tcp://${url.hostname}${url.port ? `:${url.port}` : ''}`;
    insecure = true;
  } else {
    throw new Error(`unsupported DOCKER_HOST ${dockerHost}: expected unix:// or tcp://`);
  }
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: { name: LOCAL_HOST_NAME, labels: { [DEV_LABEL]: 'true' } },
    spec: { endpoint, securityPolicy: 'baseline', ...(insecure ? { insecure } : {}) },
  };
}

/**
 * Creates or updates the `local` DockerHost (server-side apply: fields other
 * managers set, e.g. a label added with kubectl, are kept).
 */
export async function applyLocalDockerHost(kc: KubeConfig, dockerHost: string): Promise<void> {
  const body = localDockerHost(dockerHost);
  await kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
    {
      group: 'dockyard.io',
      version: 'v1alpha1',
      plural: 'dockerhosts',
      name: body.metadata.name,
      body,
      fieldManager: FIELD_MANAGER,
      force: true,
    },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
}

export type QuickstartImageSource = 'present' | 'pulled' | 'stand-in';

/**
 * Makes sure `busybox:1.36` exists on the daemon. When it is missing and
 * cannot be pulled (no registry access), a stand-in built from Debian's
 * busybox-static is tagged with that name, and the log says so: it is not the
 * upstream image.
 */
export async function ensureQuickstartImage(
  docker: Dockerode,
  log: Log,
  warn: Log = log,
): Promise<QuickstartImageSource> {
  const existing = await inspectImage(docker, QUICKSTART_IMAGE);
  if (existing) {
    const standIn = existing.Config?.Labels?.['dockyard.recipe'] !== undefined;
    log(`${QUICKSTART_IMAGE} is present${standIn ? ' (the locally built stand-in)' : ''}`);
    return 'present';
  }
  try {
    log(`pulling ${QUICKSTART_IMAGE} for the quickstart example`);
    await withTimeout(
      (async () => followProgress(await docker.pull(QUICKSTART_IMAGE), `pulling ${QUICKSTART_IMAGE}`))(),
      PULL_TIMEOUT_MS,
      `pulling ${QUICKSTART_IMAGE} took longer than ${PULL_TIMEOUT_MS / 1000} s`,
    );
    log(`pulled ${QUICKSTART_IMAGE}`);
    return 'pulled';
  } catch (err) {
    warn(`cannot pull ${QUICKSTART_IMAGE}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const built = await ensureWorkloadImage(docker, log);
  const [repo, tag] = splitTag(QUICKSTART_IMAGE);
  await docker.getImage(built).tag({ repo, tag });
  warn(
    `tagged ${built} as ${QUICKSTART_IMAGE}: a LOCALLY BUILT STAND-IN from Debian's busybox-static, ` +
      `not the upstream image (remove it with: docker rmi ${QUICKSTART_IMAGE})`,
  );
  return 'stand-in';
}

async function withTimeout<T>(pending: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
