import { describe, expect, it } from 'vitest';
import { decide } from '../../managed/machine-spec.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import {
  BUILD_MACHINE_VERSION,
  buildMachineSpec,
  buildRequeueAfterMs,
  type BuildEvent,
  type BuildMachineContext,
  type BuildObserved,
} from './build-machine.js';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const ago = (ms: number) => new Date(T0 - ms).toISOString();

const at = (
  state: string,
  context: Partial<BuildMachineContext> = {},
): SavedMachineState<BuildMachineContext> => ({
  state,
  context: { failures: 0, ...context },
  version: BUILD_MACHINE_VERSION,
});
const seen = (o: Partial<BuildObserved> = {}): BuildEvent => ({
  type: 'OBSERVED',
  now: T0,
  hash: 'h1',
  tag: 'missing',
  current: false,
  building: false,
  pushPending: false,
  pushing: false,
  policyViolation: false,
  paused: false,
  ...o,
});
const built: BuildEvent = {
  type: 'BUILD_SUCCEEDED',
  now: T0,
  hash: 'h1',
  imageId: 'sha256:1',
  durationMs: 900,
};
const failed: BuildEvent = {
  type: 'BUILD_FAILED',
  now: T0,
  hash: 'h1',
  reason: 'BuildFailed',
  message: 'executor failed running [/bin/sh -c exit 3]: exit code: 3',
};
const pushFailed: BuildEvent = {
  type: 'PUSH_FAILED',
  now: T0,
  reason: 'Unauthorized',
  message: 'pushing reg.example/app:1: unauthorized: authentication required',
};
const pushFailedH1 = {
  failures: 0,
  hash: 'h1',
  builtAt: ago(60_000),
  pushFailures: 2,
  lastPushAttemptAt: ago(5_000),
};
const readyH1 = at('Ready', { hash: 'h1', builtAt: ago(60_000), imageId: 'sha256:1' });
const failedH1 = { hash: 'h1', failures: 2, lastAttemptAt: ago(5_000) }; // 2nd retry waits 10 s

// [name, saved state, event, next state, effects]
const table: Array<
  [string, SavedMachineState<BuildMachineContext> | undefined, BuildEvent, string, string[]]
> = [
  ['new: build in the background', undefined, seen(), 'Building', ['startBuild']],
  ['build in flight', at('Building', { hash: 'h1' }), seen({ building: true }), 'Building', []],
  ['build succeeded', at('Building', { hash: 'h1' }), built, 'Ready', ['recordBuilt']],
  ['build failed', at('Building', { hash: 'h1' }), failed, 'Failed', ['recordBuildFailed']],
  ['built image current', at('Building'), seen({ tag: 'ours', current: true }), 'Ready', []],
  [
    'ours, built from another hash: the spec changed, build',
    readyH1,
    seen({ hash: 'h2', tag: 'ours' }),
    'Building',
    ['startBuild'],
  ],
  [
    'image removed outside Dockyard: drift',
    readyH1,
    seen({ tag: 'missing' }),
    'Building',
    ['startBuild', 'recordDriftRepaired'],
  ],
  [
    'tag moved to an image nobody built here: conflict',
    readyH1,
    seen({ tag: 'foreign' }),
    'NameConflict',
    ['recordNameConflict'],
  ],
  [
    'tag names another owner’s build',
    undefined,
    seen({ tag: 'otherOwner' }),
    'NameConflict',
    ['recordNameConflict'],
  ],
  [
    'refused by the host policy',
    undefined,
    seen({ policyViolation: true, hash: undefined }),
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  [
    'policy refusal while conflicting: the policy first',
    undefined,
    seen({ policyViolation: true, tag: 'foreign' }),
    'PolicyViolation',
    ['recordPolicyViolation'],
  ],
  ['paused before anything else', undefined, seen({ paused: true, policyViolation: true }), 'Paused', []],
  ['failed, within the backoff', at('Failed', failedH1), seen(), 'Failed', []],
  [
    'failed, backoff over',
    at('Failed', { ...failedH1, lastAttemptAt: ago(11_000) }),
    seen(),
    'Building',
    ['startBuild'],
  ],
  [
    'failed, but the spec changed: no backoff',
    at('Failed', failedH1),
    seen({ hash: 'h2' }),
    'Building',
    ['startBuild'],
  ],
  [
    'built, a destination lacks it: push in the background',
    readyH1,
    seen({ tag: 'ours', current: true, pushPending: true }),
    'Pushing',
    ['startPush'],
  ],
  ['push in flight', at('Pushing'), seen({ tag: 'ours', current: true, pushing: true }), 'Pushing', []],
  ['push succeeded', at('Pushing'), { type: 'PUSH_SUCCEEDED', now: T0 }, 'Ready', ['recordPushed']],
  ['push failed', at('Pushing'), pushFailed, 'PushFailed', ['recordPushFailed']],
  [
    'push failed, within the backoff: no push, no rebuild',
    at('PushFailed', pushFailedH1),
    seen({ tag: 'ours', current: true, pushPending: true }),
    'PushFailed',
    [],
  ],
  [
    'push failed, backoff over',
    at('PushFailed', { ...pushFailedH1, lastPushAttemptAt: ago(11_000) }),
    seen({ tag: 'ours', current: true, pushPending: true }),
    'Pushing',
    ['startPush'],
  ],
  [
    'push failed, then the destination holds the image (pushed by hand): Ready',
    at('PushFailed', pushFailedH1),
    seen({ tag: 'ours', current: true }),
    'Ready',
    [],
  ],
  [
    'push failed, then the spec changed: build first',
    at('PushFailed', pushFailedH1),
    seen({ hash: 'h2', tag: 'ours', pushPending: true }),
    'Building',
    ['startBuild'],
  ],
  [
    'inputs missing',
    undefined,
    seen({
      hash: undefined,
      inputsFailure: { reason: 'ConfigMapNotFound', message: 'spec.context: ConfigMap src not found' },
    }),
    'Failed',
    ['recordBuildFailed'],
  ],
];

describe('buildMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, effects) => {
    const step = decide(buildMachineSpec, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.effects).toEqual(effects);
  });

  it('counts failures of one hash, and starts over for another', () => {
    const once = decide(buildMachineSpec, at('Building', { hash: 'h1' }), failed).saved;
    expect(once.context).toMatchObject({ hash: 'h1', failures: 1, lastError: { reason: 'BuildFailed' } });
    const twice = decide(buildMachineSpec, once, failed).saved;
    expect(twice.context.failures).toBe(2);
    const other = decide(buildMachineSpec, twice, { ...failed, hash: 'h2' }).saved;
    expect(other.context.failures).toBe(1);
  });

  it('records what a success built and clears the failure', () => {
    const step = decide(buildMachineSpec, at('Failed', failedH1), built);
    expect(step.saved.context).toMatchObject({
      hash: 'h1',
      failures: 0,
      imageId: 'sha256:1',
      durationMs: 900,
      builtAt: new Date(T0).toISOString(),
    });
    expect(step.saved.context.lastError).toBeUndefined();
  });

  it('counts push failures, and a new build or a settled push starts them over', () => {
    const once = decide(buildMachineSpec, at('Pushing', { hash: 'h1' }), pushFailed).saved;
    expect(once.context).toMatchObject({ pushFailures: 1, lastPushError: { reason: 'Unauthorized' } });
    expect(once.context.failures).toBe(0);
    const twice = decide(buildMachineSpec, once, pushFailed).saved;
    expect(twice.context.pushFailures).toBe(2);
    expect(decide(buildMachineSpec, twice, built).saved.context.pushFailures).toBe(0);
    const pushed = decide(buildMachineSpec, twice, { type: 'PUSH_SUCCEEDED', now: T0 }).saved;
    expect(pushed.context).toMatchObject({ pushFailures: 0, pushedAt: new Date(T0).toISOString() });
    expect(pushed.context.lastPushError).toBeUndefined();
  });

  it('a missing input counts as a failed attempt, so it is retried with backoff', () => {
    const failure = { reason: 'SecretNotFound' as const, message: 'spec.secrets npmrc: Secret ci not found' };
    const first = decide(buildMachineSpec, undefined, seen({ hash: undefined, inputsFailure: failure }));
    expect(first.saved.context).toMatchObject({ failures: 1, lastError: failure });
    const soon = decide(buildMachineSpec, first.saved, seen({ hash: undefined, inputsFailure: failure }));
    expect(soon.effects).toEqual([]);
  });
});

describe('buildRequeueAfterMs', () => {
  it('looks again while building, at the end of the backoff, and for a ConfigMap context while Ready', () => {
    expect(buildRequeueAfterMs('Building', { failures: 0 }, T0, { watchContext: false })).toBe(10_000);
    expect(buildRequeueAfterMs('Failed', failedH1, T0, { watchContext: false })).toBe(5_000);
    expect(buildRequeueAfterMs('PushFailed', pushFailedH1, T0, { watchContext: false })).toBe(5_000);
    expect(buildRequeueAfterMs('Pushing', { failures: 0 }, T0, { watchContext: false })).toBe(10_000);
    expect(buildRequeueAfterMs('Ready', { failures: 0 }, T0, { watchContext: true })).toBe(30_000);
    expect(buildRequeueAfterMs('Ready', { failures: 0 }, T0, { watchContext: false })).toBeUndefined();
    expect(
      buildRequeueAfterMs('PolicyViolation', { failures: 0 }, T0, { watchContext: true }),
    ).toBeUndefined();
  });
});
