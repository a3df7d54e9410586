// What `dockyard dev` writes into its data dir for the person at the
// terminal (a kubeconfig and a file to `source`) and what it tells them to
// try next. Pure text; dev-command.ts does the writing.

import { isAbsolute, join, relative } from 'node:path';

export interface DevFilePaths {
  /** Copy of the control plane's admin kubeconfig. */
  kubeconfig: string;
  /** `source` it: KUBECONFIG, DOCKER_HOST and the matching kubectl on PATH. */
  env: string;
}

export function devFilePaths(dataDir: string): DevFilePaths {
  return { kubeconfig: join(dataDir, 'kubeconfig'), env: join(dataDir, 'env') };
}

/** Quotes `value` for POSIX shells: single quotes, with embedded ones closed, escaped and reopened. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface EnvFileInputs {
  kubeconfig: string;
  dockerHost: string;
  /** The directory holding the kubectl built with the control plane (same version). */
  kubectlDir: string;
}

/** The `env` file: three exports, safe to source more than once. */
export function envFileContent(inputs: EnvFileInputs): string {
  return [
    '# Written by `dockyard dev`: point kubectl and docker at the dev environment.',
    '#   source <this file>',
    `export KUBECONFIG=${shellQuote(inputs.kubeconfig)}`,
    `export DOCKER_HOST=${shellQuote(inputs.dockerHost)}`,
    `export PATH=${shellQuote(inputs.kubectlDir)}:"$PATH"`,
    '',
  ].join('\n');
}

/** How to name a file to the person: relative when it lies under the working directory. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export interface ReadyFacts {
  envFile: string;
  apiServer: string;
  dockerHost: string;
  metrics: string | undefined;
  probes: string | undefined;
  /** The dashboard URL, when dev mode serves it. */
  dashboard?: string | undefined;
}

/** The commands to try once dev mode is ready, in order. */
export function nextSteps(envFile: string): string[] {
  return [
    `source ${shellQuote(envFile)}`,
    'kubectl apply -f examples/quickstart.yaml',
    'kubectl get dockyard -A',
    'kubectl wait --for=condition=Ready -n quickstart dockercontainer --all',
  ];
}

/** The banner printed on a terminal once everything is up. */
export function readyBanner(facts: ReadyFacts): string {
  const rows: [string, string][] = [
    ['API server', facts.apiServer],
    ['Docker', `${facts.dockerHost} (DockerHost "local")`],
    ...(facts.metrics ? [['metrics', facts.metrics] as [string, string]] : []),
    ...(facts.probes ? [['probes', facts.probes] as [string, string]] : []),
    ...(facts.dashboard ? [['dashboard', facts.dashboard] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '',
    'Dockyard dev is running. Ctrl-C stops it; your objects and containers are kept.',
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    'Try, in another terminal:',
    '',
    ...nextSteps(facts.envFile).map((step) => `  ${step}`),
    '',
  ].join('\n');
}
