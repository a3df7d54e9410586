// The `dockyard compose convert` flags, parsed into a typed options object
// (pure: argv in, options out).

import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { LabelSelector } from '../crds/kit.js';

export interface ComposeConvertOptions {
  /** Absolute paths, in merge order; empty = compose.yaml (etc.) in projectDirectory. */
  files: string[];
  envFiles: string[];
  profiles: string[];
  projectName: string | undefined;
  /** Absolute; default the first file's folder, else the working directory (as docker compose). */
  projectDirectory: string;
  namespace: string;
  placement: { hostName: string } | { hostSelector: LabelSelector };
  allowUnsupported: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function composeCommand(): Command {
  const compose = new Command('compose').description('Work with Docker Compose files');
  compose.addCommand(
    new Command('convert')
      .description(
        'Print the Dockyard manifests for a Compose project (for kubectl apply, kustomize or GitOps)',
      )
      .option('-f, --file <path>', 'Compose file (repeat to merge, in order)', collect, [])
      .option(
        '--env-file <path>',
        'environment file for interpolation (repeatable; default .env)',
        collect,
        [],
      )
      .option('--profile <name>', 'enable a profile (repeatable)', collect, [])
      .option('-p, --project-name <name>', 'project name (default: the name key, else the project folder)')
      .option('--project-directory <dir>', 'project directory (default: the first file’s folder)')
      .requiredOption('-n, --namespace <namespace>', 'namespace of the manifests')
      .addOption(new Option('--host <name>', 'place everything on this DockerHost').conflicts('hostSelector'))
      .option(
        '--host-selector <selector>',
        'place on every DockerHost matching this label selector (a=b,c!=d,e,!f)',
      )
      .option(
        '--allow-unsupported',
        'convert the rest when a key has no Dockyard equivalent, listing it',
        false,
      ),
  );
  return compose;
}

interface RawConvertFlags {
  file: string[];
  envFile: string[];
  profile: string[];
  projectName?: string;
  projectDirectory?: string;
  namespace: string;
  host?: string;
  hostSelector?: string;
  allowUnsupported: boolean;
}

export function composeConvertOptionsOf(flags: RawConvertFlags, cwd: string): ComposeConvertOptions {
  const files = flags.file.map((f) => resolve(cwd, f));
  const projectDirectory = resolve(cwd, flags.projectDirectory ?? (files[0] ? dirname(files[0]) : '.'));
  if ((flags.host === undefined) === (flags.hostSelector === undefined)) {
    throw new Error('exactly one of --host or --host-selector is required');
  }
  return {
    files,
    envFiles: flags.envFile.map((f) => resolve(cwd, f)),
    profiles: flags.profile,
    projectName: flags.projectName,
    projectDirectory,
    namespace: flags.namespace,
    placement:
      flags.host !== undefined
        ? { hostName: flags.host }
        : { hostSelector: parseSelector(flags.hostSelector ?? '') },
    allowUnsupported: flags.allowUnsupported,
  };
}

/** kubectl's equality-based selector syntax: a=b, a==b, a!=b, a (exists), !a (does not exist). */
export function parseSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const raw of text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const notEqual = /^([^!=]+)!=(.*)$/.exec(raw);
    const equal = /^([^!=]+)==?(.*)$/.exec(raw);
    if (notEqual)
      matchExpressions.push({ key: notEqual[1]!.trim(), operator: 'NotIn', values: [notEqual[2]!.trim()] });
    else if (equal) matchLabels[equal[1]!.trim()] = equal[2]!.trim();
    else if (raw.startsWith('!'))
      matchExpressions.push({ key: raw.slice(1).trim(), operator: 'DoesNotExist' });
    else matchExpressions.push({ key: raw, operator: 'Exists' });
  }
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) {
    throw new Error('--host-selector is empty: give at least one requirement, e.g. site=lab');
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}
