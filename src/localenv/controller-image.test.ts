import { describe, expect, it } from 'vitest';
import {
  dockerBuildArgs,
  dockerHostOf,
  extraCertificates,
  failureExcerpt,
  integrityOf,
  NODE_BASE_RECIPE,
  nodeBaseChanges,
  nodeBaseImageName,
  staleBuildImages,
  type ImageSummary,
} from './controller-image.js';

const pem = (body: string, eol = '\n') =>
  ['-----BEGIN CERTIFICATE-----', ...body.match(/.{1,8}/g)!, '-----END CERTIFICATE-----', ''].join(eol);
const A = pem('QUFBQUFBQUFBQUFB');
const B = pem('QkJCQkJCQkJCQkJC');
const C = pem('Q0NDQ0NDQ0NDQ0ND');

describe('nodeBaseImageName', () => {
  it.each([
    ['26.10.0', 'dockyard.local/node-base:26-0123456789ab'],
    ['v26.10.0', 'dockyard.local/node-base:26-0123456789ab'],
    ['27.0.0-pre', 'dockyard.local/node-base:27-0123456789ab'],
  ])('%s', (version, expected) => {
    expect(nodeBaseImageName(version, '0123456789ab')).toBe(expected);
  });

  it('refuses what is not a version', () => {
    expect(() => nodeBaseImageName('latest', 'x')).toThrow(/not a Node.js version/);
  });
});

describe('nodeBaseChanges', () => {
  it('sets PATH, NODE_VERSION, CMD and the recipe label like the official image', () => {
    expect(nodeBaseChanges('v26.10.0', 'abc')).toEqual([
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'ENV NODE_VERSION=26.10.0',
      'CMD ["node"]',
      'LABEL dockyard.recipe=abc',
    ]);
  });
});

describe('integrityOf', () => {
  it('is the SRI sha512 form npm uses', () => {
    expect(integrityOf(Buffer.alloc(0))).toBe(
      'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==',
    );
  });

  it('matches the pinned npm integrity format', () => {
    expect(NODE_BASE_RECIPE.npm.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});

describe('extraCertificates', () => {
  it.each([
    ['nothing extra', A + B, B + A, []],
    ['one extra, in host order', A + C + B, A + B, [C]],
    ['line endings and wrapping do not matter', pem('QUFBQUFBQUFBQUFB', '\r\n') + C, A, [C]],
    ['a duplicate in the host bundle counts once', C + A + C, A, [C]],
    ['empty host bundle', '', A, []],
    ['empty base bundle', A + B, '', [A, B]],
    ['text around certificates is ignored', `# comment\n${A}\nnoise\n${B}`, A, [B]],
  ])('%s', (_name, host, base, expected) => {
    expect(extraCertificates(host, base)).toEqual(expected);
  });
});

describe('dockerBuildArgs', () => {
  it('puts build args in a stable order and the context last', () => {
    expect(
      dockerBuildArgs({
        tag: 'dockyard.local/dockyard:dev',
        contextDir: '/repo/',
        buildArgs: { VERSION: '0.1.0', BASE_IMAGE: 'dockyard.local/node-base:26-abc' },
      }),
    ).toEqual([
      'build',
      '--force-rm',
      '--tag',
      'dockyard.local/dockyard:dev',
      '--build-arg',
      'BASE_IMAGE=dockyard.local/node-base:26-abc',
      '--build-arg',
      'VERSION=0.1.0',
      '/repo/',
    ]);
  });
});

describe('dockerHostOf', () => {
  it.each([
    ['unix socket', { socketPath: '/run/dockyard/docker.sock' }, 'unix:///run/dockyard/docker.sock'],
    ['plain tcp', { host: '127.0.0.1', port: 2375, protocol: 'http' }, 'tcp://127.0.0.1:2375'],
    ['tcp without a port', { host: 'node1' }, 'tcp://node1:2375'],
    ['tls: the CLI would need certificates too', { host: 'h', port: 2376, protocol: 'https' }, undefined],
    ['nothing', {}, undefined],
  ])('%s', (_name, modem, expected) => {
    expect(dockerHostOf(modem)).toBe(expected);
  });
});

describe('failureExcerpt', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);

  it('keeps a short output whole', () => {
    expect(failureExcerpt(lines.slice(0, 10))).toBe(lines.slice(0, 10).join('\n'));
  });

  it('keeps the head and the tail of a long one', () => {
    const excerpt = failureExcerpt(lines, 2, 1).split('\n');
    expect(excerpt).toEqual(['line 0', 'line 1', '… 97 lines …', 'line 99']);
  });
});

describe('staleBuildImages', () => {
  const id = (n: string) => `sha256:${n.padEnd(64, '0')}`;
  const img = (n: string, parent: string, tags: string[] = ['<none>:<none>']): ImageSummary => ({
    Id: id(n),
    ParentId: parent ? id(parent) : '',
    RepoTags: tags,
  });
  // base ─ deps(npm ci) ─┬─ build1 (old build stage)
  //                      └─ build2 (current build stage, reused)
  // base ─ run1 (old runtime image, untagged by the rebuild)
  // base ─ run2 (current, tagged)
  // base ─ failed (a failed build's last step)
  // other ─ theirs (someone else's untagged image)
  const images = [
    img('base', '', ['dockyard.local/node-base:26-abc']),
    img('deps', 'base'),
    img('build1', 'deps'),
    img('build2', 'deps'),
    img('run1', 'base'),
    img('run2', 'base', ['dockyard.local/dockyard:dev']),
    img('failed', 'base'),
    img('other', '', ['dockyard.local/busybox:1.36']),
    img('theirs', 'other'),
  ];
  const roots = new Set([id('base')]);

  it('returns the tips of chains the last build did not use, on our bases only', () => {
    const used = new Set(['deps00000000', 'build2000000', 'run200000000']);
    expect(staleBuildImages(images, roots, used)).toEqual([id('build1'), id('run1'), id('failed')]);
  });

  it('keeps everything the build used, and tagged images', () => {
    const used = new Set(['build1000000', 'build2000000', 'run100000000', 'failed000000']);
    expect(staleBuildImages(images, roots, used)).toEqual([]);
  });

  it('touches nothing without a base', () => {
    expect(staleBuildImages(images, new Set(), new Set())).toEqual([]);
  });
});
