// One environment plus the controller process running against it, and the
// per-node `docker events` counters; what every scenario works with.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cleanup, Log } from './cleanup.js';
import { ControllerProcess, type ControllerSettings } from './controller.js';
import {
  registerHosts,
  startBenchEnv,
  type BenchEnv,
  type BenchEnvOptions,
  type BenchImages,
} from './env.js';
import { DockerEventCounter, scrapeApiServer, apiServerWrites } from './metrics.js';
import type { BenchOptions } from './options.js';
import type { AgentEndpointSettings } from '../../src/managed/controller-deps.js';
import { agentEndpointFor, agentMounts, labGateway } from '../../test/support/edge-agent.js';

export interface Session {
  env: BenchEnv;
  options: BenchOptions;
  log: Log;
  cleanup: Cleanup;
  events: DockerEventCounter[];
  controller: ControllerProcess;
  /** Stops the running controller (gracefully) and starts one with these settings. */
  restartController(
    overrides?: Partial<ControllerSettings>,
    how?: 'stop' | 'kill',
  ): Promise<ControllerProcess>;
  /** API server writes attributable to Dockyard or the benchmark (see apiServerWrites). */
  apiWrites(): Promise<ReturnType<typeof apiServerWrites>>;
  /** Where the controller serves edge agents (sessions opened with agents). */
  agentEndpoint?: AgentEndpointSettings;
  close(): Promise<void>;
}

export async function openSession(
  name: string,
  images: BenchImages,
  options: BenchOptions,
  cleanup: Cleanup,
  log: Log,
  controllerOverrides: Partial<ControllerSettings> = {},
  /** `nodes`: Docker nodes for this session (default --nodes), e.g. 1 for a single-node measurement. */
  opts: { agents?: boolean; registry?: BenchEnvOptions['registry']; nodes?: number } = {},
): Promise<Session> {
  const nodeCount = opts.nodes ?? options.nodes;
  log(`[${name}] starting control plane${opts.registry ? ', a registry' : ''} and ${nodeCount} Docker nodes`);
  const env = await startBenchEnv(images, nodeCount, cleanup, log, {
    ...(opts.agents ? { agentMounts: agentMounts() } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
  });
  const events: DockerEventCounter[] = [];
  try {
    // The nodes dial the controller at the bench network's gateway.
    const agentEndpoint = opts.agents
      ? await agentEndpointFor({
          gateway: await labGateway(env.hostDocker, env.network),
          namespace: 'dockyard-system',
        })
      : undefined;
    if (agentEndpoint) {
      await env.kube.namespace(agentEndpoint.namespace);
      controllerOverrides = { ...controllerOverrides, agentEndpoint };
    }
    for (const node of env.nodes)
      events.push(await new DockerEventCounter(node.name, env.client(node.name)).start());
    let restarts = 0;
    const settings = (overrides: Partial<ControllerSettings>): ControllerSettings => ({
      entry: options.controller,
      kubeconfig: env.cp.kubeconfigPath,
      workers: options.concurrency,
      syncPeriod: '10m',
      dockerEvents: true,
      logFile: join(options.out, 'logs', `controller-${name}-${restarts++}.log`),
      ...overrides,
    });
    let controller = await ControllerProcess.start(settings(controllerOverrides), cleanup, log);
    await registerHosts(env);
    const session: Session = {
      env,
      options,
      log,
      cleanup,
      events,
      get controller() {
        return controller;
      },
      async restartController(overrides = {}, how = 'stop') {
        await (how === 'kill' ? controller.kill() : controller.stop());
        controller = await ControllerProcess.start(settings(overrides), cleanup, log);
        return controller;
      },
      apiWrites: async () => apiServerWrites(await scrapeApiServer(env.cp.kubeConfig())),
      ...(agentEndpoint ? { agentEndpoint } : {}),
      async close() {
        await controller.stop().catch((err: unknown) => log(`stopping the controller: ${String(err)}`));
        for (const e of events) e.stop();
        await env.stop();
        if (agentEndpoint) await rm(agentEndpoint.socketDir, { recursive: true, force: true });
      },
    };
    return session;
  } catch (err) {
    for (const e of events) e.stop();
    await env.stop();
    throw err;
  }
}
