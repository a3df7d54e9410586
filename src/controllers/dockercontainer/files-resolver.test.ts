import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { Reason } from '../../crds/reasons.js';
import type { FileEntry } from '../../docker/files-image.js';
import { referencedConfigMaps, referencedSecrets, type RefReader } from './env-resolver.js';
import { filesHash, MAX_FILES_BYTES, resolveFiles, type FilesResolution } from './files-resolver.js';

const SECRET_VALUE = 'hunter2-file-do-not-log';

const secrets: Record<string, Record<string, string>> = { db: { password: SECRET_VALUE } };
const configMaps: Record<string, Record<string, string>> = { app: { 'app.conf': 'port=80\n' } };

function reader(
  withBytes?: Record<string, Record<string, Buffer>>,
  configMapBytes?: Record<string, Record<string, Buffer>>,
): RefReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    secret: (name) => {
      calls.push(`Secret/${name}`);
      return Promise.resolve(secrets[name]);
    },
    configMap: (name) => {
      calls.push(`ConfigMap/${name}`);
      return Promise.resolve(configMaps[name]);
    },
    ...(withBytes
      ? {
          secretBytes: (name: string) => {
            calls.push(`SecretBytes/${name}`);
            return Promise.resolve(withBytes[name]);
          },
        }
      : {}),
    ...(configMapBytes
      ? {
          configMapBytes: (name: string) => {
            calls.push(`ConfigMapBytes/${name}`);
            return Promise.resolve(configMapBytes[name]);
          },
        }
      : {}),
  };
}

type File = NonNullable<DockerContainerSpec['files']>[number];
const spec = (files: File[]): DockerContainerSpec => ({ hostName: 'h', image: 'i', files });
const entry = (path: string, content: string, extra: Partial<FileEntry> = {}): FileEntry => ({
  path,
  content: Buffer.from(content),
  mode: 0o644,
  uid: 0,
  gid: 0,
  ...extra,
});
const ok = (...files: FileEntry[]): FilesResolution => ({ ok: true, files });

describe('resolveFiles', () => {
  it.each<[string, File[], FilesResolution]>([
    ['no files', [], ok()],
    ['inline, default mode and owner', [{ path: '/etc/motd', content: 'hi' }], ok(entry('/etc/motd', 'hi'))],
    [
      'a Secret key, mode and owner as given (octal string)',
      [
        {
          path: '/run/secrets/db',
          secretKeyRef: { name: 'db', key: 'password' },
          mode: '0400',
          uid: 1000,
          gid: 2000,
        },
      ],
      ok(entry('/run/secrets/db', SECRET_VALUE, { mode: 0o400, uid: 1000, gid: 2000 })),
    ],
    [
      'a ConfigMap key',
      [{ path: '/etc/app/app.conf', configMapKeyRef: { name: 'app', key: 'app.conf' }, mode: '640' }],
      ok(entry('/etc/app/app.conf', 'port=80\n', { mode: 0o640 })),
    ],
    [
      'an optional missing Secret, key or ConfigMap leaves the file out; sorted by path',
      [
        { path: '/z', content: 'z' },
        { path: '/s', secretKeyRef: { name: 'nope', key: 'k', optional: true } },
        { path: '/k', secretKeyRef: { name: 'db', key: 'nope', optional: true } },
        { path: '/c', configMapKeyRef: { name: 'nope', key: 'k', optional: true } },
        { path: '/a', content: 'a' },
      ],
      ok(entry('/a', 'a'), entry('/z', 'z')),
    ],
    [
      'a missing Secret',
      [{ path: '/run/s', secretKeyRef: { name: 'nope', key: 'k' } }],
      { ok: false, reason: Reason.SecretNotFound, message: 'files /run/s: Secret nope not found' },
    ],
    [
      'a missing key of a Secret',
      [{ path: '/run/s', secretKeyRef: { name: 'db', key: 'nope' } }],
      { ok: false, reason: Reason.SecretNotFound, message: 'files /run/s: key nope not found in Secret db' },
    ],
    [
      'a missing ConfigMap',
      [{ path: '/etc/c', configMapKeyRef: { name: 'nope', key: 'k' } }],
      { ok: false, reason: Reason.ConfigMapNotFound, message: 'files /etc/c: ConfigMap nope not found' },
    ],
  ])('%s', async (_name, files, expected) => {
    expect(await resolveFiles(spec(files), reader())).toEqual(expected);
  });

  it('refuses more than MAX_FILES_BYTES in all, naming the size and never the content', async () => {
    const half = 'x'.repeat(MAX_FILES_BYTES / 2);
    const fits = await resolveFiles(
      spec([
        { path: '/a', content: half },
        { path: '/b', content: half },
      ]),
      reader(),
    );
    expect(fits.ok).toBe(true);
    const r = await resolveFiles(
      spec([
        { path: '/a', content: half },
        { path: '/b', content: half },
        { path: '/c', secretKeyRef: { name: 'db', key: 'password' } },
      ]),
      reader(),
    );
    expect(r).toMatchObject({ ok: false, reason: Reason.FilesTooLarge });
    expect(JSON.stringify(r)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(r)).toContain(String(MAX_FILES_BYTES + SECRET_VALUE.length));
  });

  it('takes Secret bytes as they are when the reader has them (binary files), each object read once', async () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    const r = reader({ db: { password: binary } });
    const out = await resolveFiles(
      spec([
        { path: '/a', secretKeyRef: { name: 'db', key: 'password' } },
        { path: '/b', secretKeyRef: { name: 'db', key: 'password' } },
      ]),
      r,
    );
    expect(out.ok && out.files.map((f) => f.content.equals(binary))).toEqual([true, true]);
    expect(r.calls).toEqual(['SecretBytes/db']);
  });

  it('takes ConfigMap bytes when the reader has them: a binaryData key byte-exact, data keys too', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x80, 0xc3, 0x28]); // not valid UTF-8
    const r = reader(undefined, { app: { 'logo.bin': binary, 'app.conf': Buffer.from('port=80\n') } });
    const out = await resolveFiles(
      spec([
        { path: '/etc/app/logo.bin', configMapKeyRef: { name: 'app', key: 'logo.bin' } },
        { path: '/etc/app/app.conf', configMapKeyRef: { name: 'app', key: 'app.conf' } },
      ]),
      r,
    );
    expect(out.ok && out.files.map((f) => [f.path, f.content.toString('hex')])).toEqual([
      ['/etc/app/app.conf', Buffer.from('port=80\n').toString('hex')],
      ['/etc/app/logo.bin', binary.toString('hex')],
    ]);
    expect(r.calls).toEqual(['ConfigMapBytes/app']);
  });
});

describe('filesHash', () => {
  const base = [entry('/a', 'one'), entry('/b', 'two', { mode: 0o600, uid: 1, gid: 2 })];

  it('is undefined without files, so a spec without them hashes as before', () => {
    expect(filesHash([])).toBeUndefined();
  });

  it.each<[string, FileEntry[]]>([
    ['content', [entry('/a', 'ONE'), base[1] as FileEntry]],
    ['mode', [entry('/a', 'one', { mode: 0o640 }), base[1] as FileEntry]],
    ['uid', [entry('/a', 'one', { uid: 7 }), base[1] as FileEntry]],
    ['gid', [entry('/a', 'one', { gid: 7 }), base[1] as FileEntry]],
    ['path', [entry('/A', 'one'), base[1] as FileEntry]],
    ['a file less', [base[0] as FileEntry]],
  ])('changes with the %s', (_what, changed) => {
    expect(filesHash(changed)).not.toBe(filesHash(base));
  });

  it('is a hash, never the content', () => {
    const h = filesHash([entry('/s', SECRET_VALUE)]);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain(SECRET_VALUE);
  });
});

describe('referenced Secrets and ConfigMaps', () => {
  it('include those spec.files read', () => {
    const s = spec([
      { path: '/a', secretKeyRef: { name: 'tls', key: 'key' } },
      { path: '/b', configMapKeyRef: { name: 'app', key: 'conf' } },
    ]);
    expect(referencedSecrets(s)).toEqual(['tls']);
    expect(referencedConfigMaps(s)).toEqual(['app']);
  });
});
