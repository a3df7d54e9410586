// Pushing an image on a host to a registry through the Engine API: tag it as
// the destination, then `POST /images/{name}/push` with the credentials in
// the X-Registry-Auth header only. Whether a destination already holds the
// image is decided without memory: the local image's RepoDigests name the
// destination repository at digest D (the daemon records it after a push or
// a pull), and the registry resolves the destination tag to D now.
import type Dockerode from 'dockerode';
import { Reason } from '../crds/reasons.js';
import { classifyPullError, dockerErrorText, parseProgressLines } from './image-client.js';
import { digestOf, pullTarget, repoDigestsFor } from './image-reference.js';
import type { RegistryAuth } from './registry-auth.js';

/** Why a push failed: credentials, a registry out of reach, or anything else the daemon said. */
export type PushFailureReason =
  typeof Reason.Unauthorized | typeof Reason.RegistryUnreachable | typeof Reason.PushFailed;

/** A failed push, with its reason; the message is the daemon's, prefixed with the destination. */
export class PushError extends Error {
  constructor(
    readonly reason: PushFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** The daemon's words for a failed push, as a reason (a registry's 404 on push is not a missing image). */
export function classifyPushError(message: string, statusCode?: number): PushFailureReason {
  const reason = classifyPullError({ message, ...(statusCode !== undefined ? { statusCode } : {}) });
  return reason === Reason.Unauthorized || reason === Reason.RegistryUnreachable ? reason : Reason.PushFailed;
}

/** What a push stream said: the digest the registry stored, or the first error. */
export interface PushStreamResult {
  digest?: string;
  error?: string;
}

/** Pure: the push stream's messages (`aux.Digest` on success, `error` on failure). */
export function readPushStream(text: string): PushStreamResult {
  const { messages } = parseProgressLines(`${text}\n`);
  const out: PushStreamResult = {};
  for (const m of messages as Array<{
    aux?: { Digest?: unknown };
    error?: string;
    errorDetail?: { message?: string };
  }>) {
    const error = m.errorDetail?.message ?? m.error;
    if (error && out.error === undefined) out.error = error;
    if (typeof m.aux?.Digest === 'string') out.digest = m.aux.Digest;
  }
  return out;
}

/** The digest of the destination's repository the local image was last pushed (or pulled) at. */
export function localDigestFor(repoDigests: readonly string[], destination: string): string[] {
  return repoDigestsFor(repoDigests, destination)
    .map(digestOf)
    .filter((d): d is string => d !== undefined);
}

export const pushClient = {
  /** Tags the image (by ID) as `destination` on the host. */
  async tag(api: Dockerode, imageId: string, destination: string): Promise<void> {
    const { fromImage, tag } = pullTarget(destination);
    await api.getImage(imageId).tag({ repo: fromImage, tag });
  },

  /**
   * Whether the registry holds this image at `destination`: one of the local
   * digests for its repository (the daemon records one after a push) is what
   * the tag resolves to now. A registry that answers something else, or
   * nothing (no such tag), does not hold it. One that cannot be asked
   * (unreachable, refused) is taken at the daemon's record, unverified: a
   * push would fail the same way, and one that went through is not repeated
   * for want of an answer.
   */
  async holds(
    api: Dockerode,
    opts: { destination: string; repoDigests: readonly string[]; auth?: RegistryAuth },
  ): Promise<{ digest: string; verified: boolean } | undefined> {
    const local = localDigestFor(opts.repoDigests, opts.destination);
    const [recorded] = local;
    if (recorded === undefined) return undefined;
    try {
      const info = await api
        .getImage(opts.destination)
        .distribution(opts.auth ? { authconfig: opts.auth } : {});
      const remote = (info as { Descriptor?: { digest?: string } }).Descriptor?.digest;
      return remote !== undefined && local.includes(remote) ? { digest: remote, verified: true } : undefined;
    } catch (err) {
      const reason = classifyPushError(dockerErrorText(err), (err as { statusCode?: number }).statusCode);
      return reason === Reason.PushFailed ? undefined : { digest: recorded, verified: false };
    }
  },

  /** Pushes `destination` (tagged on the host); resolves with the digest, rejects with a PushError. */
  async push(
    api: Dockerode,
    opts: { destination: string; auth?: RegistryAuth; signal?: AbortSignal },
  ): Promise<string> {
    const { fromImage, tag } = pullTarget(opts.destination);
    try {
      const image = api.getImage(fromImage);
      const stream = (await image.push({
        tag,
        ...(opts.auth ? { authconfig: opts.auth } : {}),
        ...(opts.signal ? { abortSignal: opts.signal } : {}),
      })) as NodeJS.ReadableStream;
      let text = '';
      for await (const chunk of stream as AsyncIterable<Buffer | string>) text += chunk.toString();
      const result = readPushStream(text);
      if (result.error !== undefined)
        throw new PushError(classifyPushError(result.error), `pushing ${opts.destination}: ${result.error}`);
      if (!result.digest)
        throw new PushError(Reason.PushFailed, `pushing ${opts.destination}: the daemon reported no digest`);
      return result.digest;
    } catch (err) {
      if (err instanceof PushError) throw err;
      const text = dockerErrorText(err);
      const statusCode = (err as { statusCode?: number } | null)?.statusCode;
      throw new PushError(classifyPushError(text, statusCode), `pushing ${opts.destination}: ${text}`);
    }
  },
};
