// Pushing a built image to spec.push. What each destination holds is asked
// of the registry (through the host's daemon) at every look once the image
// is current, so nothing needs remembering across restarts and a
// destination that already holds the image's digest is never pushed again.
import type { DockerBuild } from '../../crds/dockerbuild.js';
import type { ObservedImage } from '../../docker/image-client.js';
import { PushError, pushClient } from '../../docker/push-client.js';
import type { RegistryAuth } from '../../docker/registry-auth.js';
import { Reason } from '../../crds/reasons.js';
import type { HostContext } from '../../managed/types.js';
import { resolvePullCredentials } from '../dockerimage/pull-credentials.js';
import type { JobRun, PushedImage, PushResult } from './build-jobs.js';
import type { BuildKindState } from './build-kind-state.js';

/** A destination to push to, with the credentials matched to its registry. */
export interface PushTarget {
  image: string;
  auth?: RegistryAuth;
  /** Problems with the listed push secrets (never their content), told with a failure. */
  notes: string[];
}

/** What the owner's pushes look like on the host this reconcile. */
export interface PushWork {
  /** Destinations holding the current image (unverified: the registry could not be asked). */
  held: Array<PushedImage & { verified: boolean }>;
  pending: PushTarget[];
  running: boolean;
  /** How the owner's push ended, when it ended since the last look. */
  finished: PushResult | undefined;
}

export const NO_PUSH: PushWork = { held: [], pending: [], running: false, finished: undefined };

async function targetOf(ctx: HostContext<DockerBuild>, image: string, state: BuildKindState) {
  const names = (ctx.obj.spec.pushSecrets ?? []).map((s) => s.name);
  const creds = await resolvePullCredentials(state.core, ctx.namespace, names, image);
  return { image, ...(creds.auth ? { auth: creds.auth } : {}), notes: creds.notes };
}

/**
 * The pushes of the current image `local` (built from `hash`): a push still
 * running for another hash is aborted (its image is stale), a running one
 * is left alone, otherwise each destination is asked whether it holds it.
 */
export async function observePushes(opts: {
  state: BuildKindState;
  ctx: HostContext<DockerBuild>;
  hostKey: string;
  hash: string;
  local: ObservedImage;
}): Promise<PushWork> {
  const { state, ctx, hostKey, hash, local } = opts;
  let view = state.pushes.view(hostKey);
  if (view?.state === 'running' && view.hash !== hash) {
    await state.pushes.release(hostKey);
    view = undefined;
  }
  const finished = view?.state === 'done' && view.result.hash === hash ? view.result : undefined;
  if (view?.state === 'done' && !finished) state.pushes.take(hostKey);
  if (view?.state === 'running') return { ...NO_PUSH, running: true };
  const work: PushWork = { held: [], pending: [], running: false, finished };
  for (const { image } of ctx.obj.spec.push ?? []) {
    const target = await targetOf(ctx, image, state);
    const holds = await pushClient.holds(ctx.conn.api, {
      destination: image,
      repoDigests: local.repoDigests,
      ...(target.auth ? { auth: target.auth } : {}),
    });
    if (holds) work.held.push({ image, ...holds });
    else work.pending.push(target);
  }
  return work;
}

/** The push itself, in the background: each pending destination in turn; never rejects. */
export function pushRun(opts: {
  state: BuildKindState;
  ctx: HostContext<DockerBuild>;
  hash: string;
  imageId: string;
  targets: readonly PushTarget[];
}): JobRun<PushResult> {
  const { state, ctx } = opts;
  return async (signal) => {
    const pushed: PushedImage[] = [];
    const timeout = AbortSignal.timeout(state.buildTimeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    for (const target of opts.targets) {
      try {
        await pushClient.tag(ctx.conn.api, opts.imageId, target.image);
        const digest = await pushClient.push(ctx.conn.api, {
          destination: target.image,
          ...(target.auth ? { auth: target.auth } : {}),
          signal: both,
        });
        pushed.push({ image: target.image, digest });
      } catch (err) {
        const reason = err instanceof PushError ? err.reason : Reason.PushFailed;
        const said =
          timeout.aborted && !signal.aborted
            ? `pushing ${target.image}: not finished after ${state.buildTimeoutMs / 1000}s`
            : err instanceof PushError
              ? err.message
              : `pushing ${target.image}: ${String(err)}`;
        const message = [said, ...target.notes].join('; ');
        return { ok: false, hash: opts.hash, pushed, reason, message, finishedAt: state.clock() };
      }
    }
    return { ok: true, hash: opts.hash, pushed, finishedAt: state.clock() };
  };
}
