import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DockerBuild, DockerBuildSpec } from '../../crds/dockerbuild.js';
import { readTar } from '../../docker/tar.js';
import type { RefReader } from '../dockercontainer/env-resolver.js';
import { buildContext, INLINE_DOCKERFILE } from './build-context.js';
import { buildHash, resolveBuildInputs } from './build-inputs.js';
import { remoteContext } from './git-refs.js';

/** The archive's file names and contents. */
async function filesOf(archive: Buffer): Promise<Record<string, string>> {
  return Object.fromEntries((await readTar(archive)).map((e) => [e.header.name, e.content.toString()]));
}

const contextTar = async () =>
  (await buildContext({ archive: undefined, dockerfileInline: 'FROM scratch\n', dockerfile: undefined }))
    .context;

const build = (spec: Partial<DockerBuildSpec>): DockerBuild => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerBuild',
  metadata: { name: 'app', namespace: 'team-a', uid: 'u1' },
  spec: { hostName: 'h', image: 'app:1', ...spec },
});

/** A reader whose methods use `this`, as KubeRefReader's do: calling one detached fails. */
class FakeReader implements RefReader {
  constructor(
    private readonly configMaps: Record<string, Record<string, Buffer>>,
    private readonly secrets: Record<string, Record<string, string>>,
  ) {}

  async secret(name: string) {
    return this.secrets[name];
  }

  async configMap(name: string) {
    const cm = this.configMaps[name];
    return cm && Object.fromEntries(Object.entries(cm).map(([k, v]) => [k, v.toString()]));
  }

  async configMapBytes(name: string) {
    return this.configMaps[name];
  }
}

const reader = (opts: {
  configMaps?: Record<string, Record<string, Buffer>>;
  secrets?: Record<string, Record<string, string>>;
}): RefReader => new FakeReader(opts.configMaps ?? {}, opts.secrets ?? {});

describe('buildContext', () => {
  it('an inline Dockerfile alone is a one-file context', async () => {
    const out = await buildContext({
      archive: undefined,
      dockerfileInline: 'FROM x\n',
      dockerfile: undefined,
    });
    expect(out.dockerfile).toBe(INLINE_DOCKERFILE);
    expect(await filesOf(out.context)).toEqual({ [INLINE_DOCKERFILE]: 'FROM x\n' });
  });

  it('adds an inline Dockerfile to a plain or gzip archive, and passes an archive on untouched otherwise', async () => {
    const archive = await contextTar();
    for (const given of [archive, gzipSync(archive)]) {
      const out = await buildContext({ archive: given, dockerfileInline: 'FROM y\n', dockerfile: undefined });
      expect(await filesOf(out.context)).toEqual({ [INLINE_DOCKERFILE]: 'FROM y\n' });
    }
    const asIs = await buildContext({ archive, dockerfileInline: undefined, dockerfile: 'sub/Dockerfile' });
    expect(asIs).toEqual({ context: archive, dockerfile: 'sub/Dockerfile' });
  });

  it('refuses what it cannot add a Dockerfile to', async () => {
    const bzip2 = Buffer.from('BZh91AY&SY');
    await expect(
      buildContext({ archive: bzip2, dockerfileInline: 'FROM z', dockerfile: undefined }),
    ).rejects.toThrow(/bzip2 or xz/);
    const garbage = Buffer.from('not a tar at all, just text '.repeat(30));
    await expect(
      buildContext({ archive: garbage, dockerfileInline: 'FROM z', dockerfile: undefined }),
    ).rejects.toThrow(/not a tar archive/);
  });
});

describe('resolveBuildInputs', () => {
  it('reads the context, arguments and secret mounts; Secret values are to be redacted', async () => {
    const archive = await contextTar();
    const spec: Partial<DockerBuildSpec> = {
      context: { configMap: { name: 'src', key: 'ctx.tar' } },
      args: [
        { name: 'VERSION', value: '1.2' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'ci', key: 'token' } } },
      ],
      secrets: [
        { id: 'npmrc', secretKeyRef: { name: 'ci', key: 'npmrc' } },
        { id: 'absent', secretKeyRef: { name: 'ci', key: 'nope', optional: true } },
      ],
    };
    const inputs = await resolveBuildInputs(
      build(spec),
      reader({
        configMaps: { src: { 'ctx.tar': archive } },
        secrets: { ci: { token: 't0k', npmrc: 'auth=x' } },
      }),
    );
    expect(inputs.ok).toBe(true);
    if (!inputs.ok) return;
    expect(inputs.context).toEqual(archive);
    expect(inputs.dockerfile).toBe('Dockerfile');
    expect(inputs.buildArgs).toEqual({ VERSION: '1.2', TOKEN: 't0k' });
    expect([...inputs.secrets.keys()]).toEqual(['npmrc']);
    expect(inputs.redact.sort()).toEqual(['auth=x', 't0k']);
  });

  it.each([
    [
      { context: { configMap: { name: 'gone', key: 'k' } } },
      'ConfigMapNotFound',
      'spec.context: ConfigMap gone not found',
    ],
    [
      { context: { configMap: { name: 'src', key: 'other' } } },
      'ConfigMapNotFound',
      'spec.context: key other not found in ConfigMap src',
    ],
    [
      {
        dockerfileInline: 'FROM a',
        args: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }],
      },
      'SecretNotFound',
      'spec.args: T: Secret gone not found',
    ],
    [
      { dockerfileInline: 'FROM a', secrets: [{ id: 'npmrc', secretKeyRef: { name: 'ci', key: 'other' } }] },
      'SecretNotFound',
      'spec.secrets npmrc: key other not found in Secret ci',
    ],
  ] as Array<[Partial<DockerBuildSpec>, string, string]>)('%j → %s', async (spec, reason, message) => {
    const inputs = await resolveBuildInputs(
      build(spec),
      reader({ configMaps: { src: { 'ctx.tar': Buffer.from('x') } }, secrets: { ci: { npmrc: 'v' } } }),
    );
    expect(inputs).toEqual({ ok: false, reason, message });
  });

  it('hashes the spec and the context bytes, not placement or deletionPolicy', () => {
    const a = build({ dockerfileInline: 'FROM a' });
    expect(buildHash(a, { archive: Buffer.from('1') })).not.toBe(buildHash(a, { archive: Buffer.from('2') }));
    expect(buildHash(a, { commit: 'c1' })).not.toBe(buildHash(a, { commit: 'c2' }));
    expect(buildHash(a, {})).not.toBe(buildHash(build({ dockerfileInline: 'FROM b' }), {}));
    const moved = build({ dockerfileInline: 'FROM a', hostName: 'other', deletionPolicy: 'Delete' });
    expect(buildHash(moved, {})).toBe(buildHash(a, {}));
  });
});

describe('remoteContext', () => {
  it('is url#ref, the ref as written', () => {
    const url = 'http://git.example/app.git';
    expect(remoteContext({ url })).toBe(`${url}#`);
    expect(remoteContext({ url, ref: 'main' })).toBe(`${url}#main`);
  });
});
