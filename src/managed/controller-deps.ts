import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Manager } from '../runtime/manager.js';
import type { ShardGate } from '../runtime/shard-gate.js';

// The options every controller is built with live in the generic layer that
// wires them (register.ts, orphan-sweeper.ts), not in src/controllers, its user.

/** What every Dockyard controller is built from; the CLI fills it from its flags. */
export interface ControllerDeps {
  kc: KubeConfig;
  manager: Manager;
  logger: Logger;
  /** --max-concurrent-reconciles: each controller's workers, over all hosts. */
  maxConcurrentReconciles: number;
  /**
   * --max-concurrent-reconciles-per-host: reconciles of one kind working on
   * one Docker host at once (the kind's queue lanes, host-lanes.ts).
   */
  maxConcurrentReconcilesPerHost?: number;
  /** --watch-namespace: restrict namespaced kinds to one namespace (DockerHosts are cluster-scoped). */
  watchNamespace?: string;
  /** --sync-period: how often every object is re-verified even without events (drift safety net). */
  syncPeriodMs?: number;
  /** --docker-events: follow each host's Docker event stream (default true); false polls only. */
  dockerEvents?: boolean;
  /** How often Docker objects whose owner is gone are swept (default 10 min; also once at start). */
  orphanSweepIntervalMs?: number;
  /**
   * --cluster-id: labelled on every Docker object created (dockyard.io/cluster);
   * the orphan sweep removes only objects carrying it.
   */
  clusterId: string;
  /**
   * `dockyard dev --adopt-previous` (never `dockyard controller`): objects a
   * previous environment labelled for the same kind, namespace and name are
   * taken back, whatever cluster id they carry.
   */
  adoptPrevious?: boolean;
  /**
   * --shards: this replica works only on the DockerHosts whose shard it holds
   * (docs/scale.md); absent: on every host.
   */
  shards?: ShardGate;
  /** --agent-bind-address and friends: serve edge agents (absent: DockerHosts with spec.agent are ConfigError). */
  agentEndpoint?: AgentEndpointSettings;
}

/** Where and how the controller serves edge agents (docs/agent.md). */
export interface AgentEndpointSettings {
  /** host:port the TLS endpoint listens on. */
  bind: { host: string; port: number };
  /** host:port agents dial (the Service, Ingress or load balancer in front of bind). */
  advertise: string;
  /** Names and addresses on the endpoint's certificate; the first is what agents check. */
  serverNames: string[];
  /** Namespace of the CA and the bootstrap Secrets (the controller's own). */
  namespace: string;
  /** Where the per-host local sockets live (mode 0700). */
  socketDir: string;
  certValiditySeconds: number;
  tokenTtlMs: number;
}
