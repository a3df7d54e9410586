// `dockyard dashboard` put together: what the viewer may see, the caches for
// it, the live rows, and the local server.

import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { resolveAccess, selfSubjectAccess, type CanI } from './access.js';
import { requireBundle } from './assets.js';
import { FleetCache } from './fleet-cache.js';
import { startDashboardServer, type DashboardServer } from './http-server.js';
import { LiveState } from './live-state.js';
import { WATCHED } from './resources.js';

export interface DashboardOptions {
  kc: KubeConfig;
  logger: Logger;
  host: string;
  port: number;
  /** Namespaces to watch where the viewer may not list cluster-wide (default: the context's). */
  namespaces: readonly string[];
  assetsDir?: string;
  /** For tests: another way to ask the API server what the viewer may do. */
  canI?: CanI;
  throttleMs?: number;
}

export interface RunningDashboard {
  server: DashboardServer;
  cache: FleetCache;
  live: LiveState;
  stop(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const assetsDir = opts.assetsDir ?? requireBundle();
  const access = await resolveAccess({
    canI: opts.canI ?? selfSubjectAccess(opts.kc),
    resources: WATCHED,
    fallbackNamespaces: opts.namespaces,
  });
  const wake: { live?: LiveState } = {};
  const cache = new FleetCache({
    kc: opts.kc,
    access,
    resources: WATCHED,
    logger: opts.logger,
    onChange: () => wake.live?.changed(),
  });
  const live = new LiveState({
    cache,
    access,
    ...(opts.throttleMs !== undefined ? { throttleMs: opts.throttleMs } : {}),
  });
  wake.live = live;
  cache.start();
  const server = await startDashboardServer({ live, assetsDir, host: opts.host, port: opts.port });
  return {
    server,
    cache,
    live,
    stop: async () => {
      await server.close();
      live.stop();
      await cache.stop();
    },
  };
}
