import { describe, expect, it, vi } from 'vitest';
import { leaderIdentity } from './controller-command.js';
import type { ControllerCommandOptions } from './controller-options.js';
import { runCli } from './program.js';

describe('runCli', () => {
  it('runs `controller` with the parsed flags and returns its exit code', async () => {
    const controller = vi.fn(async (_options: ControllerCommandOptions) => 3);
    const code = await runCli(['node', 'dockyard', 'controller', '--leader-elect', '--sync-period=30s'], {
      controller,
    });
    expect(code).toBe(3);
    expect(controller).toHaveBeenCalledTimes(1);
    expect(controller.mock.calls[0]?.[0]).toMatchObject({ leaderElect: true, syncPeriodMs: 30_000 });
  });
});

describe('leaderIdentity', () => {
  it('is the host name plus a per-process suffix', () => {
    expect(leaderIdentity('dockyard-7d9f-abcde', 'f00')).toBe('dockyard-7d9f-abcde_f00');
    expect(leaderIdentity('h')).not.toBe(leaderIdentity('h'));
  });
});
