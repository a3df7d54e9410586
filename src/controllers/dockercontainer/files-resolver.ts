import { createHash } from 'node:crypto';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { Reason } from '../../crds/reasons.js';
import type { FileEntry } from '../../docker/files-image.js';
import type { EnvResolution, RefReader } from './env-resolver.js';

// spec.files resolved to bytes: inline content, or a Secret or ConfigMap key
// read the way env-resolver reads them (by name in the container's
// namespace, a missing optional source leaves the file out). The bytes go
// only into the files image's tar (files-image.ts); what goes anywhere else
// (the recreate hash, labels, messages) is a hash or a name.

/** The most bytes of resolved file content Dockyard writes into one container (the CRD documents it). */
export const MAX_FILES_BYTES = 1024 * 1024;

/** The mode a file gets when the spec gives none. */
export const DEFAULT_FILE_MODE = 0o644;

export type FilesResolution = { ok: true; files: FileEntry[] } | Extract<EnvResolution, { ok: false }>;

type Kind = 'Secret' | 'ConfigMap';

/**
 * One read per object and call, as resolveEnv does; as bytes when the reader
 * can: Secrets may be binary, and a ConfigMap's binaryData keys are files
 * too (a Kubernetes ConfigMap volume writes both maps).
 */
function cachedReads(reader: RefReader) {
  const cache = new Map<string, Promise<Record<string, Buffer> | undefined>>();
  const asBytes = (p: Promise<Record<string, string> | undefined>) =>
    p.then((d) => d && Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Buffer.from(v, 'utf8')])));
  const bytesOf = (kind: Kind, name: string) => {
    if (kind === 'ConfigMap')
      return reader.configMapBytes ? reader.configMapBytes(name) : asBytes(reader.configMap(name));
    return reader.secretBytes ? reader.secretBytes(name) : asBytes(reader.secret(name));
  };
  return (kind: Kind, name: string) => {
    const key = `${kind}/${name}`;
    let p = cache.get(key);
    if (!p) {
      p = bytesOf(kind, name);
      cache.set(key, p);
    }
    return p;
  };
}

/**
 * The files of the spec with their content, sorted by path. A missing
 * Secret/ConfigMap or key fails the resolution unless the reference is
 * optional (the file is then left out); more than MAX_FILES_BYTES in all
 * fails with FilesTooLarge. Messages name paths, objects and keys, never content.
 */
export async function resolveFiles(spec: DockerContainerSpec, reader: RefReader): Promise<FilesResolution> {
  const read = cachedReads(reader);
  const files: FileEntry[] = [];
  let total = 0;
  for (const f of spec.files ?? []) {
    let content: Buffer;
    const ref = f.secretKeyRef ?? f.configMapKeyRef;
    if (ref) {
      const kind: Kind = f.secretKeyRef ? 'Secret' : 'ConfigMap';
      const reason = kind === 'Secret' ? Reason.SecretNotFound : Reason.ConfigMapNotFound;
      const data = await read(kind, ref.name);
      const found = data?.[ref.key];
      if (found === undefined) {
        if (ref.optional) continue;
        const what =
          data === undefined
            ? `${kind} ${ref.name} not found`
            : `key ${ref.key} not found in ${kind} ${ref.name}`;
        return { ok: false, reason, message: `files ${f.path}: ${what}` };
      }
      content = found;
    } else {
      content = Buffer.from(f.content ?? '', 'utf8');
    }
    total += content.length;
    files.push({
      path: f.path,
      content,
      mode: f.mode !== undefined ? parseInt(f.mode, 8) : DEFAULT_FILE_MODE,
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
    });
  }
  if (total > MAX_FILES_BYTES)
    return {
      ok: false,
      reason: Reason.FilesTooLarge,
      message: `files: ${total} bytes in all, more than the ${MAX_FILES_BYTES} Dockyard writes into a container`,
    };
  return { ok: true, files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/**
 * The hash of the resolved files (path, mode, owner and a digest of the
 * content): part of the recreate hash, the files image's tag and label.
 * Undefined without files, so a spec without them hashes as before.
 */
export function filesHash(files: readonly FileEntry[]): string | undefined {
  if (files.length === 0) return undefined;
  const canonical = files.map((f) => [
    f.path,
    f.mode,
    f.uid,
    f.gid,
    createHash('sha256').update(f.content).digest('hex'),
  ]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
