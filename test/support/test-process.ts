// Child processes for tests that need real separate processes (leader
// election, the CLI): started with the test's own Node and tsx's loader in
// one process, so the pid we signal is the process that runs the code (no
// npx or tsx wrapper in between to swallow SIGKILL). Their JSON log lines
// are parsed and kept with the time (this process's clock) they arrived.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../src/localenv/process.js';
import type { LogLine } from './log-capture.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildLine {
  /** performance.now() in the test process when the line arrived. */
  at: number;
  line: LogLine;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

const live = new Set<TestProcess>();

export class TestProcess {
  readonly lines: ChildLine[] = [];
  /** stderr and non-JSON stdout, for failure messages. */
  readonly other: string[] = [];
  readonly exited: Promise<ChildExit>;
  private readonly child: ChildProcess;
  private exit: ChildExit | undefined;

  /** Runs a TypeScript entry point (path relative to the repository) with `args`. */
  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    env: Record<string, string | undefined>,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const at = performance.now();
      try {
        const line = JSON.parse(text) as LogLine;
        if (typeof line === 'object' && line !== null && typeof line.level === 'number') {
          this.lines.push({ at, line });
          return;
        }
      } catch {
        // not a log line
      }
      this.other.push(text);
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => this.other.push(text));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: performance.now() };
        live.delete(this);
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  find(match: (line: LogLine) => boolean): ChildLine | undefined {
    return this.lines.find((l) => match(l.line));
  }

  count(match: (line: LogLine) => boolean): number {
    return this.lines.filter((l) => match(l.line)).length;
  }

  /** The first log line (already seen or still to come) that matches. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<ChildLine> {
    try {
      return await waitFor(
        async () => {
          const found = this.find(match);
          if (found) return found;
          if (!this.running) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)})`);
          return undefined;
        },
        { timeoutMs, intervalMs: 20, what: `${this.name}: ${what}` },
      );
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${this.describe()}`, {
        cause: err,
      });
    }
  }

  signal(signal: NodeJS.Signals): number {
    this.child.kill(signal);
    return performance.now();
  }

  /** SIGKILL if still running; resolves once gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The child's output, for failure messages. */
  describe(): string {
    const logs = this.lines.map(({ line }) => `${line.level} ${line.msg ?? ''}`);
    return `--- ${this.name} (pid ${this.child.pid ?? '?'}) ---\n${[...logs, ...this.other].slice(-60).join('\n')}`;
  }
}

/** Kills every child a test file started and did not reap (for afterAll). */
export async function killAllTestProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}
