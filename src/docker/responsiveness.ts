// A hung Docker daemon (a paused VM, a partitioned edge box) does not refuse
// connections: requests simply wait until the socket timeout (30 s). Every
// worker that touches such a host is stuck for that long, and the workers are
// shared by all hosts, so one hung host would slow every other host down.
// The guard notices a request that has waited `suspectAfterMs` with no answer
// from the daemon since it started, pings the daemon with a short deadline,
// and when the ping fails too, fails every waiting request at once and every
// new one immediately (UnresponsiveHostError) until a ping answers again. A
// slow but alive daemon answers the ping and its requests keep waiting.

import { loopClock } from './loop-clock.js';

/** The daemon answers neither the request nor a ping: the host is treated as down for now. */
export class UnresponsiveHostError extends Error {
  readonly code = 'EHOSTUNRESPONSIVE';
  constructor(
    readonly host: string,
    waitedMs: number,
  ) {
    super(
      `Docker daemon of host ${host} is not responding (a request waited ${Math.round(waitedMs / 100) / 10} s and a ping got no answer)`,
    );
    this.name = 'UnresponsiveHostError';
  }
}

export function isUnresponsiveHostError(err: unknown): err is UnresponsiveHostError {
  return err instanceof UnresponsiveHostError;
}

export interface ResponsivenessOptions {
  host: string;
  /** Ping the daemon once a request has waited this long without any answer from it. Default 2 s. */
  suspectAfterMs?: number;
  /** The ping's deadline, and the least time between pings while the host is unresponsive. Default 2 s. */
  pingTimeoutMs?: number;
  /** A cheap request with its own deadline (`GET /_ping`); rejects when the daemon does not answer. */
  ping: (timeoutMs: number) => Promise<unknown>;
  /** Called when the host becomes unresponsive or responsive again (logs, metrics). */
  onChange?: (host: string, responsive: boolean) => void;
  /** Default: loopClock.now, which does not count the time this process's event loop was stalled. */
  now?: () => number;
}

interface Waiting {
  started: number;
  fail: (err: Error) => void;
}

/** What the guard should do now, from its state; pure so it is table-tested. */
export function nextAction(state: {
  now: number;
  oldestWaitingSince: number | undefined;
  lastAnswerAt: number;
  probing: boolean;
  suspectAfterMs: number;
}): 'probe' | 'wait' {
  const { now, oldestWaitingSince, lastAnswerAt, probing, suspectAfterMs } = state;
  if (probing || oldestWaitingSince === undefined) return 'wait';
  // An answer to any request after the oldest one started proves the daemon is alive.
  if (lastAnswerAt >= oldestWaitingSince) {
    return now - lastAnswerAt >= suspectAfterMs ? 'probe' : 'wait';
  }
  return now - oldestWaitingSince >= suspectAfterMs ? 'probe' : 'wait';
}

type DialCallback = (err: unknown, data: unknown) => void;
interface DialingModem {
  dial(options: unknown, callback: DialCallback): unknown;
}

export class ResponsivenessGuard {
  private readonly waiting = new Set<Waiting>();
  private readonly suspectAfterMs: number;
  private readonly pingTimeoutMs: number;
  private readonly now: () => number;
  private lastAnswerAt = 0;
  private unresponsive = false;
  private probing = false;
  private lastProbeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ResponsivenessOptions) {
    this.suspectAfterMs = opts.suspectAfterMs ?? 2_000;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2_000;
    // Usable time, not wall time: the controller's own lag is not the daemon's (loop-clock.ts).
    this.now = opts.now ?? loopClock.now;
  }

  get responsive(): boolean {
    return !this.unresponsive;
  }

  /** Routes every request of a dockerode modem through the guard. */
  guard(modem: DialingModem): void {
    const dial = modem.dial.bind(modem);
    modem.dial = (options: unknown, callback: DialCallback) => {
      const started = this.now();
      if (this.unresponsive) {
        this.probeSoon();
        callback(new UnresponsiveHostError(this.opts.host, 0), undefined);
        return undefined;
      }
      let settled = false;
      const entry: Waiting = {
        started,
        fail: (err) => {
          if (settled) return;
          settled = true;
          this.waiting.delete(entry);
          callback(err, undefined);
        },
      };
      this.waiting.add(entry);
      this.arm();
      return dial(options, (err, data) => {
        // Any answer, even an error status, shows the daemon is alive; a
        // socket timeout or reset does not.
        if (!err || typeof (err as { statusCode?: unknown }).statusCode === 'number') {
          this.lastAnswerAt = this.now();
        }
        if (settled) return; // already failed by the guard; the late answer is dropped
        settled = true;
        this.waiting.delete(entry);
        callback(err, data);
      });
    };
  }

  /** Stops the watch timer (the connection is being replaced). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), Math.max(50, Math.floor(this.suspectAfterMs / 4)));
    this.timer.unref();
  }

  private check(): void {
    if (this.waiting.size === 0) {
      this.close();
      return;
    }
    let oldest: number | undefined;
    for (const w of this.waiting) oldest = oldest === undefined ? w.started : Math.min(oldest, w.started);
    const action = nextAction({
      now: this.now(),
      oldestWaitingSince: oldest,
      lastAnswerAt: this.lastAnswerAt,
      probing: this.probing,
      suspectAfterMs: this.suspectAfterMs,
    });
    if (action === 'probe') void this.probe();
  }

  private probeSoon(): void {
    if (this.probing || this.now() - this.lastProbeAt < this.pingTimeoutMs) return;
    void this.probe();
  }

  private async probe(): Promise<void> {
    this.probing = true;
    this.lastProbeAt = this.now();
    try {
      await this.opts.ping(this.pingTimeoutMs);
      this.lastAnswerAt = this.now();
      if (this.unresponsive) {
        this.unresponsive = false;
        this.opts.onChange?.(this.opts.host, true);
      }
    } catch {
      const now = this.now();
      if (!this.unresponsive) {
        this.unresponsive = true;
        this.opts.onChange?.(this.opts.host, false);
      }
      for (const w of [...this.waiting]) w.fail(new UnresponsiveHostError(this.opts.host, now - w.started));
    } finally {
      this.probing = false;
    }
  }
}
