import { CoreV1Api } from '@kubernetes/client-node';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { defineKind, type DescribedKind } from '../../managed/host-flow.js';
import { registerManagedController, type ManagedControllerHandle } from '../../managed/register.js';

import type { Informer } from '../../runtime/informer.js';
import type { HostRuntime } from '../../docker/host-runtime.js';
import type { ControllerDeps } from '../index.js';
import { imageAccessRecordsFor } from './image-access.js';
import { imagePolicyGateFor } from '../image-policy/shared-gate.js';
import { imageEffects } from './image-effects.js';
import { deleteImage, releaseImage } from './image-finalize.js';
import { IMAGE_KIND, ImageKindState, type DockerImageKindDeps } from './image-kind-state.js';
import { imageMachineSpec } from './image-machine.js';
import { createImageMetrics } from './image-metrics.js';
import { observeImage, restoreImage } from './image-observe.js';
import { reportImage } from './image-report.js';
import { imageRefOf } from './image-spec.js';

export type { DockerImageKindDeps } from './image-kind-state.js';

/**
 * The DockerImage kind. Pulls run in the background (one per host, image
 * and credentials, see PullJobs) so each reconcile reports progress and the
 * work queue never waits on a registry. An image already on the host that
 * came from the registry with someone else's credentials is used only after
 * this owner's credentials are accepted for it (image-access.ts). Images are
 * shared: they carry no owner labels, so the default is Orphan, and Delete
 * removes an image only when no container uses it and no other DockerImage
 * wants it on that host.
 */
export function dockerImageKind(deps: DockerImageKindDeps): DescribedKind<DockerImage> {
  const state = new ImageKindState(deps);
  return defineKind({
    kind: IMAGE_KIND,
    resource: { group: GROUP, version: VERSION, plural: 'dockerimages' },
    dockerEventType: 'image',
    defaultDeletionPolicy: 'Orphan',
    // Docker names a pulled image by its familiar reference in image events (`id` of a pull).
    dockerNameOf: imageRefOf,
    flow: {
      machine: imageMachineSpec,
      restore: (ctx) => restoreImage(state, ctx),
      observe: (ctx, saved) => observeImage(state, ctx, saved),
      effects: imageEffects(state),
      report: (run) => reportImage(state, run),
    },
    release: (ctx) => releaseImage(state, ctx),
    delete: (ctx) => deleteImage(state, ctx),
  });
}

/**
 * Wires the DockerImage kind with what it needs from the process: a Secrets
 * reader, pull metrics on the manager's registry, and its own informer (for
 * the shared-image check) and trigger (a settled background pull).
 */
export function registerDockerImageController(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  hosts: Informer<DockerHost>,
): ManagedControllerHandle<DockerImage> {
  // The kind calls these only while reconciling, after registration has returned.
  const late: { handle?: ManagedControllerHandle<DockerImage> } = {};
  const core = deps.kc.makeApiClient(CoreV1Api);
  const kind = dockerImageKind({
    core,
    metrics: createImageMetrics(deps.manager.metrics.registry),
    objects: () => late.handle?.objects.list() ?? [],
    trigger: (key) => late.handle?.trigger(key),
    // The DockerContainer kind reads the same records (registered with the same HostRuntime).
    access: imageAccessRecordsFor(hostRuntime),
    // The same gate (and verification cache) as the DockerContainer kind.
    imagePolicy: imagePolicyGateFor(hostRuntime, { core, registry: deps.manager.metrics.registry }),
  });
  late.handle = registerManagedController({ deps, hostRuntime, hosts, kind });
  return late.handle;
}
