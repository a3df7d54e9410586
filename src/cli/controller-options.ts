// The `dockyard controller` flags, named and defaulted like controller-runtime's
// (kubebuilder's main.go), so a chart or a person used to Go operators finds
// them where expected. Parsing is pure: argv and a few environment facts in,
// a typed options object out; nothing here touches the cluster.

import { Command, InvalidArgumentError, Option } from 'commander';
import { parseBindAddress } from '../runtime/health.js';
import { clusterIdProblem } from './cluster-id.js';
import { parseDuration } from './duration.js';
import type { CliEnvironment } from './environment.js';
import type { AgentEndpointSettings } from '../managed/controller-deps.js';
import { DEFAULT_RECONCILES_PER_HOST } from '../managed/host-lanes.js';
import {
  agentEndpointSettings,
  withAgentEndpointFlags,
  type AgentEndpointFlags,
} from './agent-endpoint-options.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Used when not running in a pod (the pod's own namespace is the default there). */
export const DEFAULT_LEADER_ELECTION_NAMESPACE = 'dockyard-system';

export interface ControllerCommandOptions {
  /** Absent: $KUBECONFIG, the pod's ServiceAccount, or ~/.kube/config (see kubeconfig.ts). */
  kubeconfig: string | undefined;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  maxConcurrentReconciles: number;
  maxConcurrentReconcilesPerHost: number;
  /** --shards: 1 = every replica's controllers see every host (under leader election). */
  shards: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  watchNamespace: string | undefined;
  syncPeriodMs: number;
  dockerEvents: boolean;
  /** Absent: the kube-system namespace's UID, read at start (see cluster-id.ts). */
  clusterId: string | undefined;
  /** Absent: no agent endpoint (--agent-bind-address not given). */
  agentEndpoint: AgentEndpointSettings | undefined;
}

/** What commander hands back; the parsers below guarantee these types. */
interface ParsedFlags extends AgentEndpointFlags {
  kubeconfig?: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  maxConcurrentReconciles: number;
  maxConcurrentReconcilesPerHost: number;
  shards: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  watchNamespace?: string;
  syncPeriod: number;
  dockerEvents: boolean;
  clusterId?: string;
}

/** The `controller` command with its flags; the caller attaches the action. */
export function controllerCommand(env: Pick<CliEnvironment, 'stdoutIsTTY' | 'podNamespace'>): Command {
  return withAgentEndpointFlags(controllerFlags(env));
}

function controllerFlags(env: Pick<CliEnvironment, 'stdoutIsTTY' | 'podNamespace'>): Command {
  return new Command('controller')
    .description('Run the Dockyard controllers against a Kubernetes cluster')
    .option(
      '--kubeconfig <path>',
      'kubeconfig file; default $KUBECONFIG, then the pod ServiceAccount, then ~/.kube/config',
    )
    .option(
      '--metrics-bind-address <address>',
      'address the /metrics endpoint binds to; "0" disables it',
      bindAddress,
      ':8080',
    )
    .option(
      '--health-probe-bind-address <address>',
      'address the /healthz and /readyz endpoints bind to; "0" disables them',
      bindAddress,
      ':8081',
    )
    .addOption(
      new Option(
        '--leader-elect [enabled]',
        'enable leader election, so only one replica runs the controllers (also --leader-elect=false)',
      )
        .preset('true')
        .argParser(boolean)
        .default(false),
    )
    .option(
      '--leader-election-namespace <namespace>',
      'namespace of the leader election Lease',
      dnsLabel('--leader-election-namespace'),
      env.podNamespace ?? DEFAULT_LEADER_ELECTION_NAMESPACE,
    )
    .option(
      '--leader-election-id <name>',
      'name of the leader election Lease',
      dnsSubdomain('--leader-election-id'),
      'dockyard-controller',
    )
    .addOption(maxConcurrentReconcilesOption())
    .addOption(maxConcurrentReconcilesPerHostOption())
    .addOption(shardsOption())
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'log format; default pretty on a terminal, json otherwise')
        .choices(LOG_FORMATS)
        .default(env.stdoutIsTTY ? 'pretty' : 'json'),
    )
    .option(
      '--watch-namespace <namespace>',
      'watch namespaced kinds in this namespace only; default all namespaces',
      dnsLabel('--watch-namespace'),
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
        '--docker-events [enabled]',
        "follow each Docker host's event stream so drift is repaired at once; --docker-events=false " +
          'polls only (every --sync-period), e.g. for daemons behind proxies that break streaming',
      )
        .preset('true')
        .argParser(boolean)
        .default(true),
    )
    .option(
      '--cluster-id <id>',
      'identity of this cluster, labelled on every Docker object created (dockyard.io/cluster); the orphan ' +
        "sweep removes only objects with it, so clusters sharing a daemon never remove each other's. " +
        'Default: the UID of the kube-system namespace (the controller refuses to start if it cannot read it)',
      clusterIdFlag,
    );
}

function clusterIdFlag(value: string): string {
  const problem = clusterIdProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** The typed options of a parsed `controller` command. */
export function controllerOptionsOf(command: Command): ControllerCommandOptions {
  const flags = command.opts<ParsedFlags>();
  return {
    kubeconfig: flags.kubeconfig,
    metricsBindAddress: flags.metricsBindAddress,
    healthProbeBindAddress: flags.healthProbeBindAddress,
    leaderElect: flags.leaderElect,
    leaderElectionNamespace: flags.leaderElectionNamespace,
    leaderElectionId: flags.leaderElectionId,
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    maxConcurrentReconcilesPerHost: flags.maxConcurrentReconcilesPerHost,
    shards: flags.shards,
    logLevel: flags.logLevel,
    logFormat: flags.logFormat,
    watchNamespace: flags.watchNamespace,
    syncPeriodMs: flags.syncPeriod,
    dockerEvents: flags.dockerEvents,
    clusterId: flags.clusterId,
    agentEndpoint: agentEndpointSettings(flags, { namespace: flags.leaderElectionNamespace }),
  };
}

/**
 * Parses the arguments after `controller` (no program name). Throws
 * commander's error (with `.code` and `.exitCode`) on a bad flag instead of
 * printing and exiting, so it can be tested and reused.
 */
export function parseControllerArgs(
  args: readonly string[],
  env: Pick<CliEnvironment, 'stdoutIsTTY' | 'podNamespace'>,
): ControllerCommandOptions {
  const command = controllerCommand(env)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  command.parse([...args], { from: 'user' });
  return controllerOptionsOf(command);
}

/** Why these options cannot run together, or undefined. */
export function controllerOptionsProblem(options: ControllerCommandOptions): string | undefined {
  if (options.shards > 1 && !options.leaderElect)
    return '--shards above 1 needs --leader-elect: the controllers that do not talk to Docker run on the leader';
  return undefined;
}

/** commander argument parser (shared with `dockyard dev`). */
export function bindAddress(value: string): string {
  try {
    parseBindAddress(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return value;
}

/** Go's strconv.ParseBool spellings, as `--leader-elect=false` is written for Go operators. */
function boolean(value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new InvalidArgumentError('want true or false.');
}

/** --shards (docs/scale.md). */
function shardsOption(): Option {
  return new Option(
    '--shards <n>',
    'split the DockerHosts into n shards, each worked on by one replica at a time through its own ' +
      'Lease (beside the leader election Lease); the replicas share the shards evenly and take over ' +
      'those of a replica that stops renewing. Needs --leader-elect (DockerService and DockerComposeStack ' +
      'run on the leader). With --agent-bind-address every replica serves the agents of its own shards. ' +
      'See docs/scale.md for when to shard',
  )
    .argParser(positiveInteger)
    .default(1);
}

/** commander argument parser (shared with `dockyard dev`). */
// How much each controller does at once. controller-runtime has only
// MaxConcurrentReconciles (workers per controller); a Docker fleet needs a
// second bound, per host, because one daemon serialises much of its work and
// an edge host may be far away: with only a global bound, a rollout over
// 1,000 hosts moves a few containers per second however many hosts there are.

/** --max-concurrent-reconciles' default: enough workers for many hosts to proceed in parallel. */
export const DEFAULT_MAX_CONCURRENT_RECONCILES = 128;

export function maxConcurrentReconcilesOption(): Option {
  return new Option(
    '--max-concurrent-reconciles <n>',
    'reconciles each controller runs at once, over all hosts',
  )
    .argParser(positiveInteger)
    .default(DEFAULT_MAX_CONCURRENT_RECONCILES);
}

export function maxConcurrentReconcilesPerHostOption(): Option {
  return new Option(
    '--max-concurrent-reconciles-per-host <n>',
    'reconciles each controller runs at once on one Docker host',
  )
    .argParser(positiveInteger)
    .default(DEFAULT_RECONCILES_PER_HOST);
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('want a whole number of at least 1.');
  }
  return n;
}

/** commander argument parser (shared with `dockyard dev`). */
export function positiveDuration(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  if (ms <= 0) throw new InvalidArgumentError('want a duration above zero, e.g. 30s or 10m.');
  return ms;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dnsLabel(flag: string): (value: string) => string {
  return (value) => {
    if (!DNS_LABEL.test(value))
      throw new InvalidArgumentError(`${flag} must be a namespace name (RFC 1123 label).`);
    return value;
  };
}

function dnsSubdomain(flag: string): (value: string) => string {
  return (value) => {
    if (!DNS_SUBDOMAIN.test(value)) {
      throw new InvalidArgumentError(`${flag} must be an object name (RFC 1123 subdomain).`);
    }
    return value;
  };
}
