// A control plane (kube-apiserver + etcd, the CRDs installed) and nothing
// else: no host Docker daemon, no Docker-in-Docker nodes. For scenarios whose
// Docker hosts are hollow (bench/hollow, in the bench's own process), which
// start and stop controllers themselves, phase by phase.

import { join } from 'node:path';
import { installCrds } from '../../src/crds/install.js';
import { ControlPlane } from '../../src/localenv/control-plane.js';
import { Kube } from '../../test/support/kube.js';
import type { Sample } from '../../test/support/prometheus.js';
import type { Cleanup, Log } from './cleanup.js';
import { withApiDeadlines } from './clients.js';
import { ControllerProcess, type ControllerSettings } from './controller.js';
import { scrapeApiServer } from './metrics.js';
import type { BenchOptions } from './options.js';

export interface ControlPlaneSession {
  cp: ControlPlane;
  /** Every call under a deadline (bench/support/clients.ts). */
  kube: Kube;
  options: BenchOptions;
  log: Log;
  cleanup: Cleanup;
  /**
   * Starts a controller against this control plane (its log in
   * logs/controller-<name>-<n>.log); the caller stops it. Also stopped by the
   * cleanup, should the run fail first.
   */
  startController(overrides?: Partial<ControllerSettings>): Promise<ControllerProcess>;
  /** The API server's own /metrics (apiserver_request_total …). */
  apiServerMetrics(): Promise<Sample[]>;
  close(): Promise<void>;
}

export async function openControlPlaneSession(
  name: string,
  options: BenchOptions,
  cleanup: Cleanup,
  log: Log,
): Promise<ControlPlaneSession> {
  log(`[${name}] starting a control plane (no Docker nodes)`);
  const cp = new ControlPlane({ log });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    log(`[${name}] stopping the control plane`);
    await cp.stop().catch((err: unknown) => log(`stopping the control plane: ${String(err)}`));
  };
  const unregister = cleanup.add(`${name} control plane`, stop);
  try {
    await cp.start();
    await installCrds(cp.kubeConfig());
  } catch (err) {
    unregister();
    await stop();
    throw err;
  }
  const kube = withApiDeadlines(new Kube(cp));
  let started = 0;
  return {
    cp,
    kube,
    options,
    log,
    cleanup,
    startController: (overrides = {}) =>
      ControllerProcess.start(
        {
          entry: options.controller,
          kubeconfig: cp.kubeconfigPath,
          workers: options.concurrency,
          syncPeriod: '10m',
          dockerEvents: true,
          logFile: join(options.out, 'logs', `controller-${name}-${started++}.log`),
          ...overrides,
        },
        cleanup,
        log,
      ),
    apiServerMetrics: () => scrapeApiServer(cp.kubeConfig()),
    async close() {
      unregister();
      await stop();
    },
  };
}
