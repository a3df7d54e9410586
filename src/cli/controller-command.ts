// `dockyard controller`: builds the Manager from the flags, lets
// src/controllers register every controller, and runs until a signal or a
// lost lease. Wiring only; the behaviour lives in src/runtime and
// src/controllers.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { registerControllers } from '../controllers/index.js';
import { KubeLeaseClient } from '../runtime/lease-client.js';
import { createLogger } from '../runtime/logging.js';
import { Manager } from '../runtime/manager.js';
import type { ControllerCommandOptions } from './controller-options.js';
import type { CliEnvironment } from './environment.js';
import { describeSource, kubeConfigSource, loadKubeConfig } from './kubeconfig.js';
import { MANAGER_SHUTDOWN_TIMEOUT_MS, runManager } from './lifecycle.js';

/** Unique per process, like controller-runtime's `<hostname>_<uuid>`: a restarted pod is a new candidate. */
export function leaderIdentity(host: string, suffix: string = randomUUID()): string {
  return `${host}_${suffix}`;
}

/** Runs the controllers until stopped; resolves with the process exit code. */
export async function runControllerCommand(
  options: ControllerCommandOptions,
  env: CliEnvironment,
): Promise<number> {
  const logger = createLogger({ level: options.logLevel, pretty: options.logFormat === 'pretty' });
  let kc: KubeConfig;
  try {
    const source = kubeConfigSource(options.kubeconfig, env);
    kc = loadKubeConfig(source);
    logger.info(
      { kubeconfig: describeSource(source), server: kc.getCurrentCluster()?.server },
      'using cluster configuration',
    );
  } catch (err) {
    logger.error({ err }, 'cannot load the cluster configuration');
    return 1;
  }

  const identity = leaderIdentity(hostname());
  const manager = new Manager({
    logger,
    metricsBindAddress: options.metricsBindAddress,
    healthProbeBindAddress: options.healthProbeBindAddress,
    gracefulShutdownTimeoutMs: MANAGER_SHUTDOWN_TIMEOUT_MS,
    events: { api: kc.makeApiClient(EventsV1Api) },
    ...(options.leaderElect
      ? {
          leaderElection: {
            client: new KubeLeaseClient(
              kc.makeApiClient(CoordinationV1Api),
              options.leaderElectionNamespace,
              options.leaderElectionId,
            ),
            identity,
          },
        }
      : {}),
  });

  const registered = registerControllers({
    kc,
    manager,
    logger,
    maxConcurrentReconciles: options.maxConcurrentReconciles,
    syncPeriodMs: options.syncPeriodMs,
    ...(options.watchNamespace ? { watchNamespace: options.watchNamespace } : {}),
  });
  logger.info(
    {
      controllers: registered.names,
      leaderElection: options.leaderElect
        ? { lease: `${options.leaderElectionNamespace}/${options.leaderElectionId}`, identity }
        : false,
      watchNamespace: options.watchNamespace ?? '(all)',
      maxConcurrentReconciles: options.maxConcurrentReconciles,
      syncPeriodMs: options.syncPeriodMs,
    },
    'starting manager',
  );
  return runManager(manager, { logger, stopAlso: () => registered.stop() });
}
