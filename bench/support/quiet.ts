import { waitFor } from '../../src/localenv/process.js';
import type { ControllerProcess } from './controller.js';
import { counterSum } from './metrics.js';

/**
 * Waits until the controller has nothing queued and nothing running, seen on
 * `reads` consecutive scrapes: after a (re)start every object is reconciled
 * once; measurements that follow should not include that wave.
 */
export async function waitUntilQuiet(
  controller: ControllerProcess,
  timeoutMs: number,
  reads = 3,
  intervalMs = 500,
): Promise<void> {
  let quietReads = 0;
  let last = 'no /metrics answer yet';
  await waitFor(
    async () => {
      const samples = await controller.metrics();
      const depth = counterSum(samples, 'workqueue_depth');
      const active = counterSum(samples, 'controller_runtime_active_workers');
      last = `last read: ${depth} queued, ${active} reconciling`;
      quietReads = depth + active === 0 ? quietReads + 1 : 0;
      return quietReads >= reads;
    },
    { timeoutMs, intervalMs, what: 'the controller to go quiet (empty queues, no active reconciles)' },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; ${last}`, { cause: err });
  });
}

/** Reconciles the controller finished so far, for one controller name (all results). */
export async function reconcilesDone(controller: ControllerProcess, name: string): Promise<number> {
  return counterSum(await controller.metrics(), 'controller_runtime_reconcile_total', { controller: name });
}
