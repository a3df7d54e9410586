// Work that outlives a reconcile (a build, a push), one per owner and host,
// and its result until a reconcile takes it: reconciles never wait for one.

/** What a reconcile sees of an owner's job on a host. */
export type JobView<Result> =
  { state: 'running'; hash: string; startedAt: number } | { state: 'done'; result: Result };

export type JobRun<Result> = (signal: AbortSignal) => Promise<Result>;

interface Running {
  hash: string;
  startedAt: number;
  controller: AbortController;
  settled: Promise<void>;
}

/**
 * Jobs in flight, one per owner and host (a built image carries its owner's
 * labels, so owners never share a build), and each one's result until a
 * reconcile takes it. A job works on a `hash` (a build hash, the image ID a
 * push sends): one for another hash is stale, and released.
 */
export class BackgroundJobs<Result> {
  private readonly running = new Map<string, Running>();
  private readonly results = new Map<string, Result>();

  constructor(
    private readonly opts: {
      /** Called when a build settles, with the owner's queue key. */
      onSettled?: (ownerKey: string) => void;
      now?: () => number;
    } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Starts a build of `hash` under `key`; `run` must not reject. */
  start(opts: { key: string; ownerKey: string; hash: string; run: JobRun<Result> }): void {
    if (this.running.has(opts.key)) return;
    this.results.delete(opts.key);
    const controller = new AbortController();
    const job: Running = {
      hash: opts.hash,
      startedAt: this.now(),
      controller,
      settled: Promise.resolve(),
    };
    job.settled = opts.run(controller.signal).then((result) => {
      this.running.delete(opts.key);
      // A build released meanwhile leaves no result behind.
      if (!controller.signal.aborted) this.results.set(opts.key, result);
      this.opts.onSettled?.(opts.ownerKey);
    });
    this.running.set(opts.key, job);
  }

  view(key: string): JobView<Result> | undefined {
    const job = this.running.get(key);
    if (job) return { state: 'running', hash: job.hash, startedAt: job.startedAt };
    const result = this.results.get(key);
    return result ? { state: 'done', result } : undefined;
  }

  /** The reconcile has acted on the result. */
  take(key: string): void {
    this.results.delete(key);
  }

  /** Aborts the build under `key` (spec changed, owner gone); the promise of its end. */
  release(key: string): Promise<void> | undefined {
    this.results.delete(key);
    const job = this.running.get(key);
    if (!job) return undefined;
    job.controller.abort();
    return job.settled;
  }
}
