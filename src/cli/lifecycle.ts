// How a Dockyard process lives and ends around its Manager, like
// controller-runtime's SetupSignalHandler + mgr.Start:
//   - SIGTERM/SIGINT stop the manager gracefully (finish reconciles, release
//     the lease) and the process exits 0; a second signal exits 1 at once.
//   - Whatever happens, the process is gone within the hard deadline
//     (Kubernetes' default terminationGracePeriodSeconds is 30 s).
//   - Losing the lease exits 1 at once, from the manager's `leadershipLost`
//     listener: no drain, no `stopAlso`, no callback of an aborted Docker or
//     Kubernetes call runs after it, so nothing more is written while another
//     replica may be leading (controller-runtime: "leader election lost",
//     graceful shutdown skipped). The pod restarts and campaigns again as a
//     standby with fresh caches, rather than trying to resume.

import type { Logger } from 'pino';
import type { Manager, ManagerExitReason } from '../runtime/manager.js';

export type ManagedProcessManager = Pick<Manager, 'start' | 'stop' | 'done'> & {
  /** Aborts when the lease is lost; absent without leader election. */
  readonly leadershipLost?: AbortSignal;
};

/** The part of `process` used here, so tests can drive signals and exits. */
export interface ProcessHooks {
  on(signal: NodeJS.Signals, listener: () => void): void;
  off(signal: NodeJS.Signals, listener: () => void): void;
  exit(code: number): never;
}

export interface RunManagerOptions {
  logger: Logger;
  /** Stops what was started next to the manager (controllers' own background work). */
  stopAlso?: () => Promise<void>;
  /** From the first signal to a forced exit. Default 30 s. */
  hardDeadlineMs?: number;
  /** Bound on `stopAlso`, which runs after the manager stopped. Default 5 s. */
  stopAlsoTimeoutMs?: number;
  process?: ProcessHooks;
}

/** Manager's own stop deadline when run under the default hard deadline: leaves time for the rest. */
export const MANAGER_SHUTDOWN_TIMEOUT_MS = 25_000;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export function exitCodeFor(reason: ManagerExitReason): number {
  return reason === 'stopped' ? 0 : 1;
}

/** Starts `manager`, runs it until it ends or a signal stops it, and returns the exit code. */
export async function runManager(
  manager: ManagedProcessManager,
  options: RunManagerOptions,
): Promise<number> {
  const { logger } = options;
  const proc = options.process ?? nodeProcess;
  const hardDeadlineMs = options.hardDeadlineMs ?? 30_000;
  let signalled = false;
  let hardTimer: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal received; exiting without waiting');
      proc.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received; shutting down');
    hardTimer = setTimeout(() => {
      logger.error({ hardDeadlineMs }, 'shutdown did not finish in time; exiting');
      proc.exit(1);
    }, hardDeadlineMs);
    hardTimer.unref();
    void manager.stop();
  };
  const listeners = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, listener] of listeners) proc.on(signal, listener);
  // Synchronous on purpose: the exit comes before any promise callback of a call the loss aborted.
  const onLeadershipLost = (): void => {
    logger.error({ exitCode: 1 }, 'lease lost; exiting at once without draining');
    proc.exit(1);
  };
  manager.leadershipLost?.addEventListener('abort', onLeadershipLost, { once: true });

  try {
    try {
      await manager.start();
    } catch (err) {
      logger.error({ err }, 'manager failed to start');
      await stopWithin(options, logger);
      return 1;
    }
    const exit = await manager.done;
    // After a lost lease nothing may run on: not even the controllers' own stop.
    if (exit.reason !== 'leadership-lost') await stopWithin(options, logger);
    const code = exitCodeFor(exit.reason);
    if (exit.reason === 'error') logger.error({ err: exit.error }, 'manager stopped on an error');
    logger.info({ reason: exit.reason, exitCode: code }, 'exiting');
    return code;
  } finally {
    clearTimeout(hardTimer);
    manager.leadershipLost?.removeEventListener('abort', onLeadershipLost);
    for (const [signal, listener] of listeners) proc.off(signal, listener);
  }
}

async function stopWithin(options: RunManagerOptions, logger: Logger): Promise<void> {
  if (!options.stopAlso) return;
  const timeoutMs = options.stopAlsoTimeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  // Errors are handled on the promise itself, so a failure after the timeout is not left unhandled.
  const stopping = Promise.resolve()
    .then(() => options.stopAlso?.())
    .then(
      () => 'ok' as const,
      (err: unknown) => {
        logger.error({ err }, 'error while stopping controllers');
        return 'failed' as const;
      },
    );
  const outcome = await Promise.race([stopping, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.error({ timeoutMs }, 'controllers did not stop in time');
}

const nodeProcess: ProcessHooks = {
  on: (signal, listener) => void process.on(signal, listener),
  off: (signal, listener) => void process.off(signal, listener),
  exit: (code) => process.exit(code),
};
