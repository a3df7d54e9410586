// `dockyard controller`: builds the Manager from the flags, lets
// src/controllers register every controller, and runs until a signal or a
// lost lease. Wiring only; the behaviour lives in src/runtime and
// src/controllers.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, CoreV1Api, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { registerControllers, type RegisteredControllers } from '../controllers/index.js';
import { KubeLeaseClient } from '../runtime/lease-client.js';
import { createLogger } from '../runtime/logging.js';
import { Manager } from '../runtime/manager.js';
import { resolveClusterId } from './cluster-id.js';
import { controllerOptionsProblem, type ControllerCommandOptions } from './controller-options.js';
import { startSharding } from './sharding.js';
import type { AgentEndpointSettings } from '../managed/controller-deps.js';
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
  const problem = controllerOptionsProblem(options);
  if (problem) {
    logger.error(problem);
    return 1;
  }
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

  let clusterId: string;
  try {
    clusterId = await resolveClusterId(kc.makeApiClient(CoreV1Api), options.clusterId);
  } catch (err) {
    logger.error({ err }, 'cannot determine the cluster id');
    return 1;
  }

  const { manager, registered, identity } = buildControllerManager(kc, logger, {
    clusterId,
    metricsBindAddress: options.metricsBindAddress,
    healthProbeBindAddress: options.healthProbeBindAddress,
    ...(options.leaderElect
      ? {
          leaderElection: {
            namespace: options.leaderElectionNamespace,
            id: options.leaderElectionId,
          },
        }
      : {}),
    maxConcurrentReconciles: options.maxConcurrentReconciles,
    maxConcurrentReconcilesPerHost: options.maxConcurrentReconcilesPerHost,
    shards: options.shards,
    syncPeriodMs: options.syncPeriodMs,
    dockerEvents: options.dockerEvents,
    ...(options.watchNamespace ? { watchNamespace: options.watchNamespace } : {}),
    ...(options.agentEndpoint ? { agentEndpoint: options.agentEndpoint } : {}),
  });
  logger.info(
    {
      controllers: registered.names,
      leaderElection: identity
        ? { lease: `${options.leaderElectionNamespace}/${options.leaderElectionId}`, identity }
        : false,
      watchNamespace: options.watchNamespace ?? '(all)',
      maxConcurrentReconciles: options.maxConcurrentReconciles,
      maxConcurrentReconcilesPerHost: options.maxConcurrentReconcilesPerHost,
      shards: options.shards,
      syncPeriodMs: options.syncPeriodMs,
      dockerEvents: options.dockerEvents,
      clusterId,
      agentEndpoint: options.agentEndpoint
        ? { advertise: options.agentEndpoint.advertise, serverNames: options.agentEndpoint.serverNames }
        : false,
    },
    'starting manager',
  );
  return runManager(manager, { logger, stopAlso: () => registered.stop() });
}

/** What the Manager and the controllers are built from; every process kind fills it from its own flags. */
export interface ManagerSettings {
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  /** Absent: no leader election, the controllers run at once. */
  leaderElection?: { namespace: string; id: string };
  maxConcurrentReconciles: number;
  /** Absent: DEFAULT_RECONCILES_PER_HOST. */
  maxConcurrentReconcilesPerHost?: number;
  /** --shards; above 1 needs leaderElection (its namespace and id name the shard Leases). */
  shards?: number;
  syncPeriodMs: number;
  /** Absent: true (follow Docker event streams). */
  dockerEvents?: boolean;
  watchNamespace?: string;
  /** --cluster-id, resolved (resolveClusterId). */
  clusterId: string;
  /** `dockyard dev` only: take back what a previous dev environment left for the same resources. */
  adoptPrevious?: boolean;
  /** Serve edge agents (--agent-bind-address). */
  agentEndpoint?: AgentEndpointSettings;
}

export interface ControllerManager {
  manager: Manager;
  registered: RegisteredControllers;
  /** This process's leader election identity, when leader election is on. */
  identity: string | undefined;
}

/**
 * The Manager with every Dockyard controller registered, not yet started:
 * the one wiring `dockyard controller` and `dockyard dev` share. Hand it to
 * runManager (with `stopAlso: registered.stop`) to run it.
 */
export function buildControllerManager(
  kc: KubeConfig,
  logger: Logger,
  settings: ManagerSettings,
): ControllerManager {
  const identity = settings.leaderElection ? leaderIdentity(hostname()) : undefined;
  const manager = new Manager({
    logger,
    metricsBindAddress: settings.metricsBindAddress,
    healthProbeBindAddress: settings.healthProbeBindAddress,
    gracefulShutdownTimeoutMs: MANAGER_SHUTDOWN_TIMEOUT_MS,
    events: { api: kc.makeApiClient(EventsV1Api) },
    ...(settings.leaderElection && identity
      ? {
          leaderElection: {
            client: new KubeLeaseClient(
              kc.makeApiClient(CoordinationV1Api),
              settings.leaderElection.namespace,
              settings.leaderElection.id,
            ),
            identity,
          },
        }
      : {}),
  });
  const shards =
    settings.leaderElection && (settings.shards ?? 1) > 1
      ? startSharding({
          kc,
          manager,
          logger,
          namespace: settings.leaderElection.namespace,
          setName: settings.leaderElection.id,
          shards: settings.shards ?? 1,
        }).gate
      : undefined;
  const registered = registerControllers({
    kc,
    manager,
    logger,
    ...(shards ? { shards } : {}),
    maxConcurrentReconciles: settings.maxConcurrentReconciles,
    ...(settings.maxConcurrentReconcilesPerHost
      ? { maxConcurrentReconcilesPerHost: settings.maxConcurrentReconcilesPerHost }
      : {}),
    syncPeriodMs: settings.syncPeriodMs,
    clusterId: settings.clusterId,
    adoptPrevious: settings.adoptPrevious ?? false,
    ...(settings.dockerEvents !== undefined ? { dockerEvents: settings.dockerEvents } : {}),
    ...(settings.watchNamespace ? { watchNamespace: settings.watchNamespace } : {}),
    ...(settings.agentEndpoint ? { agentEndpoint: settings.agentEndpoint } : {}),
  });
  return { manager, registered, identity };
}
