import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  devFilePaths,
  displayPath,
  envFileContent,
  nextSteps,
  readyBanner,
  shellQuote,
} from './dev-files.js';

describe('shellQuote', () => {
  it.each([
    ['/plain/path-1.2_x', '/plain/path-1.2_x'],
    ['unix:///run/dockyard/docker.sock', 'unix:///run/dockyard/docker.sock'],
    ['/with space', `'/with space'`],
    [`/it's`, `'/it'\\''s'`],
    ['$HOME', `'$HOME'`],
    ['', `''`],
  ])('%j → %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe('envFileContent', () => {
  it('exports KUBECONFIG, DOCKER_HOST and puts the kubectl dir first on PATH, when sourced by a shell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-files-'));
    try {
      const file = join(dir, 'env');
      writeFileSync(
        file,
        envFileContent({
          kubeconfig: `${dir}/it's here/kubeconfig`,
          dockerHost: 'unix:///run/dockyard/docker.sock',
          kubectlDir: `${dir}/bin dir`,
        }),
      );
      const out = execFileSync(
        'sh',
        ['-c', `. "$1" && printf '%s\\n' "$KUBECONFIG" "$DOCKER_HOST" "$PATH"`, 'sh', file],
        { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' },
      );
      expect(out.split('\n')).toEqual([
        `${dir}/it's here/kubeconfig`,
        'unix:///run/dockyard/docker.sock',
        `${dir}/bin dir:/usr/bin:/bin`,
        '',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('paths', () => {
  it('puts kubeconfig and env in the data dir', () => {
    expect(devFilePaths('/repo/.dockyard/dev')).toEqual({
      kubeconfig: '/repo/.dockyard/dev/kubeconfig',
      env: '/repo/.dockyard/dev/env',
    });
  });

  it.each([
    ['/repo/.dockyard/dev/env', '/repo', '.dockyard/dev/env'],
    ['/tmp/dev/env', '/repo', '/tmp/dev/env'],
    ['/repo-other/env', '/repo', '/repo-other/env'],
  ])('shows %s from %s as %s', (path, cwd, shown) => {
    expect(displayPath(path, cwd)).toBe(shown);
  });
});

describe('next steps', () => {
  it('sources the env file, applies the quickstart, lists and waits', () => {
    expect(nextSteps('.dockyard/dev/env')).toEqual([
      'source .dockyard/dev/env',
      'kubectl apply -f examples/quickstart.yaml',
      'kubectl get dockyard -A',
      'kubectl wait --for=condition=Ready -n quickstart dockercontainer --all',
    ]);
  });

  it('the banner names the endpoints and the steps', () => {
    const banner = readyBanner({
      envFile: '.dockyard/dev/env',
      apiServer: 'https://127.0.0.1:6443',
      dockerHost: 'unix:///var/run/docker.sock',
      metrics: 'http://127.0.0.1:4000/metrics',
      probes: undefined,
    });
    expect(banner).toContain('https://127.0.0.1:6443');
    expect(banner).toContain('unix:///var/run/docker.sock (DockerHost "local")');
    expect(banner).toContain('metrics     http://127.0.0.1:4000/metrics');
    expect(banner).not.toContain('probes');
    expect(banner).toContain('  source .dockyard/dev/env\n');
  });
});
