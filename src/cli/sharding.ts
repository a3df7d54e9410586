// --shards wiring: the gate the controllers ask, the Lease coordinator behind
// it (run by the Manager on every replica, from start to stop) and a gauge of
// the shards held. A shard whose Lease could not be renewed in time fences
// the whole process, like a lost leader lease: it exits and restarts.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Manager } from '../runtime/manager.js';
import { createShardMetrics, ShardCoordinator } from '../runtime/shard-coordinator.js';
import { ShardGate } from '../runtime/shard-gate.js';

/**
 * This replica's name in the shard Leases: the pod name (a valid Lease name
 * part) and a random suffix, so a restarted pod is a new member.
 */
export function shardIdentity(host: string, suffix: string = randomUUID().slice(0, 8)): string {
  const base = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 180);
  return `${base || 'replica'}-${suffix}`;
}

export function startSharding(o: {
  kc: KubeConfig;
  manager: Manager;
  logger: Logger;
  /** Where the Leases live (the leader election namespace). */
  namespace: string;
  /** Names the Leases (the leader election id). */
  setName: string;
  shards: number;
  identity?: string;
  /** Lease timing; defaults as leader election's (15 s / 10 s / 2 s). */
  timing?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}): { gate: ShardGate; heldShards: () => number[] } {
  const gate = new ShardGate({
    shards: o.shards,
    onFenced: (shard) => o.manager.fence(`the Lease of shard ${shard} was not renewed in time`),
  });
  const identity = o.identity ?? shardIdentity(hostname());
  const coordinator = new ShardCoordinator({
    api: o.kc.makeApiClient(CoordinationV1Api),
    namespace: o.namespace,
    setName: o.setName,
    identity,
    shards: o.shards,
    ...(o.timing ?? {}),
    onAcquired: gate.acquired,
    drain: gate.drain,
    onLost: gate.lost,
    onReleased: gate.released,
    logger: o.logger,
  });
  gate.setHolds((shard) => coordinator.owns(shard));
  o.manager.addBackgroundTask({ name: 'shard-leases', run: (signal) => coordinator.run(signal) });
  createShardMetrics(o.manager.metrics.registry, () => coordinator.heldShards().length);
  o.logger.info({ identity, shards: o.shards, namespace: o.namespace }, 'sharding DockerHosts');
  return { gate, heldShards: () => coordinator.heldShards() };
}
