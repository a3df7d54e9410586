// The `dockyard dev` flags. Parsing is pure: argv and a few facts about the
// process in, a typed options object out. The controller flags that make sense
// on a laptop keep their `dockyard controller` names; the endpoints default to
// free ports on loopback so a second copy or another service on :8080 is no
// obstacle.

import type { AgentEndpointSettings } from '../managed/controller-deps.js';
import { DEFAULT_DASHBOARD_LISTEN, parseListen } from './dashboard-command.js';
import {
  agentEndpointSettings,
  withAgentEndpointFlags,
  type AgentEndpointFlags,
} from './agent-endpoint-options.js';
import { isAbsolute, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parseDuration } from './duration.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  bindAddress,
  maxConcurrentReconcilesOption,
  maxConcurrentReconcilesPerHostOption,
  positiveDuration,
  type LogFormat,
  type LogLevel,
} from './controller-options.js';

/** Relative to the working directory (`npm start` runs in the repository). */
export const DEFAULT_DEV_DIR = '.dockyard/dev';

/** The facts the defaults depend on. */
export interface DevFacts {
  stdoutIsTTY: boolean;
  /** $DOCKYARD_DEV_DIR, when set and not empty. */
  devDirEnv: string | undefined;
  cwd: string;
}

export function devFacts(env: NodeJS.ProcessEnv = process.env): DevFacts {
  return {
    stdoutIsTTY: process.stdout.isTTY === true,
    devDirEnv: env.DOCKYARD_DEV_DIR ? env.DOCKYARD_DEV_DIR : undefined,
    cwd: process.cwd(),
  };
}

export interface DevCommandOptions {
  /** Absolute. Holds the control plane's data, kubeconfig and env. */
  dataDir: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  maxConcurrentReconciles: number;
  maxConcurrentReconcilesPerHost: number;
  syncPeriodMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Take back objects a previous dev environment left on the daemon for the same resources. */
  adoptPrevious: boolean;
  /** Absent: no agent endpoint (--agent-bind-address not given). */
  agentEndpoint: AgentEndpointSettings | undefined;
  /** Where `dockyard dashboard` is served beside the controllers; absent: not at all (--dashboard-listen 0). */
  dashboardListen: { host: string; port: number } | undefined;
}

/** The embedded control plane has no dockyard-system namespace: agent Secrets go to default. */
const DEV_AGENT_NAMESPACE = 'default';

interface ParsedFlags extends AgentEndpointFlags {
  dataDir: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  maxConcurrentReconciles: number;
  maxConcurrentReconcilesPerHost: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  syncPeriod: number;
  adoptPrevious: boolean;
  dashboardListen: { host: string; port: number } | false;
}

/** The `dev` command with its flags; the caller attaches the action. */
export function devCommand(facts: DevFacts): Command {
  return withAgentEndpointFlags(devFlags(facts));
}

function devFlags(facts: DevFacts): Command {
  return new Command('dev')
    .description(
      'Run Dockyard on its embedded default: a local control plane, the local Docker daemon ' +
        'registered as DockerHost "local", and the controllers in the foreground',
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'where the control plane keeps its data (kept across restarts), and where kubeconfig and env are written',
      ).default(facts.devDirEnv ?? DEFAULT_DEV_DIR, `$DOCKYARD_DEV_DIR, else ${DEFAULT_DEV_DIR}`),
    )
    .option(
      '--metrics-bind-address <address>',
      'address the /metrics endpoint binds to; "0" disables it; port 0 picks a free port',
      bindAddress,
      '127.0.0.1:0',
    )
    .option(
      '--health-probe-bind-address <address>',
      'address the /healthz and /readyz endpoints bind to; "0" disables them; port 0 picks a free port',
      bindAddress,
      '127.0.0.1:0',
    )
    .addOption(maxConcurrentReconcilesOption())
    .addOption(maxConcurrentReconcilesPerHostOption())
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'log format; default pretty on a terminal, json otherwise')
        .choices(LOG_FORMATS)
        .default(facts.stdoutIsTTY ? 'pretty' : 'json'),
    )
    .addOption(
      new Option(
        '--sync-period <duration>',
        'how often every object is reconciled even without changes (Go duration, e.g. 30s, 10m)',
      )
        .argParser(positiveDuration)
        .default(parseDuration('10m'), '10m'),
    )
    .addOption(
      new Option(
        '--dashboard-listen <host:port>',
        'serve the dashboard here (a free port when this one is taken); "0" turns it off',
      )
        .argParser((v: string) => (v === '0' ? false : parseListen(v)))
        .default(parseListen(DEFAULT_DASHBOARD_LISTEN), DEFAULT_DASHBOARD_LISTEN),
    )
    .option(
      '--no-adopt-previous',
      'do not take back the Docker objects a previous dev environment (a wiped data dir, another checkout) ' +
        'left on the daemon for the same kind, namespace and name; without this flag they are adopted ' +
        '(dev mode only: a cluster controller adopts only what spec.adoptionPolicy asks for)',
    );
}

/** The typed options of a parsed `dev` command; the data dir is made absolute against `cwd`. */
export function devOptionsOf(command: Command, cwd: string): DevCommandOptions {
  const flags = command.opts<ParsedFlags>();
  return {
    dataDir: isAbsolute(flags.dataDir) ? flags.dataDir : resolve(cwd, flags.dataDir),
    metricsBindAddress: flags.metricsBindAddress,
    healthProbeBindAddress: flags.healthProbeBindAddress,
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    maxConcurrentReconcilesPerHost: flags.maxConcurrentReconcilesPerHost,
    syncPeriodMs: flags.syncPeriod,
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
    adoptPrevious: flags.adoptPrevious,
    agentEndpoint: agentEndpointSettings(flags, { namespace: DEV_AGENT_NAMESPACE }),
    dashboardListen: flags.dashboardListen === false ? undefined : flags.dashboardListen,
  };
}

/** Parses the arguments after `dev`; throws commander's error on a bad flag instead of exiting. */
export function parseDevArgs(args: readonly string[], facts: DevFacts): DevCommandOptions {
  const command = devCommand(facts)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  command.parse([...args], { from: 'user' });
  return devOptionsOf(command, facts.cwd);
}
