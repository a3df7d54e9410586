// `dockyard agent`: runs on a Docker host the cluster cannot reach, next to
// its daemon, and dials out to the controller (docs/agent.md). Flags in, the
// agent process (src/agent/agent-process.ts) run until a signal.

import { Command, InvalidArgumentError, Option } from 'commander';
import { startAgent } from '../agent/agent-process.js';
import { BootstrapError, parseHostPort } from '../agent/bootstrap.js';
import { createLogger } from '../runtime/logging.js';
import { durationAtLeast } from './agent-endpoint-options.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './controller-options.js';

export interface AgentCommandOptions {
  bootstrap: string;
  stateDir: string;
  dockerSocket: string;
  endpoint?: { host: string; port: number };
  serverName?: string;
  keepalive: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function endpointFlag(value: string): { host: string; port: number } {
  try {
    return parseHostPort(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export function agentCommand(env: { stdoutIsTTY: boolean }): Command {
  return new Command('agent')
    .description(
      'Run the edge agent on a Docker host: dial out to the controller, carry its Docker API requests to ' +
        'the local daemon, and keep the last desired state while disconnected (the host opens no port)',
    )
    .addOption(
      new Option(
        '--bootstrap <path>',
        'the DockerHost bootstrap Secret: a mounted directory, or `kubectl get secret -o json` output',
      ).default('/etc/dockyard-agent/bootstrap'),
    )
    .addOption(
      new Option(
        '--state-dir <dir>',
        'keeps the key, certificate and last desired state (mode 0700)',
      ).default('/var/lib/dockyard-agent'),
    )
    .addOption(
      new Option('--docker-socket <path>', 'the local Docker daemon').default('/var/run/docker.sock'),
    )
    .option('--endpoint <host:port>', "dial this instead of the bootstrap Secret's endpoint", endpointFlag)
    .option('--server-name <name>', "verify the controller's certificate against this name instead")
    .addOption(
      new Option(
        '--keepalive <duration>',
        'how often the agent pings the controller; an unanswered ping ends the tunnel and starts local repair',
      )
        .argParser(durationAtLeast('1s'))
        .default(30_000, '30s'),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'log format; default pretty on a terminal, json otherwise')
        .choices(LOG_FORMATS)
        .default(env.stdoutIsTTY ? 'pretty' : 'json'),
    );
}

/** Runs until SIGINT/SIGTERM; resolves with the exit code. */
export async function runAgentCommand(options: AgentCommandOptions, version: string): Promise<number> {
  const logger = createLogger({ level: options.logLevel, pretty: options.logFormat === 'pretty' });
  let agent;
  try {
    agent = await startAgent({
      bootstrapPath: options.bootstrap,
      stateDir: options.stateDir,
      dockerSocketPath: options.dockerSocket,
      version,
      livenessMs: options.keepalive,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.serverName ? { serverName: options.serverName } : {}),
      log: logger,
    });
  } catch (err) {
    if (err instanceof BootstrapError) {
      logger.error({ err: err.message }, 'cannot read the bootstrap Secret');
      return 2;
    }
    throw err;
  }
  logger.info({ version, stateDir: options.stateDir }, 'agent started');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('stopping agent');
  await agent.close();
  return 0;
}
