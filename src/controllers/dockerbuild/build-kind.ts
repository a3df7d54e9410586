import { CoreV1Api } from '@kubernetes/client-node';
import type { DockerBuild } from '../../crds/dockerbuild.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import type { HostRuntime } from '../../docker/host-runtime.js';
import { imageClient } from '../../docker/image-client.js';
import { defineKind, type DescribedKind } from '../../managed/host-flow.js';
import { ownership } from '../../managed/ownership.js';
import { registerManagedController, type ManagedControllerHandle } from '../../managed/register.js';
import type { FinalizeOutcome, HostContext } from '../../managed/types.js';
import type { Informer } from '../../runtime/informer.js';
import type { ControllerDeps } from '../index.js';
import { removePushTags } from '../image-push/image-push.js';
import { buildEffects } from './build-effects.js';
import {
  BUILD_KIND,
  buildHostKey,
  buildOwner,
  BuildKindState,
  buildTagOf,
  type DockerBuildKindDeps,
} from './build-kind-state.js';
import { buildMachineSpec } from './build-machine.js';
import { buildMessages } from './build-messages.js';
import { createBuildMetrics } from './build-metrics.js';
import { observeBuild, restoreBuild } from './build-observe.js';
import { reportBuild } from './build-report.js';

/** Leaving a host: the owner's running build there is aborted, and waited for. */
async function releaseBuild(state: BuildKindState, ctx: HostContext<DockerBuild>): Promise<void> {
  const key = buildHostKey(ctx.obj, ctx.host.metadata.name);
  await Promise.all([state.jobs.release(key), state.pushes.release(key)]);
  state.memo.delete(key);
  state.logs.delete(key);
}

/**
 * deletionPolicy Delete: the tag (and the tags its pushes made) is removed
 * when it names the image this owner built (never forced: a container using it keeps it, and the
 * finalizer waits); an image anyone else tagged since is not ours to touch.
 */
async function deleteBuild(ctx: HostContext<DockerBuild>): Promise<FinalizeOutcome> {
  const tag = buildTagOf(ctx.obj);
  const local = await imageClient.inspect(ctx.conn.api, tag);
  if (!local || ownership(local.labels, buildOwner(ctx.obj)) !== 'ours') return { done: true };
  await removePushTags(ctx.conn.api, ctx.obj.spec, local.id);
  const result = await imageClient.remove(ctx.conn.api, tag);
  if (result === 'deleted') return { done: true };
  const users = await imageClient.containersUsing(ctx.conn.api, tag);
  return { done: false, message: buildMessages.inUse(tag, ctx.host.metadata.name, users.join(', ')) };
}

/**
 * The DockerBuild kind. Builds run in the background (one per owner and
 * host, see BackgroundJobs), so the work queue never waits on one; each reconcile
 * reads the inputs, hashes them and compares with the hash label of the
 * image the tag names. Built images carry owner labels, are not swept as
 * orphans (containers run from them), and the default is Orphan.
 */
export function dockerBuildKind(deps: DockerBuildKindDeps): DescribedKind<DockerBuild> {
  const state = new BuildKindState(deps);
  return defineKind({
    kind: BUILD_KIND,
    resource: { group: GROUP, version: VERSION, plural: 'dockerbuilds' },
    dockerEventType: 'image',
    defaultDeletionPolicy: 'Orphan',
    dockerNameOf: buildTagOf,
    flow: {
      machine: buildMachineSpec,
      restore: (ctx) => restoreBuild(state, ctx),
      observe: (ctx) => observeBuild(state, ctx),
      effects: buildEffects(state),
      report: (run) => reportBuild(state, run),
    },
    release: (ctx) => releaseBuild(state, ctx),
    delete: deleteBuild,
  });
}

/** Wires the kind with a reader of ConfigMaps and Secrets and its own trigger (a settled build). */
export function registerDockerBuildController(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  hosts: Informer<DockerHost>,
): ManagedControllerHandle<DockerBuild> {
  // The kind calls it only once a build settles, after registration has returned.
  const late: { handle?: ManagedControllerHandle<DockerBuild> } = {};
  const kind = dockerBuildKind({
    core: deps.kc.makeApiClient(CoreV1Api),
    trigger: (key) => late.handle?.trigger(key),
    metrics: createBuildMetrics(deps.manager.metrics.registry),
  });
  late.handle = registerManagedController({ deps, hostRuntime, hosts, kind });
  return late.handle;
}
