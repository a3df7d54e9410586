import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { composeCommand, composeConvertOptionsOf, parseSelector } from './compose-options.js';

// `dockyard compose convert` flags: parsed by commander, turned into options
// here (paths absolute, the project directory defaulted as docker compose
// does, exactly one placement).

function parse(argv: string[]) {
  const convert = composeCommand().commands.find((c) => c.name() === 'convert') as Command;
  convert.exitOverride().configureOutput({ writeErr: () => {} });
  convert.parse(argv, { from: 'user' });
  return composeConvertOptionsOf(convert.opts(), '/home/me');
}

describe('dockyard compose convert flags', () => {
  it('resolves files, env files and the project directory against the working directory', () => {
    const opts = parse([
      '-f',
      'app/compose.yaml',
      '-f',
      'app/prod.yaml',
      '--env-file',
      'prod.env',
      '-n',
      'shop',
      '--host',
      'edge-1',
    ]);
    expect(opts).toEqual({
      files: ['/home/me/app/compose.yaml', '/home/me/app/prod.yaml'],
      envFiles: ['/home/me/prod.env'],
      profiles: [],
      projectName: undefined,
      projectDirectory: '/home/me/app',
      namespace: 'shop',
      placement: { hostName: 'edge-1' },
      allowUnsupported: false,
    });
  });

  it('defaults the project directory to the working directory without -f, and takes profiles', () => {
    const opts = parse([
      '-n',
      'shop',
      '--host-selector',
      'site=lab',
      '--profile',
      'debug',
      '--profile',
      'tools',
      '--allow-unsupported',
    ]);
    expect(opts.projectDirectory).toBe('/home/me');
    expect(opts.profiles).toEqual(['debug', 'tools']);
    expect(opts.placement).toEqual({ hostSelector: { matchLabels: { site: 'lab' } } });
    expect(opts.allowUnsupported).toBe(true);
  });

  it('needs exactly one of --host and --host-selector', () => {
    expect(() => parse(['-n', 'shop'])).toThrow(/exactly one of --host or --host-selector/);
    expect(() => parse(['-n', 'shop', '--host', 'a', '--host-selector', 'b=c'])).toThrow();
  });
});

describe('host selectors', () => {
  it.each([
    ['site=lab', { matchLabels: { site: 'lab' } }],
    ['site==lab,tier=edge', { matchLabels: { site: 'lab', tier: 'edge' } }],
    ['site!=lab', { matchExpressions: [{ key: 'site', operator: 'NotIn', values: ['lab'] }] }],
    ['gpu', { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }],
    [
      '!gpu, site=lab',
      { matchLabels: { site: 'lab' }, matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] },
    ],
  ])('%s', (text, selector) => {
    expect(parseSelector(text)).toEqual(selector);
  });

  it('refuses an empty selector', () => {
    expect(() => parseSelector(' , ')).toThrow(/--host-selector is empty/);
  });
});
