import { describe, expect, it } from 'vitest';
import { decide } from '../../managed/machine-spec.js';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  IMAGE_EFFECTS,
  IMAGE_MACHINE_VERSION,
  imageMachine,
  imageMachineSpec,
  requeueAfterMs,
  type ImageEvent,
  type ImageMachineContext,
  type ImageObserved,
} from './image-machine.js';

const REF = '127.0.0.1:5000/dockyard/busybox:1.36';
const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const ago = (ms: number) => new Date(T0 - ms).toISOString();

const at = (
  state: string,
  context: Partial<ImageMachineContext> = {},
): SavedMachineState<ImageMachineContext> => ({
  state,
  context: { image: REF, failures: 0, ...context },
  version: IMAGE_MACHINE_VERSION,
});
const seen = (o: Partial<ImageObserved> = {}): ImageEvent => ({
  type: 'OBSERVED',
  now: T0,
  image: REF,
  policy: 'IfNotPresent',
  present: false,
  pulling: false,
  pinned: false,
  refreshIntervalMs: 60_000,
  paused: false,
  ...o,
});
const always = (o: Partial<ImageObserved> = {}) => seen({ policy: 'Always', present: true, ...o });
const never = (o: Partial<ImageObserved> = {}) => seen({ policy: 'Never', ...o });
const pulled: ImageEvent = { type: 'PULL_SUCCEEDED', now: T0, digest: 'sha256:new' };
const pullFailed: ImageEvent = {
  type: 'PULL_FAILED',
  now: T0,
  reason: 'Unauthorized',
  message: 'pulling x: no basic auth credentials',
};
const backingOff = { failures: 2, lastAttemptAt: ago(5_000) }; // 2nd retry waits 10 s
const backoffOver = { failures: 2, lastAttemptAt: ago(11_000) };

// [name, saved state, event, next state, actions]
const table: Array<
  [string, SavedMachineState<ImageMachineContext> | undefined, ImageEvent, string, string[]]
> = [
  // IfNotPresent
  ['new, missing: pull in the background', undefined, seen(), 'Pulling', ['startPull']],
  ['new, already present: adopted without pulling', undefined, seen({ present: true }), 'Ready', []],
  ['pull still in flight', at('Pulling'), seen({ pulling: true }), 'Pulling', []],
  ['joins a pull another DockerImage started', undefined, seen({ pulling: true }), 'Pulling', []],
  ['pull succeeded', at('Pulling'), pulled, 'Ready', ['recordPulled']],
  ['then observed present', at('Ready'), seen({ present: true }), 'Ready', []],
  ['pull failed', at('Pulling'), pullFailed, 'Failed', ['recordPullFailed']],
  ['failed again after a retry', at('Pulling', { failures: 1 }), pullFailed, 'Failed', ['recordPullFailed']],
  ['backing off: no retry yet', at('Failed', backingOff), seen(), 'Failed', []],
  ['backoff over: retry', at('Failed', backoffOver), seen(), 'Pulling', ['startPull']],
  [
    'image appeared while backing off: Ready at once',
    at('Failed', backingOff),
    seen({ present: true }),
    'Ready',
    [],
  ],
  ['removed outside Dockyard: pulled again', at('Ready'), seen(), 'Pulling', ['startPull']],
  ['a pull result arrives in any state', at('Ready'), pullFailed, 'Failed', ['recordPullFailed']],
  ['a lost pull (restart mid-pull) is started again', at('Pulling'), seen(), 'Pulling', ['startPull']],
  ['a lost pull whose image arrived', at('Pulling'), seen({ present: true }), 'Ready', []],
  // Mirroring (spec.push): once the image is present and needs nothing
  [
    'present, a destination lacks it: push',
    at('Ready'),
    seen({ present: true, pushPending: true }),
    'Pushing',
    ['startPush'],
  ],
  ['push in flight', at('Pushing'), seen({ present: true, pushing: true }), 'Pushing', []],
  ['push succeeded', at('Pushing'), { type: 'PUSH_SUCCEEDED', now: T0 }, 'Ready', ['recordPushed']],
  [
    'push failed',
    at('Pushing'),
    { type: 'PUSH_FAILED', now: T0, reason: 'Unauthorized', message: 'pushing x: unauthorized' },
    'PushFailed',
    ['recordPushFailed'],
  ],
  [
    'push failed, within the backoff: no push, no pull',
    at('PushFailed', { pushFailures: 2, lastPushAttemptAt: ago(5_000) }),
    seen({ present: true, pushPending: true }),
    'PushFailed',
    [],
  ],
  [
    'push failed, backoff over: push again',
    at('PushFailed', { pushFailures: 2, lastPushAttemptAt: ago(11_000) }),
    seen({ present: true, pushPending: true }),
    'Pushing',
    ['startPush'],
  ],
  [
    'missing again while a push failed: pull first',
    at('PushFailed', { pushFailures: 1, lastPushAttemptAt: ago(1_000) }),
    seen({ pushPending: true }),
    'Pulling',
    ['startPull'],
  ],
  // Never
  ['Never, present', undefined, never({ present: true }), 'Ready', []],
  [
    'Never, present, a destination lacks it: mirrored all the same',
    undefined,
    never({ present: true, pushPending: true }),
    'Pushing',
    ['startPush'],
  ],
  ['Never, missing: not present, never pulled', undefined, never(), 'NotPresent', ['recordNotPresent']],
  ['Never, still missing: no repeated event', at('NotPresent'), never(), 'NotPresent', []],
  ['Never, loaded by hand', at('NotPresent'), never({ present: true }), 'Ready', []],
  ['Never, removed outside Dockyard', at('Ready'), never(), 'NotPresent', ['recordNotPresent']],
  [
    'policy changed to Never while failing',
    at('Failed', backingOff),
    never(),
    'NotPresent',
    ['recordNotPresent'],
  ],
  // Always
  ['Always, present, never checked: resolve the tag', undefined, always(), 'Checking', ['resolve']],
  ['Always, checked recently', at('Ready', { lastCheckedAt: ago(30_000) }), always(), 'Ready', []],
  ['Always, refresh due', at('Ready', { lastCheckedAt: ago(61_000) }), always(), 'Checking', ['resolve']],
  [
    'Always, missing: pull',
    at('Ready', { lastCheckedAt: ago(1_000) }),
    always({ present: false }),
    'Pulling',
    ['startPull'],
  ],
  ['Always, pinned digest: nothing to re-resolve', undefined, always({ pinned: true }), 'Ready', []],
  [
    'tag unchanged',
    at('Checking'),
    { type: 'RESOLVED', now: T0, digest: 'sha256:a', moved: false },
    'Ready',
    [],
  ],
  [
    'tag moved: pull',
    at('Checking'),
    { type: 'RESOLVED', now: T0, digest: 'sha256:b', moved: true },
    'Pulling',
    ['startPull'],
  ],
  [
    'resolve failed',
    at('Checking'),
    { type: 'RESOLVE_FAILED', now: T0, reason: 'RegistryUnreachable', message: 'connection refused' },
    'Failed',
    ['recordPullFailed'],
  ],
  [
    'Always, failed check, backing off',
    at('Failed', { ...backingOff, lastCheckedAt: ago(120_000) }),
    always(),
    'Failed',
    [],
  ],
  [
    'Always, failed check, backoff over: check again',
    at('Failed', { ...backoffOver, lastCheckedAt: ago(120_000) }),
    always(),
    'Checking',
    ['resolve'],
  ],
  ['a check left unfinished (crash) is redone', at('Checking'), always(), 'Checking', ['resolve']],
  // Present, but pulled with other credentials: checked with this owner's first (private images stay private)
  [
    'present, not verified for this owner: check with its credentials',
    undefined,
    seen({ present: true, verified: false }),
    'Checking',
    ['resolve'],
  ],
  [
    'was Ready, another image now under the tag',
    at('Ready'),
    seen({ present: true, verified: false }),
    'Checking',
    ['resolve'],
  ],
  [
    'Never, present, not verified: checked, not used',
    undefined,
    never({ present: true, verified: false }),
    'Checking',
    ['resolve'],
  ],
  [
    'Always, pinned, not verified: checked although nothing re-resolves',
    undefined,
    always({ pinned: true, verified: false }),
    'Checking',
    ['resolve'],
  ],
  [
    'credentials rejected',
    at('Checking'),
    { type: 'RESOLVE_FAILED', now: T0, reason: 'ImagePullCredentialsRejected', message: 'no' },
    'Failed',
    ['recordPullFailed'],
  ],
  [
    'rejected, backing off: neither used nor checked',
    at('Failed', backingOff),
    seen({ present: true, verified: false }),
    'Failed',
    [],
  ],
  [
    'rejected, backoff over: checked again',
    at('Failed', backoffOver),
    seen({ present: true, verified: false }),
    'Checking',
    ['resolve'],
  ],
  [
    'a pull in flight still shows Pulling',
    undefined,
    seen({ present: true, verified: false, pulling: true }),
    'Pulling',
    [],
  ],
  // Paused
  ['paused: nothing is pulled', undefined, seen({ paused: true }), 'Paused', []],
  ['paused wins over a pull in flight', at('Pulling'), seen({ paused: true, pulling: true }), 'Paused', []],
  ['a pull that finished while paused still counts', at('Paused'), pulled, 'Ready', ['recordPulled']],
  ['resumed, missing', at('Paused'), seen(), 'Pulling', ['startPull']],
  ['resumed, present', at('Paused'), seen({ present: true }), 'Ready', []],
  // Versions
  [
    'a state from another machine version starts over',
    { ...at('Ready'), version: 0 },
    seen(),
    'Pulling',
    ['startPull'],
  ],
];

describe('imageMachine', () => {
  it.each(table)('%s', (_name, saved, event, state, actions) => {
    const step = stepMachine(imageMachine, IMAGE_MACHINE_VERSION, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.actions).toEqual(actions);
  });

  // The flow decides through the spec: every action the machine asks for is one of its effects.
  it.each(table)('as a MachineSpec: %s', (_name, saved, event, state, actions) => {
    const step = decide(imageMachineSpec, saved, event);
    expect(step.saved.state).toBe(state);
    expect(step.effects).toEqual(actions);
    expect(step.from).toBe(saved?.state);
  });

  it('names its effects once, and resumes only its own version', () => {
    expect(new Set(IMAGE_EFFECTS).size).toBe(IMAGE_EFFECTS.length);
    expect(imageMachineSpec.version).toBe(IMAGE_MACHINE_VERSION);
  });

  const ctxAfter = (saved: SavedMachineState<ImageMachineContext> | undefined, event: ImageEvent) =>
    stepMachine(imageMachine, IMAGE_MACHINE_VERSION, saved, event).saved.context;

  it('counts failures and keeps the reason and when it happened', () => {
    const c = ctxAfter(at('Pulling', { failures: 2 }), pullFailed);
    expect(c).toMatchObject({
      failures: 3,
      lastAttemptAt: new Date(T0).toISOString(),
      lastError: { reason: 'Unauthorized', message: 'pulling x: no basic auth credentials' },
    });
  });

  it('keeps error messages short', () => {
    const c = ctxAfter(at('Pulling'), { ...pullFailed, message: 'x'.repeat(5_000) } as ImageEvent);
    expect(c.lastError?.message).toHaveLength(1024);
  });

  it('a successful pull resets failures and records when and which digest', () => {
    const c = ctxAfter(
      at('Pulling', { failures: 4, lastAttemptAt: ago(1), lastError: { reason: 'NotFound', message: 'x' } }),
      pulled,
    );
    expect(c).toEqual({
      image: REF,
      failures: 0,
      pulledAt: new Date(T0).toISOString(),
      lastCheckedAt: new Date(T0).toISOString(),
      digest: 'sha256:new',
    });
  });

  it('an unchanged tag counts as checked; a moved one does not until the pull succeeds', () => {
    const unchanged = ctxAfter(at('Checking', { lastCheckedAt: ago(90_000) }), {
      type: 'RESOLVED',
      now: T0,
      digest: 'sha256:a',
      moved: false,
    });
    expect(unchanged).toMatchObject({ lastCheckedAt: new Date(T0).toISOString(), digest: 'sha256:a' });
    const moved = ctxAfter(at('Checking', { lastCheckedAt: ago(90_000) }), {
      type: 'RESOLVED',
      now: T0,
      digest: 'sha256:b',
      moved: true,
    });
    expect(moved).toMatchObject({ lastCheckedAt: ago(90_000), digest: 'sha256:b' });
  });

  it('an image that turns up clears the failures', () => {
    expect(ctxAfter(at('Failed', backingOff), seen({ present: true })).failures).toBe(0);
  });

  it('remembers which image the context is about', () => {
    expect(ctxAfter(undefined, seen({ image: 'busybox:latest' })).image).toBe('busybox:latest');
  });
});

describe('requeueAfterMs', () => {
  const refresh = { always: true, pinned: false, intervalMs: 60_000 };
  const ifNotPresent = { ...refresh, always: false };
  const c = (o: Partial<ImageMachineContext> = {}): ImageMachineContext => ({
    image: REF,
    failures: 0,
    ...o,
  });
  it.each([
    ['pulling: look again for progress', 'Pulling', c(), refresh, 2_000],
    ['checking left over', 'Checking', c(), refresh, 2_000],
    [
      'failed: the rest of the backoff',
      'Failed',
      c({ failures: 3, lastAttemptAt: ago(5_000) }),
      refresh,
      15_000,
    ],
    ['failed: at least a second', 'Failed', c({ failures: 1, lastAttemptAt: ago(60_000) }), refresh, 1_000],
    ['failed: the backoff is capped', 'Failed', c({ failures: 30, lastAttemptAt: ago(0) }), refresh, 300_000],
    ['ready under Always: at the next refresh', 'Ready', c({ lastCheckedAt: ago(20_000) }), refresh, 40_000],
    ['ready under IfNotPresent: the poll interval', 'Ready', c(), ifNotPresent, undefined],
    ['ready with a pinned digest: the poll interval', 'Ready', c(), { ...refresh, pinned: true }, undefined],
    ['not present: the poll interval', 'NotPresent', c(), refresh, undefined],
  ] as const)('%s', (_name, state, context, r, expected) => {
    expect(requeueAfterMs(state, context, T0, r)).toBe(expected);
  });
});
