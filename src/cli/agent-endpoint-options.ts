// The flags that turn on the edge agents' endpoint (docs/agent.md), shared by
// `dockyard controller` and `dockyard dev`. Off unless --agent-bind-address is
// given: a controller that manages only reachable daemons opens no port.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AgentEndpointSettings } from '../managed/controller-deps.js';
import { parseBindAddress } from '../runtime/health.js';
import { parseDuration } from './duration.js';

export interface AgentEndpointFlags {
  agentBindAddress?: string;
  agentAdvertiseAddress?: string;
  agentServerName?: string[];
  agentNamespace?: string;
  agentSocketDir?: string;
  agentCertificateValidity: number;
  agentTokenValidity: number;
}

function hostPort(value: string): string {
  let parsed;
  try {
    parsed = parseBindAddress(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  if (!parsed) throw new InvalidArgumentError('want host:port or :port.');
  return value;
}

/** A commander parser for a Go duration of at least `minimum` (e.g. '1m'). */
export function durationAtLeast(minimum: string): (value: string) => number {
  const minimumMs = parseDuration(minimum);
  return (value) => {
    try {
      const ms = parseDuration(value);
      if (ms < minimumMs) throw new Error(`want at least ${minimum}.`);
      return ms;
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

const duration = durationAtLeast('1m');

function collect(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/** Adds the agent endpoint flags to a command. */
export function withAgentEndpointFlags(command: Command): Command {
  return command
    .option(
      '--agent-bind-address <address>',
      'serve edge agents (DockerHosts with spec.agent) on this host:port with TLS; off when not given',
      hostPort,
    )
    .option(
      '--agent-advertise-address <address>',
      'host:port agents dial, written into each bootstrap Secret (the Service or Ingress in front of ' +
        '--agent-bind-address). Default: --agent-bind-address when it names a host',
      hostPort,
    )
    .option(
      '--agent-server-name <name>',
      'a DNS name or IP address on the endpoint certificate (repeatable, or comma-separated); the first is ' +
        'what agents verify. Default: the host of --agent-advertise-address',
      collect,
    )
    .option(
      '--agent-namespace <namespace>',
      'namespace of the agent CA and bootstrap Secrets. Default: the leader election namespace',
    )
    .option('--agent-socket-dir <dir>', 'directory of the per-host local Docker sockets (mode 0700)')
    .addOption(
      new Option('--agent-certificate-validity <duration>', 'lifetime of agent client certificates')
        .argParser(duration)
        .default(parseDuration('24h'), '24h'),
    )
    .addOption(
      new Option('--agent-token-validity <duration>', 'lifetime of an unused bootstrap token')
        .argParser(duration)
        .default(parseDuration('1h'), '1h'),
    );
}

function hostOf(address: string): string | undefined {
  return parseBindAddress(address)?.host;
}

/**
 * The endpoint settings, or undefined when agents are not served. Throws
 * InvalidArgumentError when what agents must dial cannot be known.
 */
export function agentEndpointSettings(
  flags: AgentEndpointFlags,
  defaults: { namespace: string },
): AgentEndpointSettings | undefined {
  if (!flags.agentBindAddress) return undefined;
  const bind = parseBindAddress(flags.agentBindAddress);
  if (!bind) return undefined;
  const unspecified = (host: string | undefined) => !host || host === '0.0.0.0' || host === '::';
  const advertise =
    flags.agentAdvertiseAddress ?? (unspecified(bind.host) ? undefined : flags.agentBindAddress);
  if (!advertise)
    throw new InvalidArgumentError(
      '--agent-advertise-address is required when --agent-bind-address listens on every interface',
    );
  const serverNames = flags.agentServerName?.length ? flags.agentServerName : [hostOf(advertise) ?? ''];
  if (!serverNames[0])
    throw new InvalidArgumentError(
      '--agent-server-name is required when the advertised address names no host',
    );
  return {
    bind: { host: bind.host ?? '0.0.0.0', port: bind.port },
    advertise,
    serverNames,
    namespace: flags.agentNamespace ?? defaults.namespace,
    socketDir: flags.agentSocketDir ?? join(tmpdir(), `dockyard-agents-${process.pid}`),
    certValiditySeconds: Math.round(flags.agentCertificateValidity / 1000),
    tokenTtlMs: flags.agentTokenValidity,
  };
}
