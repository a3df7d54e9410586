import { describe, expect, it } from 'vitest';
import { HeldAnnouncements } from './dependencies.js';
import { reportContainer } from './container-report.js';
import type { ContainerKindState, ContainerRun, ContainerWork } from './container-work.js';
import { emptyKindDeps, HOST, webHostContext } from './test-support.js';

// What a Running container reports right after Dockyard created or started
// it: Ready, and a second look within a second only when no Docker event
// would say that it exited meanwhile.

const state = { deps: emptyKindDeps, announced: new HeldAnnouncements() } as unknown as ContainerKindState;

function runningRun(opts: { acted: boolean; eventsFollowed: boolean | undefined }): ContainerRun {
  const ctx = webHostContext();
  if (opts.eventsFollowed !== undefined) ctx.eventsFollowed = opts.eventsFollowed;
  const work = {
    name: 'team.web',
    hostName: HOST,
    spec: ctx.obj.spec,
    observed: undefined,
    resolved: { missing: [] },
    situation: { type: 'RUNNING' },
    acted: opts.acted,
  } as unknown as ContainerWork;
  const saved = {
    state: 'Running',
    version: 1,
    context: { lastRestartCount: 0, crashes: 0, repairs: 0, retries: 0 },
  };
  return {
    ctx,
    work,
    step: { saved, effects: [], changed: true, from: 'Starting' },
    event: { type: 'RUNNING', health: 'none', restartCount: 0 },
  } as ContainerRun;
}

describe('reportContainer right after acting', () => {
  it.each([
    [
      'acted, the host’s events followed: Ready, no early look (the die event would wake it)',
      true,
      true,
      undefined,
    ],
    ['acted, events not followed: Ready, looked at again in a second', true, false, 1_000],
    ['acted, not known whether events are followed: looked at again in a second', true, undefined, 1_000],
    ['nothing done: Ready, nothing early', false, false, undefined],
  ])('%s', (_name, acted, eventsFollowed, requeue) => {
    const outcome = reportContainer(state, runningRun({ acted, eventsFollowed }));
    expect(outcome.ready).toBe(true);
    expect(outcome.requeueAfterMs).toBe(requeue);
  });
});
