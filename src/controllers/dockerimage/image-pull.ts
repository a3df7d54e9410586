import type { DockerImage } from '../../crds/dockerimage.js';
import { Reason } from '../../crds/reasons.js';
import { ImagePullError, imageClient } from '../../docker/image-client.js';
import type { HostContext } from '../../managed/types.js';
import { credentialIdentity, type CredentialIdentity } from './image-access.js';
import { ownerHostKey, ownerId, type ImageKindState } from './image-kind-state.js';
import type { PullCredentials } from './pull-credentials.js';
import type { PullResult, PullRun } from './pull-jobs.js';

/** A pull that has not finished after this long is abandoned and retried. */
const DEFAULT_PULL_TIMEOUT_MS = 15 * 60_000;

/** One pull per host, image, platform and credentials: owners with other credentials never share a pull. */
function pullKey(opts: {
  host: string;
  ref: string;
  platform: string | undefined;
  identity: CredentialIdentity;
}): string {
  return [opts.host, opts.ref, opts.platform ?? '', opts.identity].join('\u0000');
}

export interface StartPull {
  state: ImageKindState;
  ctx: HostContext<DockerImage>;
  ref: string;
  creds: PullCredentials;
}

/**
 * Starts the owner's pull in the background, or joins the one running with
 * the same credentials; the reconcile never waits for it (PullJobs calls
 * back when it settles).
 */
export function startPull({ state, ctx, ref, creds }: StartPull): void {
  const hostName = ctx.host.metadata.name;
  const identity = credentialIdentity(creds.auth);
  const key = pullKey({ host: hostName, ref, platform: ctx.obj.spec.platform, identity });
  state.ownerPulls.set(ownerHostKey(ctx.obj, hostName), { key, identity });
  ctx.logger.info({ image: ref, credentialsFrom: creds.source ?? null }, 'pulling image');
  state.jobs.start(
    key,
    ownerId(ctx.obj),
    `${ctx.namespace}/${ctx.obj.metadata.name}`,
    pullRun({ state, ctx, ref, creds }),
  );
}

/** The pull itself: never rejects, it reports how it ended (and records the pull metric). */
function pullRun({ state, ctx, ref, creds }: StartPull): PullRun {
  const hostName = ctx.host.metadata.name;
  const platform = ctx.obj.spec.platform;
  const stream = ctx.conn.stream;
  const { clock, metrics } = state;
  const timeoutMs = state.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  return async (signal, onProgress): Promise<PullResult> => {
    const started = clock();
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const out = await imageClient.pull(stream, ref, {
        ...(creds.auth ? { auth: creds.auth } : {}),
        ...(platform ? { platform } : {}),
        signal: AbortSignal.any([signal, timeout]),
        onProgress,
      });
      const durationMs = clock() - started;
      metrics.pulled(hostName, 'success', durationMs / 1000, out.bytes);
      return {
        ok: true,
        ...(out.digest ? { digest: out.digest } : {}),
        bytes: out.bytes,
        durationMs,
        finishedAt: clock(),
      };
    } catch (err) {
      const durationMs = clock() - started;
      const e =
        timeout.aborted && !signal.aborted
          ? new ImagePullError(Reason.PullError, `pulling ${ref}: not finished after ${timeoutMs / 1000}s`)
          : ImagePullError.from(err, `pulling ${ref}`);
      metrics.pulled(hostName, e.reason, durationMs / 1000, 0);
      // No notes here: they name the starter's Secrets, and each owner adds its own.
      return { ok: false, reason: e.reason, message: e.message, durationMs, finishedAt: clock() };
    }
  };
}
