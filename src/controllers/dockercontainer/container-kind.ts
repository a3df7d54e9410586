import type { DockerContainer } from '../../crds/dockercontainer.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { containerClient } from '../../docker/container-client.js';
import { stopTimeoutSeconds } from '../../docker/container-spec.js';
import { removeUnusedFilesImages } from '../../docker/files-image.js';
import { defineKind, type DescribedKind } from '../../managed/host-flow.js';
import { ownership } from '../../managed/ownership.js';
import type { FinalizeOutcome, HostContext } from '../../managed/types.js';
import { ImageAccessRecords } from '../dockerimage/image-access.js';
import { ContainerOps } from './background-ops.js';
import { containerEffects } from './container-effects.js';
import { containerMachineSpec } from './container-machine.js';
import { observeContainer, settleAfterActing } from './container-observe.js';
import { containerNameOf, OWNER_KIND, ownerOf } from './container-owner.js';
import { reportContainer } from './container-report.js';
import type { ContainerKindState } from './container-work.js';
import { HeldAnnouncements } from './dependencies.js';
import type { DockerContainerKindDeps } from './desired-container.js';
import { AsideMemory, removeAside } from './replace.js';

// The DockerContainer kind, assembled: the host flow (managed/host-flow.ts)
// runs observe (container-observe.ts) → the machine (container-machine.ts) →
// its effects (container-effects.ts) → one more look (settleAfterActing) →
// the status report (container-report.ts). Wording is in container-messages.ts.

export { containerNameOf } from './container-owner.js';
export { createAndConnect, type CreateRequest } from './container-docker.js';
export { crashBackoffMs, type ContainerHostEntry } from './container-report.js';
export {
  desiredContainer,
  type DesiredContainer,
  type DockerContainerKindDeps,
} from './desired-container.js';

/**
 * Removes our container from the host (deletionPolicy Delete), and any of
 * ours a recreate a crash interrupted left aside (replace.ts). A running
 * one's grace period is waited out off the worker: not done (no error, no
 * backoff) until its stop ends.
 */
async function deleteContainer(
  state: ContainerKindState,
  ctx: HostContext<DockerContainer>,
): Promise<FinalizeOutcome> {
  const name = containerNameOf(ctx.obj);
  await removeAside(ctx.conn.api, name, ownerOf(ctx.obj).uid);
  const observed = await containerClient.observe(ctx.conn.api, name);
  if (!observed || ownership(observed.labels, ownerOf(ctx.obj)) !== 'ours') {
    await removeUnusedFilesImages(ctx.conn.api, ownerOf(ctx.obj).uid);
    return { done: true };
  }
  if (observed.state.running || observed.state.restarting) {
    const stop = await state.ops.stop({
      host: ctx.host.metadata.name,
      id: observed.id,
      name,
      graceSeconds: stopTimeoutSeconds(ctx.obj.spec),
      ownerKey: `${ctx.namespace}/${ctx.obj.metadata.name}`,
      stream: ctx.conn.stream,
      signal: ctx.signal,
    });
    if (stop.state === 'stopping') return { done: false, message: stop.message };
    if (stop.state === 'failed') throw new Error(stop.message);
  }
  await containerClient.remove(ctx.conn.api, observed.id, { force: true });
  // Its files images (files-image.ts): no container of this owner uses them any more.
  await removeUnusedFilesImages(ctx.conn.api, ownerOf(ctx.obj).uid);
  return { done: true };
}

/**
 * Leaving a host under either policy: a pull for it there is no longer
 * waited for, and its files images no container uses go (files-image.ts).
 * The one an orphaned container runs from stays: Docker refuses (409) to
 * remove it unforced. Best effort: under Delete, deleteContainer removes
 * them again after the container; under Orphan, the orphan sweep takes them
 * once the owner is gone and nothing uses them.
 */
async function releaseContainer(state: ContainerKindState, ctx: HostContext<DockerContainer>): Promise<void> {
  state.ops.release(ctx.host.metadata.name, ownerOf(ctx.obj).uid);
  try {
    await removeUnusedFilesImages(ctx.conn.api, ownerOf(ctx.obj).uid);
  } catch (err) {
    ctx.logger.warn({ err }, 'removing unused files images on release failed; left for later');
  }
}

/** The DockerContainer kind for the managed reconciler, with its memory across reconciles. */
export function dockerContainerKind(deps: DockerContainerKindDeps): DescribedKind<DockerContainer> {
  const state: ContainerKindState = {
    deps,
    imageAccess: deps.imageAccess ?? new ImageAccessRecords(),
    announced: new HeldAnnouncements(),
    asideMemory: new AsideMemory(),
    ops: deps.ops ?? new ContainerOps(),
  };
  return defineKind({
    kind: OWNER_KIND,
    resource: { group: GROUP, version: VERSION, plural: 'dockercontainers' },
    dockerEventType: 'container',
    defaultDeletionPolicy: 'Delete',
    dockerNameOf: containerNameOf,
    flow: {
      machine: containerMachineSpec,
      observe: (ctx, saved) => observeContainer(state, ctx, saved),
      effects: containerEffects(state),
      afterActing: settleAfterActing,
      report: (run) => reportContainer(state, run),
    },
    release: (ctx) => releaseContainer(state, ctx),
    delete: (ctx) => deleteContainer(state, ctx),
  });
}
