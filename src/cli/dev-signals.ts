// Signals for `dockyard dev`, which lives longer than its Manager: it builds
// and starts the local environment before the controllers run and stops it
// after. One router owns SIGINT and SIGTERM for the whole process. While
// runManager runs, it is runManager's `process` (signals go to its listeners,
// exactly as in `dockyard controller`); before and after, they go to the
// phase's own handler. `exit` runs an emergency stop first, so no path out of
// the process leaves the control plane running.
//
// A signal that repeats within REPEAT_WINDOW_MS of the last one is the same
// request delivered twice, not a second Ctrl-C: a terminal's Ctrl-C reaches
// the whole process group, and `npm start` runs us under tsx, whose parent
// process relays the SIGINT it got to us as well, ~30 ms later.

import type { ProcessHooks } from './lifecycle.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
export const REPEAT_WINDOW_MS = 500;

/** `received` counts every signal so far, so a handler knows a second one asks for haste. */
export type SignalHandler = (signal: NodeJS.Signals, received: number) => void;

export class SignalRouter implements ProcessHooks {
  private readonly listeners = new Map<NodeJS.Signals, Set<() => void>>();
  private readonly installed: [NodeJS.Signals, () => void][];
  private handler: SignalHandler = () => {};
  private count = 0;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly proc: ProcessHooks,
    private readonly emergencyStop: () => void = () => {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.installed = SIGNALS.map((signal) => [signal, () => this.dispatch(signal)]);
    for (const [signal, listener] of this.installed) proc.on(signal, listener);
  }

  /** Signals received so far. */
  get received(): number {
    return this.count;
  }

  /** Handles signals while nobody listens through on(). */
  setHandler(handler: SignalHandler): void {
    this.handler = handler;
  }

  on(signal: NodeJS.Signals, listener: () => void): void {
    let set = this.listeners.get(signal);
    if (!set) this.listeners.set(signal, (set = new Set()));
    set.add(listener);
  }

  off(signal: NodeJS.Signals, listener: () => void): void {
    this.listeners.get(signal)?.delete(listener);
  }

  exit(code: number): never {
    this.emergencyStop();
    return this.proc.exit(code);
  }

  /** Gives the signals back to the process. */
  dispose(): void {
    for (const [signal, listener] of this.installed) this.proc.off(signal, listener);
  }

  private dispatch(signal: NodeJS.Signals): void {
    const at = this.now();
    if (at - this.lastAt < REPEAT_WINDOW_MS) return;
    this.lastAt = at;
    this.count++;
    const listeners = [...(this.listeners.get(signal) ?? [])];
    if (listeners.length > 0) for (const listener of listeners) listener();
    else this.handler(signal, this.count);
  }
}

export const nodeProcessHooks: ProcessHooks = {
  on: (signal, listener) => void process.on(signal, listener),
  off: (signal, listener) => void process.off(signal, listener),
  exit: (code) => process.exit(code),
};
