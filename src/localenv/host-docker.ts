import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ensureDebianPackages } from './apt.js';
import { cacheDir } from './cache.js';
import { onPath, run } from './exec.js';
import {
  isAlive,
  listPids,
  processCmdline,
  readPid,
  signalPid,
  startProcess,
  waitFor,
  type ManagedProcess,
} from './process.js';

/** Label on every container and volume the local environment creates, so cleanup and leak checks can find them. */
export const LOCALENV_LABEL = 'dockyard.localenv';

export interface HostDockerPaths {
  /** Directory under /run for the sockets and pid files of the daemon we start ourselves. */
  runDir: string;
  socketPath: string;
  pidFile: string;
  execRoot: string;
  /** Lives in the cache so images we build (node image, workload image) survive between runs. */
  dataRoot: string;
  logFile: string;
}

/**
 * Where the daemon we start lives. A fixed place (rather than a temp dir) lets a
 * later run find and reuse the daemon, clean up after a crashed one, and lets
 * scripts/check-leaks.ts know what to look for.
 */
export function hostDockerPaths(): HostDockerPaths {
  const runDir = process.env.DOCKYARD_RUN_DIR ?? '/run/dockyard';
  return {
    runDir,
    socketPath: join(runDir, 'docker.sock'),
    pidFile: join(runDir, 'docker.pid'),
    // Short on purpose: containerd puts unix sockets under it (108-byte limit).
    execRoot: join(runDir, 'exec'),
    dataRoot: cacheDir('docker', 'data-root'),
    logFile: join(cacheDir('docker', 'logs'), 'dockerd.log'),
  };
}

/** Mount points listed in /proc/PID/mountinfo (field 5), with the kernel's octal escapes decoded. */
export function parseMountInfo(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field)
      points.push(field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
  }
  return points;
}

/** Mount points equal to or below one of `roots`, deepest first (the order to unmount them in). */
export function mountsUnder(mountPoints: string[], roots: string[]): string[] {
  const inside = mountPoints.filter((mp) => roots.some((root) => mp === root || mp.startsWith(root + '/')));
  return [...new Set(inside)].sort((a, b) => b.length - a.length);
}

function currentMountsUnder(roots: string[]): string[] {
  return mountsUnder(parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')), roots);
}

/** Options for a dockerode client from a DOCKER_HOST-style URL (unix:// or tcp:// without TLS). */
function dockerodeOptions(dockerHost: string): Dockerode.DockerOptions {
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'tcp:' || url.protocol === 'http:') {
    if (process.env.DOCKER_TLS_VERIFY) {
      throw new Error(
        `DOCKER_HOST=${dockerHost} with DOCKER_TLS_VERIFY is not supported by the local environment`,
      );
    }
    return { host: url.hostname, port: url.port || '2375', protocol: 'http' };
  }
  throw new Error(`unsupported DOCKER_HOST ${dockerHost}: expected unix:// or tcp://`);
}

async function answersPing(dockerHost: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    await new Dockerode({ ...dockerodeOptions(dockerHost), timeout: timeoutMs }).ping();
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * The Docker daemon on this machine that runs the local environment's
 * containers (registry, Docker-in-Docker nodes). An existing daemon is used
 * as is; otherwise we start our own dockerd with private paths and stop it
 * again, leaving no process or mount behind.
 */
export class HostDocker {
  private stopped = false;

  private constructor(
    readonly dockerHost: string,
    readonly startedByUs: boolean,
    private readonly log: (m: string) => void,
    private readonly proc?: ManagedProcess,
  ) {}

  /** Set when the daemon listens on a unix socket (always, when we started it). */
  get socketPath(): string | undefined {
    return this.dockerHost.startsWith('unix://') ? new URL(this.dockerHost).pathname : undefined;
  }

  client(opts: { timeoutMs?: number } = {}): Dockerode {
    return new Dockerode({ ...dockerodeOptions(this.dockerHost), timeout: opts.timeoutMs });
  }

  /**
   * Finds or starts a daemon. Also points testcontainers (and any `docker` CLI
   * we spawn) at it through DOCKER_HOST, and turns off testcontainers' reaper:
   * its image cannot be pulled here and we clean up ourselves.
   */
  static async ensure(opts: { log?: (m: string) => void } = {}): Promise<HostDocker> {
    const log = opts.log ?? (() => {});
    let docker = await HostDocker.findRunning(log);
    if (!docker && !(await onPath('dockerd'))) {
      await ensureDebianPackages(['docker.io', 'iptables'], log);
      // Where the package's init script starts a daemon, use that one.
      docker = await HostDocker.findRunning(log);
    }
    docker ??= await HostDocker.startOwn(log);
    process.env.DOCKER_HOST = docker.dockerHost;
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    return docker;
  }

  private static async findRunning(log: (m: string) => void): Promise<HostDocker | undefined> {
    const candidates = [process.env.DOCKER_HOST, 'unix:///var/run/docker.sock'].filter(
      (h): h is string => !!h,
    );
    for (const candidate of candidates) {
      if (await answersPing(candidate)) {
        log(`using the Docker daemon at ${candidate}`);
        return new HostDocker(candidate, false, log);
      }
    }
    // A daemon we started in another process (e.g. a concurrent test run) is
    // used but not stopped: its owner stops it.
    const own = `unix://${hostDockerPaths().socketPath}`;
    if (await answersPing(own)) {
      log(`using the dockyard dockerd already running at ${own}`);
      return new HostDocker(own, false, log);
    }
    return undefined;
  }

  private static async startOwn(log: (m: string) => void): Promise<HostDocker> {
    if (!(await onPath('iptables'))) await ensureDebianPackages(['iptables'], log);
    const paths = hostDockerPaths();
    const dockerHost = `unix://${paths.socketPath}`;
    await mkdir(paths.runDir, { recursive: true });

    const stale = readPid(paths.pidFile);
    if (stale !== undefined && isAlive(stale) && isOurDockerd(processCmdline(stale), paths)) {
      // Our dockerd, but not answering yet: most likely another process is
      // starting it right now. Wait for it instead of fighting over the pidfile.
      log(`dockerd pid ${stale} from ${paths.pidFile} is starting; waiting for it`);
      await waitFor(() => answersPing(dockerHost), {
        timeoutMs: 60_000,
        what: `dockerd pid ${stale} to answer at ${dockerHost} (log: ${paths.logFile})`,
      });
      return new HostDocker(dockerHost, false, log);
    }
    await cleanAfterCrash(paths, log);

    log(`starting dockerd at ${dockerHost} (data root ${paths.dataRoot}, log ${paths.logFile})`);
    const proc = startProcess({
      name: 'dockerd',
      command: 'dockerd',
      args: [
        '--data-root',
        paths.dataRoot,
        '--exec-root',
        paths.execRoot,
        '--pidfile',
        paths.pidFile,
        '-H',
        dockerHost,
      ],
      logFile: paths.logFile,
    });
    const docker = new HostDocker(dockerHost, true, log, proc);
    try {
      await waitFor(
        async () => {
          if (!proc.running) throw new Error(`dockerd exited early:\n${tail(paths.logFile)}`);
          return answersPing(dockerHost);
        },
        { timeoutMs: 90_000, intervalMs: 250, what: `dockerd to answer at ${dockerHost}` },
      );
    } catch (err) {
      await docker.stop().catch(() => {});
      throw new Error(`${(err as Error).message}\nlast lines of ${paths.logFile}:\n${tail(paths.logFile)}`, {
        cause: err,
      });
    }
    return docker;
  }

  /**
   * Stops the daemon if we started it: removes our labelled containers and
   * volumes, then SIGTERMs dockerd (which stops any other container it runs)
   * and waits until it and its mounts are gone. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.startedByUs || this.stopped) return;
    this.stopped = true;
    const paths = hostDockerPaths();
    if (await answersPing(this.dockerHost)) {
      await removeLabelled(this.client({ timeoutMs: 60_000 }), this.log).catch((err: unknown) =>
        this.log(`cleanup before stopping dockerd failed (continuing): ${(err as Error).message}`),
      );
    }
    const pid = this.proc?.running ? this.proc.pid : readPid(paths.pidFile);
    this.log(`stopping dockerd pid ${pid ?? '(unknown)'}`);
    if (this.proc) {
      await this.proc.stop(60_000);
    } else if (pid !== undefined && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      await waitFor(async () => !isAlive(pid), { timeoutMs: 60_000, what: `dockerd pid ${pid} to exit` });
    }
    await waitFor(async () => currentMountsUnder([paths.dataRoot, paths.execRoot]).length === 0, {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'mounts under the dockerd data and exec roots to go away',
    }).catch(async () => {
      // Should not happen after a clean shutdown; unmount so no state leaks, and say so.
      const left = currentMountsUnder([paths.dataRoot, paths.execRoot]);
      this.log(`dockerd left ${left.length} mounts behind; unmounting them: ${left.join(', ')}`);
      await unmountAll(left);
    });
    rmSync(paths.socketPath, { force: true });
    rmSync(paths.pidFile, { force: true });
    // Only sockets and state files of the dead containerd remain; nothing is mounted there any more.
    rmSync(paths.execRoot, { recursive: true, force: true });
  }
}

function isOurDockerd(cmdline: string[] | undefined, paths: HostDockerPaths): boolean {
  return !!cmdline && cmdline.some((a) => a.endsWith('dockerd')) && cmdline.includes(paths.dataRoot);
}

async function unmountAll(mountPoints: string[]): Promise<void> {
  for (const mp of mountPoints) {
    // Lazy: a busy mount is detached now and freed when its last user goes.
    await run('umount', ['-l', mp]).catch(() => {});
  }
  const left = currentMountsUnder(mountPoints);
  if (left.length > 0) throw new Error(`could not unmount: ${left.join(', ')}`);
}

/**
 * Before starting our dockerd: a previous one may have been killed without
 * cleaning up. Its pidfile, socket, containerd state and mounts would make the
 * new daemon fail (or adopt a dead containerd), so remove them. Only called
 * when no dockerd of ours is alive.
 */
async function cleanAfterCrash(paths: HostDockerPaths, log: (m: string) => void): Promise<void> {
  const orphans = orphanProcesses(paths);
  // A shim's containers outlive it (their init is reparented), so find them
  // by container id in /proc/PID/cgroup and kill them first.
  const containerIds = orphans.flatMap((pid) => {
    const argv = processCmdline(pid) ?? [];
    const id = argv[argv.indexOf('-id') + 1];
    return argv.includes('-id') && id ? [id] : [];
  });
  const victims = [...processesInCgroupsOf(containerIds), ...orphans];
  for (const pid of victims) {
    log(`killing process ${pid} left by a crashed dockerd: ${processCmdline(pid)?.join(' ')}`);
    signalPid(pid, 'SIGKILL');
  }
  if (victims.length > 0) {
    await waitFor(async () => victims.every((pid) => !isAlive(pid)), {
      timeoutMs: 10_000,
      what: 'processes left by a crashed dockerd to exit',
    });
  }
  removeContainerCgroups(containerIds);
  const mounts = currentMountsUnder([paths.dataRoot, paths.execRoot]);
  if (mounts.length > 0) {
    log(`unmounting ${mounts.length} mounts left by a crashed dockerd`);
    await unmountAll(mounts);
  }
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.socketPath, { force: true });
  if (existsSync(paths.execRoot)) rmSync(paths.execRoot, { recursive: true, force: true });
}

function processesInCgroupsOf(containerIds: string[]): number[] {
  if (containerIds.length === 0) return [];
  return listPids().filter((pid) => {
    try {
      const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      return containerIds.some((id) => cgroups.includes(id));
    } catch {
      return false;
    }
  });
}

/** Empty cgroups of killed containers (cgroupfs driver: /sys/fs/cgroup[/CONTROLLER]/docker/ID). */
function removeContainerCgroups(containerIds: string[]): void {
  const root = '/sys/fs/cgroup';
  const bases = [root, ...readdirSync(root).map((c) => join(root, c))];
  for (const id of containerIds) {
    for (const base of bases) {
      try {
        rmdirSync(join(base, 'docker', id));
      } catch {
        // not there, or this controller is not mounted separately
      }
    }
  }
}

/** containerd and shims still running from a previous daemon of ours (they reference our exec root). */
function orphanProcesses(paths: HostDockerPaths): number[] {
  return listPids().filter((pid) => {
    const cmd = processCmdline(pid);
    return !!cmd && /containerd/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(paths.execRoot));
  });
}

/** Removes the containers and volumes the local environment labelled on a daemon. */
export async function removeLabelled(docker: Dockerode, log: (m: string) => void = () => {}): Promise<void> {
  const filters = JSON.stringify({ label: [`${LOCALENV_LABEL}=true`] });
  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) {
    log(`removing leftover container ${c.Names[0] ?? c.Id}`);
    const container = docker.getContainer(c.Id);
    if (c.State === 'paused') await container.unpause().catch(() => {});
    await container.remove({ force: true, v: true }).catch(ignoreNotFound);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    log(`removing leftover volume ${v.Name}`);
    await docker.getVolume(v.Name).remove().catch(ignoreNotFound);
  }
}

/** Swallows Docker's 404 (the object is already gone) and rethrows anything else. */
export function ignoreNotFound(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 404) throw err;
}
