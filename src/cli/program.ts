// The `dockyard` command line: one program, one subcommand per process kind.
// Commands only parse flags and hand over to their runner.

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  controllerCommand,
  controllerOptionsOf,
  type ControllerCommandOptions,
} from './controller-options.js';
import { composeCommand, composeConvertOptionsOf } from './compose-options.js';
import { devCommand, devFacts, devOptionsOf, type DevCommandOptions } from './dev-options.js';
import { processEnvironment, type CliEnvironment } from './environment.js';
import { agentCommand, runAgentCommand, type AgentCommandOptions } from './agent-command.js';
import { dashboardCommand, runDashboardCommand, type DashboardCommandOptions } from './dashboard-command.js';

export interface CommandRunners {
  controller(options: ControllerCommandOptions, env: CliEnvironment): Promise<number>;
  dev?(options: DevCommandOptions): Promise<number>;
}

// Each command's runner is imported when it runs: the controller's (every kind, the Kubernetes and
// Docker clients, Sigstore) and the Compose loader's are not what `dockyard agent` on a small edge
// box should carry in memory.
const defaultRunners: CommandRunners = {
  controller: async (options, env) =>
    (await import('./controller-command.js')).runControllerCommand(options, env),
};

/**
 * Loaded on demand: only dev mode needs src/localenv, a production `dockyard
 * controller` never loads it, and the controller image leaves it out.
 */
async function runDev(options: DevCommandOptions): Promise<number> {
  let devModule: typeof import('./dev-command.js');
  try {
    devModule = await import('./dev-command.js');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write(
      'dockyard dev is not part of this installation (the controller image carries the controller only); ' +
        'run it from a checkout of the repository: npm ci && npm start\n',
    );
    return 2;
  }
  return devModule.runDevCommand(options);
}

/**
 * The program; `result.exitCode` holds what the command that ran returned.
 * Help, version and usage errors are handled by commander (print, then exit).
 */
export function buildProgram(
  env: CliEnvironment,
  runners: CommandRunners = defaultRunners,
): { program: Command; result: { exitCode: number } } {
  const result = { exitCode: 0 };
  const program = new Command('dockyard')
    .description('Declarative Docker for Kubernetes')
    .version(packageVersion());
  const controller = controllerCommand(env)
    .showHelpAfterError('(run dockyard controller --help for the flags)')
    .action(async (_opts: unknown, command: Command) => {
      result.exitCode = await runners.controller(controllerOptionsOf(command), env);
    });
  program.addCommand(controller);
  const facts = devFacts();
  const dev = devCommand(facts)
    .showHelpAfterError('(run dockyard dev --help for the flags)')
    .action(async (_opts: unknown, command: Command) => {
      result.exitCode = await (runners.dev ?? runDev)(devOptionsOf(command, facts.cwd));
    });
  program.addCommand(dev);
  program.addCommand(composeWithAction(result));
  const agent = agentCommand(env)
    .showHelpAfterError('(run dockyard agent --help for the flags)')
    .action(async (flags: AgentCommandOptions) => {
      result.exitCode = await runAgentCommand(flags, packageVersion());
    });
  program.addCommand(agent);
  const dashboard = dashboardCommand(env)
    .showHelpAfterError('(run dockyard dashboard --help for the flags)')
    .action(async (flags: DashboardCommandOptions) => {
      result.exitCode = await runDashboardCommand(flags, env);
    });
  program.addCommand(dashboard);
  return { program, result };
}

function composeWithAction(result: { exitCode: number }): Command {
  const compose = composeCommand();
  const convert = compose.commands.find((c) => c.name() === 'convert') as Command;
  convert.showHelpAfterError('(run dockyard compose convert --help for the flags)').action(async (flags) => {
    const environment = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const { runComposeConvert } = await import('./compose-command.js');
    result.exitCode = await runComposeConvert(composeConvertOptionsOf(flags, process.cwd()), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      environment,
    });
  });
  return compose;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function runCli(argv: readonly string[], runners?: CommandRunners): Promise<number> {
  const { program, result } = buildProgram(processEnvironment(), runners);
  await program.parseAsync([...argv]);
  return result.exitCode;
}

/** package.json sits two levels up from both src/cli/program.ts and dist/cli/program.js. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
