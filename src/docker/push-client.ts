// Pushing an image on a host to a registry through the Engine API: tag it as
// the destination, then `POST /images/{name}/push` with the credentials in
// the X-Registry-Auth header only. Whether a destination already holds the
// image is decided without memory: the local image's RepoDigests name the
// destination repository at digest D (the daemon records it after a push or
// a pull), and the registry resolves the destination tag to D now.
import type Dockerode from 'dockerode';
import { Reason } from '../crds/reasons.js';
import { ImagePullError, classifyPullError, parseProgressLines } from './image-client.js';
import { digestOf, pullTarget, repoDigestsFor } from './image-reference.js';
import type { RegistryAuth } from './registry-auth.js';

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
   * Whether the registry holds this image at `destination` already: one of
   * the local digests for its repository is what the tag resolves to now. A
   * registry that cannot tell (unreachable, no such tag) does not hold it.
   */
  async holds(
    api: Dockerode,
    opts: { destination: string; repoDigests: readonly string[]; auth?: RegistryAuth },
  ): Promise<string | undefined> {
    const local = localDigestFor(opts.repoDigests, opts.destination);
    if (local.length === 0) return undefined;
    try {
      const info = await api
        .getImage(opts.destination)
        .distribution(opts.auth ? { authconfig: opts.auth } : {});
      const remote = (info as { Descriptor?: { digest?: string } }).Descriptor?.digest;
      return remote !== undefined && local.includes(remote) ? remote : undefined;
    } catch {
      return undefined;
    }
  },

  /** Pushes `destination` (tagged on the host); resolves with the digest, rejects with an ImagePullError. */
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
        throw new ImagePullError(
          classifyPullError({ message: result.error }),
          `pushing ${opts.destination}: ${result.error}`,
        );
      if (!result.digest)
        throw new ImagePullError(
          Reason.PullError,
          `pushing ${opts.destination}: the daemon reported no digest`,
        );
      return result.digest;
    } catch (err) {
      if (err instanceof ImagePullError) throw err;
      throw ImagePullError.from(err, `pushing ${opts.destination}`);
    }
  },
};
