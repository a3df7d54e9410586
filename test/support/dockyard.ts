import { CoordinationV1Api, CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { startSharding } from '../../src/cli/sharding.js';
import { KubeLeaseClient } from '../../src/runtime/lease-client.js';
import type { ShardGate } from '../../src/runtime/shard-gate.js';
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
  /** With `replica`: the shard gate and the shards this replica holds now. */
  shards?: { gate: ShardGate; heldShards(): number[] };
  stop(): Promise<void>;
}

/** One of several replicas, as `dockyard controller --leader-elect --shards=N` runs it. */
export interface ReplicaOptions {
  identity: string;
  shards: number;
  /** Of the leader election and shard Leases. */
  namespace: string;
  /** Short Lease timing for tests (defaults: 15 s / 10 s / 2 s). */
  timing?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

/**
 * Shorter Lease timing than the defaults (15 s / 10 s / 2 s) for sharded test
 * replicas, with a renew deadline a loaded CI machine still meets (a miss
 * fences the replica).
 */
export const TEST_SHARD_TIMING = { leaseDurationMs: 10_000, renewDeadlineMs: 8_000, retryPeriodMs: 500 };

/** One of `shards` sharded replicas with its Leases in `namespace`, on the test timing. */
export const shardReplica = (identity: string, o: { shards: number; namespace: string }): ReplicaOptions => ({
  identity,
  shards: o.shards,
  namespace: o.namespace,
  timing: TEST_SHARD_TIMING,
});

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
    /** Run as one sharded replica, with leader election (the file comment of src/cli/sharding.ts). */
    replica?: ReplicaOptions;
  } = {},
): Promise<RunningDockyard> {
  const kc = cp.kubeConfig();
  await installCrds(kc);
  const level = opts.log?.level ?? process.env.DOCKYARD_TEST_LOG_LEVEL ?? 'warn';
  const logger = opts.log ? pino({ level }, opts.log.destination) : pino({ level });
  const replica = opts.replica;
  const manager = new Manager({
    logger,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    events: { api: kc.makeApiClient(EventsV1Api), instance: 'test' },
    ...(replica
      ? {
          leaderElection: {
            client: new KubeLeaseClient(
              kc.makeApiClient(CoordinationV1Api),
              replica.namespace,
              'dockyard-controller',
            ),
            identity: replica.identity,
            ...(replica.timing ?? {}),
          },
        }
      : {}),
  });
  const shards = replica
    ? startSharding({
        kc,
        manager,
        logger,
        namespace: replica.namespace,
        setName: 'dockyard-controller',
        shards: replica.shards,
        identity: replica.identity,
        ...(replica.timing ? { timing: replica.timing } : {}),
      })
    : undefined;
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
    ...(shards ? { shards: shards.gate } : {}),
  });
  await manager.start();
  return {
    manager,
    controllers,
    logger,
    ...(shards ? { shards } : {}),
    stop: async () => {
      await manager.stop();
      await controllers.stop();
    },
  };
}
