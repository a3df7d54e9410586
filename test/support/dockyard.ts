import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { resolveClusterId } from '../../src/cli/cluster-id.js';
import { pino, type DestinationStream, type Logger } from 'pino';
import { registerControllers, type RegisteredControllers } from '../../src/controllers/index.js';
import { installCrds } from '../../src/crds/install.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { Manager } from '../../src/runtime/manager.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';

export interface RunningDockyard {
  manager: Manager;
  controllers: RegisteredControllers;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * Runs Dockyard's controllers in the test process against the real control
 * plane: the same wiring as `dockyard controller`, without leader election,
 * with probes and metrics on ephemeral ports.
 */
export async function startDockyard(
  cp: ControlPlane,
  opts: {
    syncPeriodMs?: number;
    maxConcurrentReconciles?: number;
    /** Default: maxConcurrentReconciles, so one host may take every worker (the lab has one or two hosts). */
    maxConcurrentReconcilesPerHost?: number;
    orphanSweepIntervalMs?: number;
    /** --cluster-id; default the kube-system namespace's UID, as `dockyard controller` reads it. */
    clusterId?: string;
    /** Capture the controllers' log lines (plain pino JSON, no redaction) instead of printing them. */
    log?: { destination: DestinationStream; level?: string };
    /** Serve edge agents (`--agent-bind-address` and friends). */
    agentEndpoint?: AgentEndpointSettings;
  } = {},
): Promise<RunningDockyard> {
  const kc = cp.kubeConfig();
  await installCrds(kc);
  const level = opts.log?.level ?? process.env.DOCKYARD_TEST_LOG_LEVEL ?? 'warn';
  const logger = opts.log ? pino({ level }, opts.log.destination) : pino({ level });
  const manager = new Manager({
    logger,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    events: { api: kc.makeApiClient(EventsV1Api), instance: 'test' },
  });
  const controllers = registerControllers({
    kc,
    manager,
    logger,
    clusterId: await resolveClusterId(kc.makeApiClient(CoreV1Api), opts.clusterId),
    maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 4,
    maxConcurrentReconcilesPerHost: opts.maxConcurrentReconcilesPerHost ?? opts.maxConcurrentReconciles ?? 4,
    ...(opts.syncPeriodMs !== undefined ? { syncPeriodMs: opts.syncPeriodMs } : {}),
    ...(opts.orphanSweepIntervalMs !== undefined
      ? { orphanSweepIntervalMs: opts.orphanSweepIntervalMs }
      : {}),
    ...(opts.agentEndpoint ? { agentEndpoint: opts.agentEndpoint } : {}),
  });
  await manager.start();
  return {
    manager,
    controllers,
    logger,
    stop: async () => {
      await manager.stop();
      await controllers.stop();
    },
  };
}
