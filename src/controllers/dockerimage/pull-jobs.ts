import { Reason, type PullFailureReason } from '../../crds/reasons.js';
import type { PullProgress } from '../../docker/image-client.js';

/** How a background pull ended. */
export type PullResult =
  | { ok: true; digest?: string; bytes: number; durationMs: number; finishedAt: number }
  | { ok: false; reason: PullFailureReason; message: string; durationMs: number; finishedAt: number };

/** What one owner sees of a host+image's pull. */
export type PullView =
  { state: 'running'; startedAt: number; progress: PullProgress } | { state: 'done'; result: PullResult };

export type PullRun = (signal: AbortSignal, onProgress: (p: PullProgress) => void) => Promise<PullResult>;

interface RunningPull {
  startedAt: number;
  progress: PullProgress;
  /** What observers were last shown, and when: progress moves in status at most every progressIntervalMs. */
  shown: { at: number; progress: PullProgress };
  /** Owner id → what to hand back when the pull settles (the owner's queue key). */
  subscribers: Map<string, string>;
  controller: AbortController;
  settled: Promise<void>;
}

const NO_PROGRESS: PullProgress = { currentBytes: 0, totalBytes: 0, percent: 0 };

/**
 * Pulls in flight, one per key (the DockerImage kind keys them by host, image,
 * platform and credential identity: a second DockerImage naming the same
 * image on the same host with the same credentials joins the running pull;
 * one with other credentials never sees it), and their results until
 * each owner has taken its own. Reconciles never wait for a pull: they read
 * its progress and report it, so the status shows progress while the work
 * queue stays free. Observers see progress move at most every
 * `progressIntervalMs` (default 2 s), however often they look, so status is
 * not rewritten for every progress message. Results nobody takes expire
 * after `ttlMs`.
 */
export class PullJobs {
  private readonly running = new Map<string, RunningPull>();
  private readonly results = new Map<string, PullResult>();

  constructor(
    private readonly opts: {
      /** Called once per owner when a pull settles (to reconcile it right away). */
      onSettled?: (ownerKey: string) => void;
      now?: () => number;
      ttlMs?: number;
      progressIntervalMs?: number;
    } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private static resultKey(key: string, owner: string): string {
    return `${owner}\u0000${key}`;
  }

  /** Starts a pull for `key` unless one is running (then `owner` joins it). `run` must not reject. */
  start(key: string, owner: string, ownerKey: string, run: PullRun): void {
    this.expire();
    const existing = this.running.get(key);
    if (existing) {
      existing.subscribers.set(owner, ownerKey);
      return;
    }
    this.results.delete(PullJobs.resultKey(key, owner));
    const controller = new AbortController();
    const startedAt = this.now();
    const job: RunningPull = {
      startedAt,
      progress: NO_PROGRESS,
      shown: { at: startedAt, progress: NO_PROGRESS },
      subscribers: new Map([[owner, ownerKey]]),
      controller,
      settled: Promise.resolve(),
    };
    job.settled = run(controller.signal, (p) => {
      job.progress = p;
    })
      .catch((err: unknown): PullResult => ({
        ok: false,
        reason: Reason.PullError,
        message: err instanceof Error ? err.message : String(err),
        durationMs: this.now() - startedAt,
        finishedAt: this.now(),
      }))
      .then((result) => {
        this.running.delete(key);
        for (const [id, ownerKeyOf] of job.subscribers) {
          this.results.set(PullJobs.resultKey(key, id), result);
          this.opts.onSettled?.(ownerKeyOf);
        }
      });
    this.running.set(key, job);
  }

  /** The running pull (joining it) or this owner's untaken result for `key`. */
  observe(key: string, owner: string, ownerKey: string): PullView | undefined {
    this.expire();
    const job = this.running.get(key);
    if (job) {
      job.subscribers.set(owner, ownerKey);
      const now = this.now();
      if (now - job.shown.at >= (this.opts.progressIntervalMs ?? 2_000))
        job.shown = { at: now, progress: job.progress };
      return { state: 'running', startedAt: job.startedAt, progress: job.shown.progress };
    }
    const result = this.results.get(PullJobs.resultKey(key, owner));
    return result ? { state: 'done', result } : undefined;
  }

  /** The owner has acted on its result. */
  take(key: string, owner: string): void {
    this.results.delete(PullJobs.resultKey(key, owner));
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /**
   * The owner no longer wants `key` (deleted, or moved off the host): leave
   * the pull, and abort it when nobody else waits for it. Returns the
   * promise of its end, or undefined when none is running.
   */
  release(key: string, owner: string): Promise<void> | undefined {
    this.results.delete(PullJobs.resultKey(key, owner));
    const job = this.running.get(key);
    if (!job) return undefined;
    job.subscribers.delete(owner);
    if (job.subscribers.size === 0) job.controller.abort();
    return job.settled;
  }

  private expire(): void {
    const ttl = this.opts.ttlMs ?? 10 * 60_000;
    const cutoff = this.now() - ttl;
    for (const [k, r] of this.results) if (r.finishedAt < cutoff) this.results.delete(k);
  }
}
