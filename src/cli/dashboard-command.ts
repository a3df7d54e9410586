// `dockyard dashboard`: a read-only web view of the fleet, served on this
// machine and fed with the viewer's own kubeconfig, so each person sees what
// their RBAC lets them list and watch (docs/dashboard.md).

import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../runtime/logging.js';
import type { CliEnvironment } from './environment.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './controller-options.js';

export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:8420';

export interface DashboardCommandOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  listen: { host: string; port: number };
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** host:port, [v6]:port or :port (loopback). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new InvalidArgumentError(`expected host:port, got ${value}`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  return { host, port };
}

/** Loopback only: anything else serves the viewer's view of the cluster to the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export function dashboardCommand(env: { stdoutIsTTY: boolean }): Command {
  return new Command('dashboard')
    .description(
      'Serve a read-only web view of hosts, containers and rollouts on this machine, with your own ' +
        'kubeconfig: you see what your RBAC lets you list',
    )
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, then ~/.kube/config')
    .option('--context <name>', 'kubeconfig context; default the current one')
    .addOption(
      new Option(
        '-n, --namespace <ns>',
        "where to look when you may not list every namespace (repeatable); default the context's namespace",
      )
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    )
    .addOption(
      new Option('--listen <host:port>', 'where to serve; anything but loopback is warned about')
        .argParser(parseListen)
        .default(parseListen(DEFAULT_DASHBOARD_LISTEN), DEFAULT_DASHBOARD_LISTEN),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'log format; default pretty on a terminal, json otherwise')
        .choices(LOG_FORMATS)
        .default(env.stdoutIsTTY ? 'pretty' : 'json'),
    );
}

/** Runs until SIGINT/SIGTERM. */
export async function runDashboardCommand(
  options: DashboardCommandOptions,
  env: CliEnvironment,
): Promise<number> {
  const logger = createLogger({ level: options.logLevel, pretty: options.logFormat === 'pretty' });
  // Loaded here, not at the top: the Kubernetes client is most of a process's memory, and the edge
  // agent (which parses this file's flags with the rest of the program) never uses it.
  const { describeSource, kubeConfigSource, loadKubeConfig } = await import('./kubeconfig.js');
  // The viewer's own credentials: never a pod's ServiceAccount.
  const source = kubeConfigSource(options.kubeconfig, { ...env, inCluster: false });
  const kc = loadKubeConfig(source);
  if (options.context) kc.setCurrentContext(options.context);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const namespaces = options.namespace.length > 0 ? options.namespace : [contextNamespace];
  if (!isLoopback(options.listen.host))
    logger.warn(
      { listen: options.listen.host },
      'the dashboard listens beyond this machine: anyone who reaches it sees what your credentials may list',
    );
  const { startDashboard } = await import('../dashboard/dashboard.js');
  const dashboard = await startDashboard({ kc, logger, ...options.listen, namespaces });
  logger.info(
    { url: dashboard.server.url, kubeconfig: describeSource(source), context: kc.getCurrentContext() },
    'dashboard serving',
  );
  process.stdout.write(`Dockyard dashboard: ${dashboard.server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.stop();
  return 0;
}
