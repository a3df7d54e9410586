// The real `dockyard controller` as a separate process (built JavaScript,
// not tsx), so its RSS and CPU are its own: read from /proc, and its
// /metrics scraped over loopback.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { imageRuntimeEnv } from '../../src/localenv/image-runtime-env.js';
import { freePort, waitFor } from '../../src/localenv/process.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { agentEndpointArgs } from '../../test/support/edge-agent.js';
import { parseSamples, type Sample } from '../../test/support/prometheus.js';
import type { Cleanup, Log } from './cleanup.js';

export interface ControllerSettings {
  /** The built entry point: relative to the repository (dist/main.js), or absolute. */
  entry: string;
  kubeconfig: string;
  /** --max-concurrent-reconciles */
  workers: number;
  /**
   * --max-concurrent-reconciles-per-host (the per-host lanes); absent: the
   * flag is not passed and the controller's own default applies, so a build
   * from before the flag still starts.
   */
  perHostWorkers?: number;
  /** --sync-period, as a Go duration ("10m", "5s"). */
  syncPeriod: string;
  /** false: --docker-events=false (poll only). */
  dockerEvents: boolean;
  /**
   * Write a V8 CPU profile (node --cpu-prof) into this folder on exit, and
   * heap snapshots there on heapSnapshot() (node --heapsnapshot-signal).
   */
  profileDir?: string;
  /** Controller log (JSON lines) goes here. */
  logFile: string;
  /** Open the V8 inspector on a loopback port (memory scenario: forced GC + live heap). */
  inspect?: boolean;
  /** Serve edge agents (the agent scenario). */
  agentEndpoint?: AgentEndpointSettings;
  /** One of several sharded replicas: --leader-elect --shards=N, the Leases in `namespace`. */
  sharding?: { shards: number; namespace: string };
}

/** node --heapsnapshot-signal: the controller writes a heap snapshot when it gets this. */
const HEAP_SNAPSHOT_SIGNAL = 'SIGUSR2';

/** Linux's USER_HZ: /proc/<pid>/stat times are in these ticks (100 on every mainstream kernel). */
const CLOCK_TICKS_PER_SECOND = 100;

export const REPO_ROOT = new URL('../..', import.meta.url).pathname;

export class ControllerProcess {
  readonly startedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private running = true;

  private constructor(
    readonly settings: ControllerSettings,
    readonly metricsUrl: string,
    readonly readyzUrl: string,
    /** Set when started with `inspect`. */
    readonly inspectPort: number | undefined,
    private readonly unregister: () => void,
    spawnChild: () => ChildProcess,
  ) {
    this.startedAt = performance.now();
    this.child = spawnChild();
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.running = false;
        resolve({ code, signal });
      }),
    );
  }

  /** Starts `node dist/main.js controller …` and waits until /readyz answers. */
  static async start(settings: ControllerSettings, cleanup: Cleanup, log: Log): Promise<ControllerProcess> {
    const metricsPort = await freePort();
    const healthPort = await freePort();
    const inspectPort = settings.inspect ? await freePort() : undefined;
    const nodeArgs = [
      ...(settings.profileDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${settings.profileDir}`,
            `--heapsnapshot-signal=${HEAP_SNAPSHOT_SIGNAL}`,
            `--diagnostic-dir=${settings.profileDir}`,
          ]
        : []),
      ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    ];
    if (settings.profileDir) mkdirSync(settings.profileDir, { recursive: true });
    const args = [
      ...nodeArgs,
      resolve(REPO_ROOT, settings.entry),
      'controller',
      `--kubeconfig=${settings.kubeconfig}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      `--max-concurrent-reconciles=${settings.workers}`,
      ...(settings.perHostWorkers !== undefined
        ? [`--max-concurrent-reconciles-per-host=${settings.perHostWorkers}`]
        : []),
      `--sync-period=${settings.syncPeriod}`,
      `--docker-events=${settings.dockerEvents}`,
      '--log-format=json',
      '--log-level=info',
      ...(settings.agentEndpoint ? agentEndpointArgs(settings.agentEndpoint) : []),
      ...(settings.sharding
        ? [
            '--leader-elect',
            `--leader-election-namespace=${settings.sharding.namespace}`,
            `--shards=${settings.sharding.shards}`,
          ]
        : []),
    ];
    // The cleanup step needs the process that is created below.
    const holder: { proc?: ControllerProcess } = {};
    const unregister = cleanup.add('controller', async () => holder.proc?.stop());
    const env = { ...process.env };
    delete env.KUBERNETES_SERVICE_HOST; // not a pod: only the kubeconfig flag counts
    // The controller image's runtime settings (Dockerfile ENV), so the memory
    // figures are the deployed configuration's; an exported value wins
    // (e.g. MALLOC_ARENA_MAX=0 NODE_OPTIONS= to measure Node's defaults).
    for (const setting of imageRuntimeEnv()) {
      const eq = setting.indexOf('=');
      env[setting.slice(0, eq)] ??= setting.slice(eq + 1);
    }
    mkdirSync(dirname(settings.logFile), { recursive: true });
    const logFd = openSync(settings.logFile, 'a');
    const proc = new ControllerProcess(
      settings,
      `http://127.0.0.1:${metricsPort}/metrics`,
      `http://127.0.0.1:${healthPort}/readyz`,
      inspectPort,
      unregister,
      () =>
        spawn(process.execPath, args, {
          cwd: REPO_ROOT,
          env,
          stdio: ['ignore', logFd, logFd],
        }),
    );
    holder.proc = proc;
    closeSync(logFd);
    log(`controller pid ${proc.pid} (${args.slice(nodeArgs.length + 2).join(' ')})`);
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`controller exited early; see ${settings.logFile}`);
        const res = await fetch(proc.readyzUrl, { signal: AbortSignal.timeout(2_000) }).catch(
          () => undefined,
        );
        return res?.ok === true;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: 'the controller to answer /readyz' },
    );
    return proc;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('controller has no pid');
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Resident set size in bytes (VmRSS in /proc/<pid>/status). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** User plus system CPU time in seconds (utime + stime in /proc/<pid>/stat). */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  }

  async metrics(): Promise<Sample[]> {
    const res = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${this.metricsUrl}: HTTP ${res.status}`);
    return parseSamples(await res.text());
  }

  /**
   * A V8 heap snapshot written into profileDir (bench/support/heap-summary.ts
   * reads it): the signal, then the new file once its size stops growing. The
   * controller's loop is blocked while V8 writes it, and its RSS grows: take
   * it after the figures of a run were read.
   */
  async heapSnapshot(timeoutMs = 300_000): Promise<string> {
    const dir = this.settings.profileDir;
    if (!dir) throw new Error('heap snapshots need profileDir (--profile)');
    // Node names them Heap.<date>.<time>.<pid>.<thread>.<seq>.heapsnapshot.
    const mine = () =>
      readdirSync(dir).filter(
        (f) => f.startsWith('Heap.') && f.includes(`.${this.pid}.`) && f.endsWith('.heapsnapshot'),
      );
    const before = new Set(mine());
    this.child.kill(HEAP_SNAPSHOT_SIGNAL);
    let last = -1;
    return waitFor(
      async () => {
        const file = mine().find((f) => !before.has(f));
        if (!file) return undefined;
        const size = statSync(join(dir, file)).size;
        const done = size > 0 && size === last;
        last = size;
        return done ? join(dir, file) : undefined;
      },
      { timeoutMs, intervalMs: 2_000, what: `a heap snapshot of controller ${this.pid}` },
    );
  }

  /** SIGTERM (graceful: the CPU profile is written on exit), SIGKILL after the timeout. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.unregister();
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: a crash, no graceful shutdown. */
  async kill(): Promise<void> {
    this.unregister();
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
