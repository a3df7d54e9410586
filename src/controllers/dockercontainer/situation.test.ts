import { describe, expect, it } from 'vitest';
import { classify, type ContainerFacts } from './situation.js';

const base: ContainerFacts = {
  paused: false,
  policyViolation: false,
  configMissing: false,
  missingDependencies: [],
  imagePresent: true,
  desired: 'Running',
  updateNeeded: false,
  networksDiffer: false,
  restartPolicy: 'unless-stopped',
  previousRestartCount: 0,
  inCrashLoop: false,
};
const up = {
  ownership: 'ours' as const,
  upToDate: true,
  running: true,
  restarting: false,
  exitCode: 0,
  oomKilled: false,
  restartCount: 0,
  startedSecondsAgo: 60,
};
const exited = (exitCode: number) => ({ ...up, running: false, exitCode });
const oom = (exitCode: number) => ({ ...exited(exitCode), oomKilled: true });
const { startedSecondsAgo: _never, ...neverRan } = { ...exited(0), neverStarted: true };

describe('classify', () => {
  it.each([
    ['paused beats everything', { ...base, paused: true, policyViolation: true }, 'PAUSED'],
    ['policy violation', { ...base, policyViolation: true }, 'POLICY_VIOLATION'],
    [
      'foreign container with our name',
      { ...base, container: { ...up, ownership: 'foreign' as const } },
      'CONFLICT',
    ],
    ['missing Secret', { ...base, configMissing: true }, 'CONFIG_MISSING'],
    [
      'being removed out of band (docker rm -f in progress): wait, do not start it',
      { ...base, container: { ...exited(137), removing: true } },
      'REMOVING',
    ],
    [
      'network not ready',
      { ...base, missingDependencies: ['DockerNetwork/backend'] },
      'DEPENDENCIES_MISSING',
    ],
    ['no container, no image', { ...base, imagePresent: false }, 'IMAGE_MISSING'],
    ['no container', base, 'MISSING'],
    ['outdated container', { ...base, container: { ...up, upToDate: false } }, 'OUTDATED'],
    [
      'image gone but container up to date: not a pull',
      { ...base, imagePresent: false, container: up },
      'RUNNING',
    ],
    ['in-place update', { ...base, container: up, updateNeeded: true }, 'NEEDS_UPDATE'],
    ['networks differ', { ...base, container: up, networksDiffer: true }, 'NETWORKS_DIFFER'],
    ['should stop', { ...base, desired: 'Stopped' as const, container: up }, 'SHOULD_STOP'],
    ['stopped as wanted', { ...base, desired: 'Stopped' as const, container: exited(0) }, 'STOPPED'],
    [
      'restarting',
      { ...base, container: { ...up, running: false, restarting: true, restartCount: 2 } },
      'CRASH_LOOPING',
    ],
    [
      'just came back from a crash',
      { ...base, previousRestartCount: 1, container: { ...up, restartCount: 2, startedSecondsAgo: 1 } },
      'CRASH_LOOPING',
    ],
    [
      'up for a while after old restarts',
      { ...base, previousRestartCount: 1, container: { ...up, restartCount: 2, startedSecondsAgo: 30 } },
      'RUNNING',
    ],
    ['running', { ...base, container: up }, 'RUNNING'],
    ['docker stop under unless-stopped', { ...base, container: exited(143) }, 'NOT_RUNNING'],
    ['exited 1 under unless-stopped after manual stop', { ...base, container: exited(1) }, 'NOT_RUNNING'],
    [
      'exited 1 under restart policy no',
      { ...base, restartPolicy: 'no' as const, container: exited(1) },
      'FAILED',
    ],
    [
      'finished (exit 0) under on-failure: a run to completion',
      { ...base, restartPolicy: 'on-failure' as const, container: exited(0) },
      'COMPLETED',
    ],
    [
      'finished (exit 0) under restart policy no: a run to completion, not a failure',
      { ...base, restartPolicy: 'no' as const, container: exited(0) },
      'COMPLETED',
    ],
    [
      'exit 0 under unless-stopped: someone stopped it, started again',
      { ...base, container: exited(0) },
      'NOT_RUNNING',
    ],
    [
      'completed, a new dockyard.io/rerun value: run again',
      { ...base, restartPolicy: 'no' as const, rerunRequested: true, container: exited(0) },
      'RERUN',
    ],
    [
      'failed, a new dockyard.io/rerun value: run again',
      { ...base, restartPolicy: 'no' as const, rerunRequested: true, container: exited(3) },
      'RERUN',
    ],
    [
      'running, a new dockyard.io/rerun value: this run counts, nothing to do',
      { ...base, restartPolicy: 'no' as const, rerunRequested: true, container: up },
      'RUNNING',
    ],
    [
      'completed but outdated: recreated (a spec change runs it again)',
      { ...base, restartPolicy: 'no' as const, container: { ...exited(0), upToDate: false } },
      'OUTDATED',
    ],
    [
      'completed, Stopped wanted: stays stopped',
      { ...base, restartPolicy: 'no' as const, desired: 'Stopped' as const, container: exited(0) },
      'STOPPED',
    ],
    [
      'killed under policy no: someone stopped it',
      { ...base, restartPolicy: 'no' as const, container: exited(137) },
      'NOT_RUNNING',
    ],
    // Item 13: container states read as kubelet reads them.
    [
      'created, never started, under policy no: started',
      { ...base, restartPolicy: 'no' as const, container: { ...neverRan, exitCode: 0 } },
      'NOT_RUNNING',
    ],
    [
      'created, never started, under on-failure: started',
      { ...base, restartPolicy: 'on-failure' as const, container: neverRan },
      'NOT_RUNNING',
    ],
    [
      'created, never started, but Stopped wanted: left alone',
      { ...base, desired: 'Stopped' as const, container: neverRan },
      'STOPPED',
    ],
    [
      'stopped by Dockyard, exited 0 on SIGTERM, Running wanted again under policy no: started',
      { ...base, restartPolicy: 'no' as const, stoppedByDockyard: true, container: exited(0) },
      'NOT_RUNNING',
    ],
    [
      'stopped by Dockyard, exited 0, Running wanted again under on-failure: started',
      { ...base, restartPolicy: 'on-failure' as const, stoppedByDockyard: true, container: exited(0) },
      'NOT_RUNNING',
    ],
    [
      'OOM-killed (137) under policy no: a failure, not a manual stop',
      { ...base, restartPolicy: 'no' as const, container: oom(137) },
      'FAILED',
    ],
    [
      'OOM-killed with exit 0 under policy no: a failure',
      { ...base, restartPolicy: 'no' as const, container: oom(0) },
      'FAILED',
    ],
    [
      'OOM-killed (137) under on-failure:3 after Docker retried 3 times: failed',
      {
        ...base,
        restartPolicy: 'on-failure' as const,
        maximumRetryCount: 3,
        container: { ...oom(137), restartCount: 3 },
      },
      'FAILED',
    ],
    [
      'OOM-killed with exit 0 under on-failure:3, nothing retried yet: retried',
      { ...base, restartPolicy: 'on-failure' as const, maximumRetryCount: 3, container: oom(0) },
      'OOM_RETRY',
    ],
    [
      'OOM-killed with exit 0 under on-failure:3, Dockyard retried twice and Docker once: failed',
      {
        ...base,
        restartPolicy: 'on-failure' as const,
        maximumRetryCount: 3,
        retriesByDockyard: 2,
        container: { ...oom(0), restartCount: 1 },
      },
      'FAILED',
    ],
    [
      'OOM-killed under on-failure without a limit: retried',
      { ...base, restartPolicy: 'on-failure' as const, retriesByDockyard: 40, container: oom(0) },
      'OOM_RETRY',
    ],
    [
      'OOM-killed under unless-stopped and still exited: started',
      { ...base, container: oom(137) },
      'NOT_RUNNING',
    ],
  ])('%s → %s', (_name, facts, type) => {
    expect(classify(facts).type).toBe(type);
  });
  it('says when a failure was an OOM kill', () => {
    expect(classify({ ...base, restartPolicy: 'no', container: oom(137) })).toEqual({
      type: 'FAILED',
      exitCode: 137,
      oomKilled: true,
    });
  });
  it('carries whether to start a new container', () => {
    expect(classify({ ...base, desired: 'Stopped' })).toEqual({ type: 'MISSING', start: false });
  });
});
