import type { Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  buildFilesTar,
  filesImageRef,
  filesTempName,
  isFilesTempName,
  type FileEntry,
} from './files-image.js';
import { readTar } from './tar.js';

const file = (path: string, content: string | Buffer, extra: Partial<FileEntry> = {}): FileEntry => ({
  path,
  content: Buffer.isBuffer(content) ? content : Buffer.from(content),
  mode: 0o644,
  uid: 0,
  gid: 0,
  ...extra,
});

describe('buildFilesTar', () => {
  it('writes one file entry per file with its mode, owner and bytes, and no directory entries', async () => {
    const binary = Buffer.from([0, 255, 1, 254]);
    const entries = await readTar(
      await buildFilesTar([
        file('/etc/app/app.conf', 'port=80\n'),
        file('/run/secrets/token', 'tok', { mode: 0o400, uid: 1000, gid: 2000 }),
        file('/opt/bin/blob', binary, { mode: 0o755, uid: 2147483647, gid: 65534 }),
      ]),
    );
    // Ids past ustar's field are PAX records (Docker's Go archive/tar applies them).
    const owner = (h: Header) => {
      const pax = h.pax as Record<string, string> | null | undefined;
      return pax?.uid ? [Number(pax.uid), Number(pax.gid)] : [h.uid, h.gid];
    };
    expect(entries.map((e) => [e.header.name, e.header.type, e.header.mode, ...owner(e.header)])).toEqual([
      ['etc/app/app.conf', 'file', 0o644, 0, 0],
      ['run/secrets/token', 'file', 0o400, 1000, 2000],
      ['opt/bin/blob', 'file', 0o755, 2147483647, 65534],
    ]);
    expect(entries.map((e) => e.content.toString('latin1'))).toEqual([
      'port=80\n',
      'tok',
      binary.toString('latin1'),
    ]);
  });

  it('keeps a path longer than ustar’s 100 characters whole', async () => {
    const path = `/${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const [entry] = await readTar(await buildFilesTar([file(path, 'x')]));
    expect(entry?.header.name).toBe(path.slice(1));
  });

  it('is reproducible: the same files give the same bytes', async () => {
    const files = [file('/a', 'one'), file('/b', 'two', { mode: 0o600 })];
    expect((await buildFilesTar(files)).equals(await buildFilesTar(files))).toBe(true);
  });
});

/** Docker's reference grammar for a repository path (distribution/reference), plus a tag. */
const REFERENCE =
  /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*:[\w][\w.-]{0,127}$/;

describe('filesImageRef', () => {
  const owner = { namespace: 'shop', name: 'web.v2-api', uid: '0f8fad5b-d9cb-469f-a165-70867728950e' };

  it.each([
    ['a dotted, dashed name', owner],
    ['one-letter names', { ...owner, namespace: 'a', name: 'b' }],
  ])('is a valid, readable reference for %s', (_what, o) => {
    const ref = filesImageRef(o, { hash: 'h', baseImageId: 'sha256:1' });
    expect(ref).toMatch(REFERENCE);
    expect(ref.startsWith(`dockyard-files/${o.namespace}.${o.name}:`)).toBe(true);
  });

  it('uses the owner uid when namespace and name would make the repository too long', () => {
    const ref = filesImageRef({ ...owner, name: 'n'.repeat(253) }, { hash: 'h', baseImageId: 'sha256:1' });
    expect(ref).toMatch(REFERENCE);
    expect(ref.split(':')[0]).toBe(`dockyard-files/${owner.uid}`);
  });

  it('tags by files and base image: either changing gives another image', () => {
    const tag = (hash: string, baseImageId: string) => filesImageRef(owner, { hash, baseImageId });
    expect(tag('h1', 'sha256:1')).toBe(tag('h1', 'sha256:1'));
    expect(tag('h2', 'sha256:1')).not.toBe(tag('h1', 'sha256:1'));
    expect(tag('h1', 'sha256:2')).not.toBe(tag('h1', 'sha256:1'));
    expect(tag('h1', 'sha256:1').split(':')[1]).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('temporary container names', () => {
  it.each([
    ['shop.web.files-0123abcd', true],
    ['shop.web', false],
    // An aside name (replace.ts) is never taken for one, whatever the name it keeps.
    ['0123456789ab_shop.web', false],
    ['0123456789ab_shop.files-0123abcd', false],
    ['shop.web.files-0123', false],
  ])('%s → %s', (name, temp) => {
    expect(isFilesTempName(name)).toBe(temp);
  });

  it('names the temporary container after the container and the tag', () => {
    const name = filesTempName('shop.web', '0123abcd45678901');
    expect(name).toBe('shop.web.files-0123abcd');
    expect(isFilesTempName(name)).toBe(true);
  });
});
