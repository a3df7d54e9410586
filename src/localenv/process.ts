import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ProcessSpec {
  /** Short name used in errors and log file names. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here; without it they are discarded. */
  logFile?: string;
}

/**
 * A child process that we started and therefore must stop. Stopping is by pid
 * (SIGTERM, then SIGKILL after a grace period) so nothing outlives the
 * environment that started it.
 */
export class ManagedProcess {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;

  constructor(readonly spec: ProcessSpec) {
    const out = spec.logFile ? createWriteStream(spec.logFile, { flags: 'a' }) : 'ignore';
    this.child = spawn(spec.command, spec.args, {
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      stdio: ['ignore', out === 'ignore' ? 'ignore' : 'pipe', out === 'ignore' ? 'ignore' : 'pipe'],
    });
    if (out !== 'ignore') {
      this.child.stdout?.pipe(out, { end: false });
      this.child.stderr?.pipe(out, { end: false });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        resolve(this.exitCode);
      });
      // The log stream ends on 'close', not 'exit': the child's last output may
      // still be in flight at 'exit' and would be lost (or written after end).
      this.child.once('close', () => {
        if (out !== 'ignore') out.end();
      });
      this.child.once('error', () => {
        this.exitCode = null;
        resolve(null);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.spec.name}: process did not start`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGCONT'); // a paused process cannot act on SIGTERM
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  return new ManagedProcess(spec);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What we are waiting for, used in the timeout error. */
  what: string;
}

/** Polls `check` until it returns a value other than undefined/false, or times out with the last error. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

// ---------------------------------------------------------------------------
// Processes known only by pid (from a pid file or /proc): ones an earlier run
// left behind, or a daemon another process started.

/** Every pid in /proc except this process's own. */
export function listPids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** The process's argv from /proc, or undefined when it is gone. */
export function processCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** The pid a pid file holds; undefined when the file is missing or holds no pid. */
export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Signal 0 reaches it. A process we may not signal counts as gone: the callers
 * wait for processes they are about to signal themselves (build-lock.ts's
 * pidAlive asks whether it exists at all).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal`; a process that is already gone is not an error. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
