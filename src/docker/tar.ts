// Tar archives in memory, whole: what Dockyard sends to or reads from a
// daemon (a container's files, a build context) is small enough to hold.
import { extract, pack, type Header } from 'tar-stream';

export interface TarEntry {
  header: Partial<Header> & { name: string };
  content: Buffer;
}

/** The entries, in order, as one tar archive. */
export function packTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    tar.on('end', () => resolve(Buffer.concat(chunks)));
    tar.on('error', reject);
  });
  for (const e of entries) tar.entry(e.header, e.content);
  tar.finalize();
  return done;
}

/** Every entry of a tar archive (any type), with its content; rejects when it is not one. */
export async function readTar(archive: Buffer): Promise<Array<{ header: Header; content: Buffer }>> {
  const out: Array<{ header: Header; content: Buffer }> = [];
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({ header, content: Buffer.concat(chunks) });
        next();
      });
      stream.on('error', reject);
    });
    reader.on('finish', () => resolve());
    reader.on('error', reject);
  });
  reader.end(archive);
  await done;
  return out;
}
