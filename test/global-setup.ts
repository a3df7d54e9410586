import type { TestProject } from 'vitest/node';
import { ensureComposeLoader } from '../src/localenv/compose-loader.js';
import { ensureControlPlaneBinaries } from '../src/localenv/controlplane-binaries.js';
import { HostDocker } from '../src/localenv/host-docker.js';
import { ensureNodeImage, ensureWorkloadImage } from '../src/localenv/images.js';

// Once per integration run: make sure the cached parts exist (normally already
// done by scripts/prepare-env.ts, so this is fast) and keep one host Docker
// daemon up for every test file. Each file starts its own control plane,
// registry and Docker nodes, so a file that restarts or pauses them cannot
// disturb another.

declare module 'vitest' {
  export interface ProvidedContext {
    dockerHost: string;
    workloadImage: string;
    nodeImage: string;
  }
}

let hostDocker: HostDocker | undefined;

export async function setup(project: TestProject): Promise<void> {
  const log = (m: string) => console.log(`[localenv] ${m}`);
  await ensureControlPlaneBinaries(log);
  // The DockerComposeStack controller and `dockyard compose convert` load Compose with it.
  await ensureComposeLoader(log);
  hostDocker = await HostDocker.ensure({ log });
  const docker = hostDocker.client();
  const workloadImage = await ensureWorkloadImage(docker, log);
  const nodeImage = await ensureNodeImage(docker, log);
  project.provide('dockerHost', hostDocker.dockerHost);
  project.provide('workloadImage', workloadImage);
  project.provide('nodeImage', nodeImage);
}

export async function teardown(): Promise<void> {
  await hostDocker?.stop();
}
