import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeCommand, readPinnedComposeVersion } from './compose-cli.js';
import { findModuleDir } from './go-module.js';

describe('readPinnedComposeVersion', () => {
  it.each([
    [
      'a single-line require',
      'module m\n\ngo 1.26.8\n\nrequire github.com/docker/compose/v5 v5.6.0\n',
      'v5.6.0',
    ],
    [
      'a require block',
      'module m\n\nrequire (\n\tgithub.com/docker/cli v29.8.2+incompatible\n\tgithub.com/docker/compose/v5 v5.7.1\n)\n',
      'v5.7.1',
    ],
  ])('%s', (_name, goMod, version) => {
    expect(readPinnedComposeVersion(goMod)).toBe(version);
  });

  it('does not take another major version or a longer module path for it', () => {
    const goMod =
      'module m\n\nrequire (\n\tgithub.com/docker/compose/v2 v2.40.0\n\tgithub.com/docker/compose/v5/pkg v5.0.0\n)\n';
    expect(() => readPinnedComposeVersion(goMod)).toThrow(
      'tools/compose-cli/go.mod does not require github.com/docker/compose/v5',
    );
  });

  // The version the proof corpus was written against; bumping it is a decision, not a drive-by.
  it('reads v5.6.0 from the repository pin', () => {
    const goMod = readFileSync(join(findModuleDir(join('tools', 'compose-cli')), 'go.mod'), 'utf8');
    expect(readPinnedComposeVersion(goMod)).toBe('v5.6.0');
  });
});

describe('composeCommand', () => {
  const base = {
    binary: '/cache/docker-compose',
    dockerHost: 'tcp://127.0.0.1:2375',
    projectName: 'proof-1',
    projectDir: '/tmp/proof',
    files: ['/tmp/proof/compose.yaml', '/tmp/proof/override.yaml'],
    args: ['up', '-d', '--wait'],
  };

  it('names the project, its folder and every file, in order, before the subcommand', () => {
    const cmd = composeCommand({ ...base, inherit: {} });
    expect(cmd.command).toBe('/cache/docker-compose');
    expect(cmd.cwd).toBe('/tmp/proof');
    expect(cmd.args).toEqual([
      '--ansi',
      'never',
      '--progress',
      'plain',
      '--project-name',
      'proof-1',
      '--project-directory',
      '/tmp/proof',
      '--file',
      '/tmp/proof/compose.yaml',
      '--file',
      '/tmp/proof/override.yaml',
      'up',
      '-d',
      '--wait',
    ]);
  });

  it('passes only PATH, HOME, the given variables and DOCKER_HOST', () => {
    const cmd = composeCommand({
      ...base,
      env: { TAG: '1.36', DOCKER_HOST: 'unix:///elsewhere.sock' },
      inherit: {
        PATH: '/usr/bin',
        HOME: '/root',
        COMPOSE_FILE: 'other.yaml',
        COMPOSE_PROJECT_NAME: 'other',
        DOCKER_CONTEXT: 'remote',
        DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND: '/usr/bin/docker',
        SECRET: 'x',
      },
    });
    expect(cmd.env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      TAG: '1.36',
      DOCKER_HOST: 'tcp://127.0.0.1:2375',
    });
  });
});
