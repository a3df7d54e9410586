// Writes the generated docs: docs/api.md (from the TypeBox types in
// src/crds), docs/state-machines.md (from the controllers' xstate machines)
// and docs/metrics.md (from the registered metrics).
// Usage: npx tsx scripts/generate-docs.ts
// scripts/generate-docs.test.ts fails when a committed file differs from what
// this would write. docs/troubleshooting.md is written by hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { hostMachine, HOST_MACHINE_VERSION } from '../src/controllers/dockerhost/host-machine.js';
import { rolloutMachine, ROLLOUT_MACHINE_VERSION } from '../src/controllers/dockerservice/rollout-machine.js';
import { inApiOrder, MANAGED_KINDS } from '../src/controllers/kinds.js';
import { ALL_KINDS } from '../src/crds/index.js';
import { renderApiDoc } from './docs/api-doc.js';
import { collectMetrics, renderMetricsDoc } from './docs/metrics-doc.js';
import { renderStateMachinesDoc, type MachineDoc } from './docs/state-diagrams.js';

export const MACHINES: readonly MachineDoc[] = [
  {
    kind: 'DockerHost',
    machine: hostMachine,
    version: HOST_MACHINE_VERSION,
    source: 'src/controllers/dockerhost/host-machine.ts',
    about:
      'Connectivity of one Docker daemon, driven by heartbeats: Pending until first reached, then Ready or ' +
      'NotReady. Its actions record Events and start or stop the host’s Docker event stream.',
  },
  // The managed kinds (src/controllers/kinds.ts), in the API's order.
  ...inApiOrder(MANAGED_KINDS).map((k): MachineDoc => ({ kind: k.definition.kind, ...k.machine })),
  {
    kind: 'DockerService',
    machine: rolloutMachine,
    version: ROLLOUT_MACHINE_VERSION,
    source: 'src/controllers/dockerservice/rollout-machine.ts',
    about:
      'The rollout of one DockerService, one event per reconcile (what the replicas show and the time): a new ' +
      'template starts Progressing; Complete when every replica runs it and is Available; a failure rolls back ' +
      'to the last fully Available revision (RollingBack → RolledBack) or stops (Failed), as failureAction says. ' +
      'Its DockerContainers run their own machine (above); its actions record Events and count rollouts.',
  },
];

export const DOC_FILES = ['docs/api.md', 'docs/state-machines.md', 'docs/metrics.md'] as const;

async function formatted(path: string, markdown: string): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  return format(`${markdown}\n`, { ...options, filepath: path });
}

/** Path → the text the committed file must have. */
export async function renderDocs(): Promise<Map<string, string>> {
  const [api, machines, metrics] = DOC_FILES;
  return new Map([
    [api, await formatted(api, renderApiDoc(ALL_KINDS))],
    [machines, await formatted(machines, renderStateMachinesDoc(MACHINES))],
    [metrics, await formatted(metrics, renderMetricsDoc(collectMetrics()))],
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const docs = await renderDocs();
  for (const [path, text] of docs) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  console.log(`wrote ${[...docs.keys()].join(', ')}`);
}
