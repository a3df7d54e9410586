import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Manager } from '../runtime/manager.js';

/** What every Dockyard controller is built from; the CLI fills it from its flags. */
export interface ControllerDeps {
  kc: KubeConfig;
  manager: Manager;
  logger: Logger;
  /** --max-concurrent-reconciles */
  maxConcurrentReconciles: number;
  /** --watch-namespace: restrict namespaced kinds to one namespace (DockerHosts are cluster-scoped). */
  watchNamespace?: string;
  /** --sync-period: how often every object is re-verified even without events (drift safety net). */
  syncPeriodMs?: number;
}

/** Handles the CLI keeps to shut controllers' own background work down (event streams, heartbeats). */
export interface RegisteredControllers {
  names: string[];
  stop(): Promise<void>;
}

/**
 * Registers every Dockyard controller with the manager. The CLI calls this
 * once; controllers arrive issue by issue (DockerHost first).
 */
export function registerControllers(_deps: ControllerDeps): RegisteredControllers {
  return { names: [], stop: async () => {} };
}
