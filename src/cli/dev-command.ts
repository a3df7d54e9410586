// `dockyard dev` (what `npm start` runs): Dockyard on its embedded default.
// Starts a local control plane that keeps its data in the dev data dir, uses
// the local Docker daemon (starting one if none answers), installs the CRDs,
// registers that daemon as the DockerHost `local`, makes sure the quickstart
// image exists, and runs the controllers in this process, wired exactly as
// `dockyard controller` wires them. Ctrl-C or SIGTERM stops the controllers,
// then the control plane, then the Docker daemon if dev mode started it;
// containers made for the user's objects keep running.

import { copyFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { installCrds } from '../crds/install.js';
import type { DockerHost } from '../crds/dockerhost.js';
import {
  applyLocalDockerHost,
  DevEnvironment,
  LOCAL_HOST_NAME,
  type DevEnvironmentInfo,
} from '../localenv/dev-environment.js';
import { waitFor } from '../localenv/process.js';
import { ensureDashboardBundle } from '../localenv/dashboard-bundle.js';
import { startDashboard, type RunningDashboard } from '../dashboard/dashboard.js';
import { createLogger } from '../runtime/logging.js';
import type { Manager } from '../runtime/manager.js';
import { resolveClusterId } from './cluster-id.js';
import { buildControllerManager } from './controller-command.js';
import { devFilePaths, displayPath, envFileContent, nextSteps, readyBanner } from './dev-files.js';
import type { DevCommandOptions } from './dev-options.js';
import { nodeProcessHooks, SignalRouter } from './dev-signals.js';
import { runManager, type ProcessHooks } from './lifecycle.js';

/** From the first signal to a forced exit while the environment stops (a daemon we started may take a while). */
const TEARDOWN_DEADLINE_MS = 90_000;
/** How long the `local` DockerHost may take to become Ready before dev mode says so. */
const HOST_READY_TIMEOUT_MS = 60_000;

export interface DevRunOptions {
  /** For tests: the process whose signals and exit are used. */
  process?: ProcessHooks;
  /** The working directory paths are shown relative to. */
  cwd?: string;
}

/** Runs dev mode until stopped; resolves with the process exit code. */
export async function runDevCommand(options: DevCommandOptions, run: DevRunOptions = {}): Promise<number> {
  const proc = run.process ?? nodeProcessHooks;
  const cwd = run.cwd ?? process.cwd();
  const logger = createLogger({ level: options.logLevel, pretty: options.logFormat === 'pretty' });
  const started = Date.now();
  const env = new DevEnvironment(options.dataDir, {
    log: (msg) => logger.info(msg),
    warn: (msg) => logger.warn(msg),
  });
  const signals = new SignalRouter(proc, () => env.emergencyStop());
  const abort = new AbortController();
  const hurry = (received: number): void => {
    if (received < 2) return;
    logger.warn('second signal received; exiting without waiting');
    signals.exit(1);
  };
  signals.setHandler((signal, received) => {
    hurry(received);
    logger.info({ signal }, 'signal received; stopping once the current step finishes');
    abort.abort();
    env.interruptBuild();
  });

  let code: number;
  try {
    code = await startAndRun(options, env, { logger, signals, abort: abort.signal, cwd, started });
  } catch (err) {
    if (abort.signal.aborted) {
      logger.info('stopped before dev mode was ready');
      code = 0;
    } else {
      logger.error({ err }, 'dev mode failed');
      code = 1;
    }
  }

  // Teardown: a signal now only hurries it; the deadline bounds it.
  signals.setHandler((_signal, received) => {
    hurry(received);
    logger.info('already stopping; send the signal again to exit at once');
  });
  const deadline = setTimeout(() => {
    logger.error({ deadlineMs: TEARDOWN_DEADLINE_MS }, 'stopping the dev environment took too long; exiting');
    signals.exit(1);
  }, TEARDOWN_DEADLINE_MS);
  deadline.unref();
  try {
    await env.stop();
  } catch (err) {
    logger.error({ err }, 'error while stopping the dev environment');
    code = 1;
  } finally {
    clearTimeout(deadline);
    signals.dispose();
  }
  logger.info({ exitCode: code }, 'dockyard dev stopped');
  return code;
}

interface RunContext {
  logger: Logger;
  signals: SignalRouter;
  abort: AbortSignal;
  cwd: string;
  started: number;
}

async function startAndRun(
  options: DevCommandOptions,
  env: DevEnvironment,
  ctx: RunContext,
): Promise<number> {
  const { logger, abort } = ctx;
  logger.info({ dataDir: options.dataDir }, 'starting dockyard dev');
  const info = await env.start(abort);
  const kc = env.kubeConfig();
  await installCrds(kc);
  await applyLocalDockerHost(kc, info.dockerHost);
  logger.info({ endpoint: info.dockerHost }, `registered DockerHost "${LOCAL_HOST_NAME}"`);
  const files = writeDevFiles(options.dataDir, info);
  abort.throwIfAborted();

  // The embedded control plane's own identity: a fresh dev environment is a new cluster.
  const clusterId = await resolveClusterId(kc.makeApiClient(CoreV1Api));
  const { manager, registered } = buildControllerManager(kc, logger, {
    clusterId,
    adoptPrevious: options.adoptPrevious,
    metricsBindAddress: options.metricsBindAddress,
    healthProbeBindAddress: options.healthProbeBindAddress,
    maxConcurrentReconciles: options.maxConcurrentReconciles,
    maxConcurrentReconcilesPerHost: options.maxConcurrentReconcilesPerHost,
    syncPeriodMs: options.syncPeriodMs,
    ...(options.agentEndpoint ? { agentEndpoint: options.agentEndpoint } : {}),
  });
  logger.info(
    {
      controllers: registered.names,
      maxConcurrentReconciles: options.maxConcurrentReconciles,
      maxConcurrentReconcilesPerHost: options.maxConcurrentReconcilesPerHost,
      syncPeriodMs: options.syncPeriodMs,
    },
    'starting manager',
  );
  const announce = new AbortController();
  const dashboard = options.dashboardListen
    ? await startDevDashboard({ kc, logger, listen: options.dashboardListen })
    : undefined;
  const runnable = {
    start: async () => {
      await manager.start();
      announceWhenReady(manager, kc, announce.signal, {
        ...(dashboard ? { dashboard: dashboard.server.url } : {}),
        logger,
        pretty: options.logFormat === 'pretty',
        info,
        envFile: displayPath(files.env, ctx.cwd),
        files,
        startedMs: ctx.started,
      }).catch((err: unknown) => logger.error({ err }, 'cannot tell whether dev mode is ready'));
    },
    stop: (exit?: Parameters<Manager['stop']>[0]) => {
      announce.abort();
      return manager.stop(exit);
    },
    done: manager.done,
  };
  try {
    return await runManager(runnable, {
      logger,
      stopAlso: async () => {
        await dashboard?.stop();
        await registered.stop();
      },
      process: ctx.signals,
    });
  } finally {
    announce.abort();
  }
}

/** The kubeconfig copy and the env file; rewritten on every start (the API server's port may change). */
function writeDevFiles(dataDir: string, info: DevEnvironmentInfo): { kubeconfig: string; env: string } {
  const files = devFilePaths(dataDir);
  // copyFile keeps the source's mode: 0600, it holds the admin's client key.
  copyFileSync(info.kubeconfigPath, files.kubeconfig);
  writeFileSync(
    files.env,
    envFileContent({
      kubeconfig: files.kubeconfig,
      dockerHost: info.dockerHost,
      kubectlDir: dirname(info.kubectlPath),
    }),
  );
  return files;
}

interface Announcement {
  /** The dashboard's URL, when it is served. */
  dashboard?: string;
  logger: Logger;
  pretty: boolean;
  info: DevEnvironmentInfo;
  envFile: string;
  files: { kubeconfig: string; env: string };
  startedMs: number;
}

/**
 * Says "ready" once this process's DockerHost controller has reconciled and
 * the `local` DockerHost is Ready (its stored status may be from an earlier
 * run, hence both), with what to try next.
 */
async function announceWhenReady(
  manager: Manager,
  kc: KubeConfig,
  signal: AbortSignal,
  a: Announcement,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  let host: DockerHost | undefined;
  let ready = false;
  try {
    await waitFor(
      async () => {
        if (signal.aborted) return true;
        if ((await hostReconciles(manager)) < 1) return false;
        host = (await api.getClusterCustomObject({
          group: 'dockyard.io',
          version: 'v1alpha1',
          plural: 'dockerhosts',
          name: LOCAL_HOST_NAME,
        })) as DockerHost;
        ready = readyCondition(host)?.status === 'True';
        return ready;
      },
      {
        timeoutMs: HOST_READY_TIMEOUT_MS,
        intervalMs: 250,
        what: `DockerHost ${LOCAL_HOST_NAME} to be Ready`,
      },
    );
  } catch {
    // Reported below.
  }
  if (signal.aborted) return;
  const metrics = manager.metricsAddress();
  const probes = manager.healthProbeAddress();
  const facts = {
    envFile: a.envFile,
    apiServer: a.info.apiServerUrl,
    dockerHost: a.info.dockerHost,
    metrics: metrics ? httpUrl(metrics, '/metrics') : undefined,
    probes: probes ? httpUrl(probes, '/readyz') : undefined,
    dashboard: a.dashboard,
  };
  if (!ready) {
    const condition = host ? readyCondition(host) : undefined;
    a.logger.warn(
      { reason: condition?.reason, message: condition?.message },
      `DockerHost "${LOCAL_HOST_NAME}" is not Ready; the controllers keep trying`,
    );
  }
  const startupSeconds = Math.round((Date.now() - a.startedMs) / 100) / 10;
  if (a.pretty) {
    // The banner below says the rest, laid out for a person.
    a.logger.info({ startupSeconds }, 'dockyard dev is ready');
    process.stdout.write(readyBanner(facts) + '\n');
    return;
  }
  a.logger.info(
    {
      ...facts,
      kubeconfig: a.files.kubeconfig,
      env: a.files.env,
      dockerStartedByDev: a.info.dockerStartedByUs,
      hostReady: ready,
      startupSeconds,
      next: nextSteps(a.envFile),
    },
    'dockyard dev is ready',
  );
}

/** Reconciles this process's DockerHost controller finished without an error. */
async function hostReconciles(manager: Manager): Promise<number> {
  const metric = manager.metrics.registry.getSingleMetric('controller_runtime_reconcile_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => v.labels.controller === 'dockerhost' && v.labels.result !== 'error')
    .reduce((sum, v) => sum + v.value, 0);
}

function readyCondition(host: DockerHost): { status: string; reason?: string; message?: string } | undefined {
  return host.status?.conditions?.find((c) => c.type === 'Ready');
}

function httpUrl(address: AddressInfo, path: string): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}${path}`;
}

/**
 * The dashboard beside dev mode's controllers, with dev mode's kubeconfig; its
 * bundle is built first when a source changed. A taken port is no obstacle:
 * it then serves on a free one (the banner says which).
 */
async function startDevDashboard(opts: {
  kc: KubeConfig;
  logger: Logger;
  listen: { host: string; port: number };
}): Promise<RunningDashboard> {
  const bundle = await ensureDashboardBundle();
  const start = (port: number) =>
    startDashboard({
      kc: opts.kc,
      logger: opts.logger.child({ component: 'dashboard' }),
      host: opts.listen.host,
      port,
      namespaces: ['default'],
      assetsDir: bundle.dir,
    });
  try {
    return await start(opts.listen.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    opts.logger.warn({ port: opts.listen.port }, 'the dashboard port is taken; serving on a free one');
    return start(0);
  }
}
