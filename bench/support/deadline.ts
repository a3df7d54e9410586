// The bench never hangs: every Docker and API call gets a deadline, and a
// call that misses it fails the run with an error naming the step, the host
// and the call. Long phases report progress at most every few seconds, also
// when nothing moves (so a stall is visible while it happens).
//
//   withDeadline(work, spec)   one call, rejected with DeadlineExceeded after spec.ms
//   deadlined(target, spec)    every promise-returning method of a client (dockerode, client-node)
//   inStep(step, fn)           names the step for every deadline inside fn (AsyncLocalStorage)
//   progress(opts)             "[convergence] round 1 direct: 120/200 started (35 s)"

import { AsyncLocalStorage } from 'node:async_hooks';

export type Log = (message: string) => void;

/** Per-call deadlines: generous, so a healthy but slow machine never trips them. */
export const DOCKER_CALL_MS = 60_000;
export const API_CALL_MS = 30_000;

export interface DeadlineSpec {
  /** What the bench was doing; defaults to the enclosing inStep() (or "bench"). */
  step?: string;
  /** Who was asked: a node name, the API server's address. */
  host?: string;
  /** The call, with what identifies its object ("start container direct-0042"). */
  call: string;
  ms: number;
}

export class DeadlineExceeded extends Error {
  constructor(
    readonly step: string,
    readonly host: string | undefined,
    readonly call: string,
    readonly elapsedMs: number,
  ) {
    super(
      `${step}: ${call}${host ? ` on ${host}` : ''} got no answer within ${formatSeconds(elapsedMs)}` +
        ' (deadline exceeded; the run stops here instead of hanging)',
    );
    this.name = 'DeadlineExceeded';
  }
}

const steps = new AsyncLocalStorage<string>();

/** Runs fn with `step` named for every deadline inside it; nested steps join with " › ". */
export function inStep<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const outer = steps.getStore();
  return steps.run(outer ? `${outer} › ${step}` : step, fn);
}

export function currentStep(): string | undefined {
  return steps.getStore();
}

/** "[convergence › round 2/3 direct] containers", or "[containers]" outside any step: a progress label. */
export function stepLabel(what: string): string {
  const step = currentStep();
  return step ? `[${step}] ${what}` : `[${what}]`;
}

/**
 * Settles as `work` does, or rejects with DeadlineExceeded after spec.ms. A
 * function gets an AbortSignal that fires at the deadline, for calls that can
 * be cancelled; others are left to finish (or not) in the background.
 */
export function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  spec: DeadlineSpec,
): Promise<T> {
  const step = spec.step ?? currentStep() ?? 'bench';
  const abort = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeadlineExceeded(step, spec.host, spec.call, performance.now() - started);
      abort.abort(err);
      reject(err);
    }, spec.ms);
  });
  let promise: Promise<T>;
  try {
    promise = typeof work === 'function' ? work(abort.signal) : work;
  } catch (err) {
    clearTimeout(timer);
    return Promise.reject(err);
  }
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface DeadlinedSpec {
  host: string;
  ms: number;
  /** Names a call from its method and arguments (and the object it was called on). */
  describe: (method: string, args: readonly unknown[], target: object) => string;
  /** Methods passed through without a deadline (long waits, streams that are the point). */
  exempt?: ReadonlySet<string>;
  /** Applied to every value a method returns or resolves to (e.g. wrap a returned Container too). */
  wrapResult?: (value: unknown) => unknown;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * `target` with every method that returns a promise put under a deadline
 * (the type is unchanged, so code written for the client works as before).
 * Methods are called on the target itself; properties pass through.
 */
export function deadlined<T extends object>(target: T, spec: DeadlinedSpec): T {
  const wrap = spec.wrapResult ?? ((v: unknown) => v);
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (spec.exempt?.has(prop)) return method.bind(obj);
      return (...args: unknown[]) => {
        const out = method.apply(obj, args);
        if (!isThenable(out)) return wrap(out);
        return withDeadline(Promise.resolve(out).then(wrap), {
          host: spec.host,
          call: spec.describe(prop, args, obj),
          ms: spec.ms,
        });
      };
    },
  });
}

export interface ProgressOptions {
  /** Printed first, e.g. "[convergence] round 1 direct". */
  label: string;
  total: number;
  log: Log;
  /** "started", "Ready", "gone"… */
  verb?: string;
  /** At most one line per this many ms (default 5 s). */
  everyMs?: number;
  /** Read the count from here instead of tick()/set(). */
  count?: () => number;
  /** Appended to each line, e.g. "4 in flight". */
  detail?: () => string;
}

export interface Progress {
  tick(n?: number): void;
  set(count: number): void;
  readonly count: number;
  /** Stops the timer; prints a last line if any line was printed (a phase over everyMs). */
  done(): void;
}

/**
 * Prints "label: count/total verb (elapsed)" every `everyMs` while the phase
 * runs, also when the count has not moved ("no change for 25 s"), so a stuck
 * phase shows where it stopped. A phase shorter than everyMs prints nothing.
 */
export function progress(opts: ProgressOptions): Progress {
  const everyMs = opts.everyMs ?? 5_000;
  const verb = opts.verb ?? 'done';
  const t0 = performance.now();
  let own = 0;
  let lastCount = -1;
  let lastChange = t0;
  let printed = false;
  const current = () => (opts.count ? opts.count() : own);
  const line = (final: boolean) => {
    const now = performance.now();
    const n = current();
    if (n !== lastCount) {
      lastCount = n;
      lastChange = now;
    }
    const still =
      !final && now - lastChange >= everyMs ? `, no change for ${formatSeconds(now - lastChange)}` : '';
    const detail = opts.detail ? `, ${opts.detail()}` : '';
    opts.log(`${opts.label}: ${n}/${opts.total} ${verb} (${formatSeconds(now - t0)}${still})${detail}`);
    printed = true;
  };
  const timer = setInterval(() => line(false), everyMs);
  timer.unref();
  return {
    tick(n = 1) {
      own += n;
    },
    set(count: number) {
      own = count;
    },
    get count() {
      return current();
    },
    done() {
      clearInterval(timer);
      if (printed) line(true);
    },
  };
}

/** Runs fn with a progress reporter and stops it however fn ends. */
export async function withProgress<T>(opts: ProgressOptions, fn: (p: Progress) => Promise<T>): Promise<T> {
  const p = progress(opts);
  try {
    return await fn(p);
  } finally {
    p.done();
  }
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
