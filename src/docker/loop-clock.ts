// Time as this process could use it. A deadline on a Docker request means
// "the daemon did not answer in time"; but when the controller's own event
// loop is saturated (a thousand hosts converging at once, on the CPU the
// controller shares), an answer already in the socket waits for the loop as
// well, and Node runs expired timers before it reads sockets: a wall-clock
// deadline then blames the daemon for the controller's own lag, and healthy
// hosts get failed fast and backed off. This clock advances with wall time
// while the loop keeps up, and by at most `maxStepMs` per tick while it is
// stalled, so deadlines stretch by what the process itself lost.

export interface LoopClockOptions {
  /** How often the clock ticks. Default 200 ms. */
  tickMs?: number;
  /** The most one tick may add, however late it runs. Default 2 × tickMs. */
  maxStepMs?: number;
  /** Wall clock; injectable for tests. */
  wallNow?: () => number;
}

export class LoopClock {
  private readonly tickMs: number;
  private readonly maxStepMs: number;
  private readonly wallNow: () => number;
  private credited = 0;
  private lastTick: number;
  private readonly deadlines = new Set<{ at: number; abort: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: LoopClockOptions = {}) {
    this.tickMs = options.tickMs ?? 200;
    this.maxStepMs = options.maxStepMs ?? 2 * this.tickMs;
    this.wallNow = options.wallNow ?? (() => performance.now());
    this.lastTick = this.wallNow();
  }

  /** Milliseconds of usable time since the clock was made (monotonic). */
  now = (): number => {
    this.ensureTicking();
    return this.credited + Math.min(this.wallNow() - this.lastTick, this.maxStepMs);
  };

  /** Like AbortSignal.timeout, in this clock's time (to a tick's precision). */
  timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    const entry = {
      at: this.now() + ms,
      abort: () => controller.abort(new DOMException(`deadline of ${ms} ms exceeded`, 'TimeoutError')),
    };
    this.deadlines.add(entry);
    controller.signal.addEventListener('abort', () => this.deadlines.delete(entry), { once: true });
    return controller.signal;
  }

  /** Advances the clock; the ticker calls it, tests call it with an injected wall clock. */
  tick(): void {
    const wall = this.wallNow();
    this.credited += Math.min(wall - this.lastTick, this.maxStepMs);
    this.lastTick = wall;
    for (const d of [...this.deadlines]) if (this.credited >= d.at) d.abort();
  }

  /** Stops the ticker (tests); the next use starts it again. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private ensureTicking(): void {
    if (this.timer) return;
    // Catch up on the time that passed while nobody asked, as wall time.
    this.credited += this.wallNow() - this.lastTick;
    this.lastTick = this.wallNow();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }
}

/** The process's clock for Docker deadlines (responsiveness guard, pings). */
export const loopClock = new LoopClock();
