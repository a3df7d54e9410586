// The build context as the daemon receives it: a tar archive. A ConfigMap's
// archive goes as it is (the daemon reads plain, gzip, bzip2 and xz tars);
// an inline Dockerfile is a one-file archive, or is added to the ConfigMap's
// archive under a name of its own, which means reading that archive here
// (plain or gzip; node has no bzip2 or xz).
import { gunzipSync } from 'node:zlib';
import type { Header } from 'tar-stream';
import { packTar, readTar } from '../../docker/tar.js';

/** The inline Dockerfile's name inside the context: unlikely to shadow a file of the user's. */
export const INLINE_DOCKERFILE = '.dockyard.inline.Dockerfile';

export class ContextError extends Error {}

const GZIP = [0x1f, 0x8b];
const BZIP2 = [0x42, 0x5a, 0x68];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const startsWith = (bytes: Buffer, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** A regular file at epoch mtime, so the same input gives the same bytes. */
const file = (name: string, content: Buffer) => ({
  header: { name, mode: 0o644, mtime: new Date(0) },
  content,
});

/** The ConfigMap's archive with the inline Dockerfile added. */
async function withInlineDockerfile(archive: Buffer, dockerfile: string): Promise<Buffer> {
  if (startsWith(archive, BZIP2) || startsWith(archive, XZ))
    throw new ContextError(
      'spec.dockerfileInline with a bzip2 or xz context: Dockyard adds the Dockerfile to plain or gzip tars only',
    );
  let plain: Buffer;
  try {
    plain = startsWith(archive, GZIP) ? gunzipSync(archive) : archive;
  } catch (err) {
    throw new ContextError(`the context is not a readable gzip archive: ${(err as Error).message}`);
  }
  let entries: Array<{ header: Header; content: Buffer }>;
  try {
    entries = await readTar(plain);
  } catch (err) {
    throw new ContextError(`the context is not a tar archive: ${(err as Error).message}`);
  }
  const kept = entries.filter((e) => e.header.name !== INLINE_DOCKERFILE);
  return packTar([...kept, file(INLINE_DOCKERFILE, Buffer.from(dockerfile))]);
}

/** The context to send and the Dockerfile's path in it. */
export async function buildContext(opts: {
  archive: Buffer | undefined;
  dockerfileInline: string | undefined;
  dockerfile: string | undefined;
}): Promise<{ context: Buffer; dockerfile: string }> {
  const { archive, dockerfileInline } = opts;
  if (dockerfileInline === undefined) {
    if (!archive) throw new ContextError('no context and no spec.dockerfileInline');
    return { context: archive, dockerfile: opts.dockerfile ?? 'Dockerfile' };
  }
  const context = archive
    ? await withInlineDockerfile(archive, dockerfileInline)
    : await packTar([file(INLINE_DOCKERFILE, Buffer.from(dockerfileInline))]);
  return { context, dockerfile: INLINE_DOCKERFILE };
}
