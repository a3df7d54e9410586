import { describe, expect, it, vi } from 'vitest';
import type { DevCommandOptions } from './dev-options.js';
import { DEFAULT_DEV_DIR, parseDevArgs, type DevFacts } from './dev-options.js';
import { runCli } from './program.js';

const facts: DevFacts = { stdoutIsTTY: false, devDirEnv: undefined, cwd: '/repo' };

describe('parseDevArgs', () => {
  it.each<[string, string[], Partial<DevFacts>, Partial<DevCommandOptions>]>([
    [
      'defaults: .dockyard/dev under the working directory, free loopback ports, json off a terminal',
      [],
      {},
      {
        dataDir: `/repo/${DEFAULT_DEV_DIR}`,
        metricsBindAddress: '127.0.0.1:0',
        healthProbeBindAddress: '127.0.0.1:0',
        maxConcurrentReconciles: 128,
        maxConcurrentReconcilesPerHost: 4,
        syncPeriodMs: 600_000,
        logLevel: 'info',
        logFormat: 'json',
        adoptPrevious: true,
      },
    ],
    ['--no-adopt-previous', ['--no-adopt-previous'], {}, { adoptPrevious: false }],
    ['pretty on a terminal', [], { stdoutIsTTY: true }, { logFormat: 'pretty' }],
    [
      '--log-format wins over the terminal',
      ['--log-format=json'],
      { stdoutIsTTY: true },
      { logFormat: 'json' },
    ],
    ['$DOCKYARD_DEV_DIR, relative', [], { devDirEnv: 'tmp/dev' }, { dataDir: '/repo/tmp/dev' }],
    [
      '--data-dir wins over $DOCKYARD_DEV_DIR',
      ['--data-dir', '/x/y'],
      { devDirEnv: '/a' },
      { dataDir: '/x/y' },
    ],
    [
      'fixed ports and a shorter sync period',
      ['--metrics-bind-address', '127.0.0.1:9090', '--health-probe-bind-address=0', '--sync-period', '30s'],
      {},
      { metricsBindAddress: '127.0.0.1:9090', healthProbeBindAddress: '0', syncPeriodMs: 30_000 },
    ],
  ])('%s', (_name, args, overrides, expected) => {
    expect(parseDevArgs(args, { ...facts, ...overrides })).toMatchObject(expected);
  });

  it.each([
    [['--log-format', 'xml']],
    [['--metrics-bind-address', 'nope']],
    [['--max-concurrent-reconciles', '0']],
    [['--sync-period', '-1s']],
    [['--leader-elect']],
  ])('refuses %j', (args) => {
    expect(() => parseDevArgs(args, facts)).toThrow();
  });
});

describe('runCli dev', () => {
  it('runs `dev` with the parsed flags and returns its exit code', async () => {
    const dev = vi.fn(async (_options: DevCommandOptions) => 7);
    const controller = vi.fn(async () => 0);
    const code = await runCli(['node', 'dockyard', 'dev', '--data-dir', '/tmp/d', '--log-level=debug'], {
      controller,
      dev,
    });
    expect(code).toBe(7);
    expect(controller).not.toHaveBeenCalled();
    expect(dev.mock.calls[0]?.[0]).toMatchObject({ dataDir: '/tmp/d', logLevel: 'debug' });
  });
});
