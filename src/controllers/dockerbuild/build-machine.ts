import { assign, setup } from 'xstate';
import type { Reason } from '../../crds/reasons.js';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';
import type { BuildFailureReason } from '../../docker/build-client.js';
import {
  PUSH_CLEARED,
  pushBackingOff,
  pushFailed,
  pushRetryAfterMs,
  pushSucceeded,
  type PushContext,
  type PushEvent,
  type PushObserved,
} from '../image-push/push-machine.js';
import { retryDelayMs } from '../dockerimage/image-spec.js';
import type { BuildInputFailure } from './build-inputs.js';

// Version 1 saved states and contexts are valid for the push states and fields, which are additions.
export const BUILD_MACHINE_VERSION = 1;

/** Why a build did not happen or failed (a condition reason). */
export type BuildMachineFailure = BuildFailureReason | BuildInputFailure;

export interface BuildMachineContext extends PushContext {
  /** The build hash last built, or being built, or failed. */
  hash?: string;
  /** Failed attempts at `hash` in a row; the retry backoff grows with it. */
  failures: number;
  lastAttemptAt?: string;
  lastError?: { reason: BuildMachineFailure; message: string };
  builtAt?: string;
  imageId?: string;
  durationMs?: number;
}

export const INITIAL_BUILD_CONTEXT: BuildMachineContext = { failures: 0 };

/** What the machine asks the kind to do. */
export const BUILD_EFFECTS = [
  'startBuild',
  'recordBuilt',
  'recordBuildFailed',
  'recordDriftRepaired',
  'recordPolicyViolation',
  'recordNameConflict',
  'startPush',
  'recordPushed',
  'recordPushFailed',
] as const;
export type BuildEffect = (typeof BUILD_EFFECTS)[number];

/** Whose image the tag names on the host. */
export type TagOwner = 'missing' | 'ours' | 'foreign' | 'otherOwner';

export type BuildObserved = PushObserved & {
  type: 'OBSERVED';
  /** Epoch milliseconds of this observation. */
  now: number;
  /** The hash of what the spec and context ask for; undefined when the inputs could not be read. */
  hash: string | undefined;
  tag: TagOwner;
  /** The tag names our image built from `hash`. */
  current: boolean;
  /** A build of `hash` is running on the host. */
  building: boolean;
  inputsFailure?: { reason: BuildInputFailure | typeof Reason.InvalidBuildContext; message: string };
  policyViolation: boolean;
  paused: boolean;
};

export type BuildEvent =
  | BuildObserved
  | { type: 'BUILD_SUCCEEDED'; now: number; hash: string; imageId: string; durationMs: number }
  | { type: 'BUILD_FAILED'; now: number; hash: string; reason: BuildMachineFailure; message: string }
  | PushEvent;

const iso = (ms: number) => new Date(ms).toISOString();
const MAX_ERROR_CHARS = 1024;

const observedBy = (event: BuildEvent): BuildObserved | undefined =>
  event.type === 'OBSERVED' ? event : undefined;

/**
 * The decision from a fresh observation, the same from every state, in
 * priority order: paused; refused by the host's policy; the tag held by an
 * image not built for this owner; a build in flight; the image current and
 * every push destination holding it, else pushing it (or waiting out a
 * failed push's backoff); waiting out the backoff after a failure of the
 * same hash; inputs that cannot be read; otherwise build (a Ready host
 * rebuilding the same hash lost its image outside Dockyard: drift).
 */
const observed = [
  { guard: 'paused' as const, target: 'Paused' },
  { guard: 'policyViolation' as const, target: 'PolicyViolation' },
  { guard: 'nameConflict' as const, target: 'NameConflict' },
  { guard: 'building' as const, target: 'Building' },
  { guard: 'pushing' as const, target: 'Pushing' },
  { guard: 'currentAndPushed' as const, target: 'Ready', actions: 'settle' as const },
  { guard: 'pushBackingOff' as const, target: 'PushFailed' },
  { guard: 'current' as const, target: 'Pushing', actions: 'startPush' as const },
  { guard: 'backingOff' as const, target: 'Failed' },
  {
    guard: 'inputsFailed' as const,
    target: 'Failed',
    actions: ['inputsFailed', 'recordBuildFailed'] as const,
  },
  {
    guard: 'drifted' as const,
    target: 'Building',
    actions: ['startAttempt', 'startBuild', 'recordDriftRepaired'] as const,
  },
  { target: 'Building', actions: ['startAttempt', 'startBuild'] as const },
];

/**
 * A DockerBuild on one host. Phases: Pending, Building (in the background),
 * Pushing (in the background, once built, to spec.push), Ready, Failed and
 * PushFailed (each retried with exponential backoff), PolicyViolation and
 * NameConflict (stalled until the spec or host changes), Paused.
 */
export const buildMachine = setup({
  types: {} as { context: BuildMachineContext; events: BuildEvent },
  actions: {
    ...effectSlots(BUILD_EFFECTS),
    settle: assign({ failures: 0, lastAttemptAt: undefined, lastError: undefined, ...PUSH_CLEARED }),
    // A new hash starts its failure count over.
    startAttempt: assign(({ context, event }) => {
      const e = observedBy(event);
      return e?.hash === context.hash ? {} : { hash: e?.hash, failures: 0, lastError: undefined };
    }),
    inputsFailed: assign(({ context, event }) => {
      const e = observedBy(event);
      if (!e?.inputsFailure) return {};
      return {
        failures: context.failures + 1,
        lastAttemptAt: iso(e.now),
        lastError: { ...e.inputsFailure, message: e.inputsFailure.message.slice(0, MAX_ERROR_CHARS) },
      };
    }),
    built: assign(({ event }) =>
      event.type === 'BUILD_SUCCEEDED'
        ? {
            hash: event.hash,
            failures: 0,
            lastAttemptAt: undefined,
            lastError: undefined,
            builtAt: iso(event.now),
            imageId: event.imageId,
            durationMs: event.durationMs,
            ...PUSH_CLEARED,
            pushedAt: undefined,
          }
        : {},
    ),
    failed: assign(({ context, event }) => {
      if (event.type !== 'BUILD_FAILED') return {};
      const sameHash = event.hash === context.hash;
      return {
        hash: event.hash,
        failures: (sameHash ? context.failures : 0) + 1,
        lastAttemptAt: iso(event.now),
        lastError: { reason: event.reason, message: event.message.slice(0, MAX_ERROR_CHARS) },
      };
    }),
    pushed: assign(({ event }) => (event.type === 'PUSH_SUCCEEDED' ? pushSucceeded(event.now) : {})),
    pushFailed: assign(({ context, event }) =>
      event.type === 'PUSH_FAILED' ? pushFailed(context, event) : {},
    ),
  },
  guards: {
    paused: ({ event }) => observedBy(event)?.paused === true,
    policyViolation: ({ event }) => observedBy(event)?.policyViolation === true,
    nameConflict: ({ event }) => {
      const tag = observedBy(event)?.tag;
      return tag === 'foreign' || tag === 'otherOwner';
    },
    building: ({ event }) => observedBy(event)?.building === true,
    current: ({ event }) => observedBy(event)?.current === true,
    pushing: ({ event }) => observedBy(event)?.pushing === true,
    currentAndPushed: ({ event }) => {
      const e = observedBy(event);
      return e?.current === true && !e.pushPending;
    },
    pushBackingOff: ({ context, event }) => {
      const e = observedBy(event);
      return e?.current === true && pushBackingOff(context, e.now);
    },
    backingOff: ({ context, event }) => {
      const e = observedBy(event);
      if (!e || context.failures <= 0 || !context.lastAttemptAt) return false;
      if (e.hash !== undefined && e.hash !== context.hash) return false;
      return e.now < Date.parse(context.lastAttemptAt) + retryDelayMs(context.failures);
    },
    inputsFailed: ({ event }) => observedBy(event)?.inputsFailure !== undefined,
    drifted: ({ context, event }) => {
      const e = observedBy(event);
      return e !== undefined && context.builtAt !== undefined && e.hash === context.hash && e.tag !== 'ours';
    },
  },
}).createMachine({
  id: 'dockerbuild',
  initial: 'Pending',
  context: { ...INITIAL_BUILD_CONTEXT },
  // A background build's outcome, whatever state the last observation left.
  on: {
    BUILD_SUCCEEDED: { target: '.Ready', actions: ['built', 'recordBuilt'] },
    BUILD_FAILED: { target: '.Failed', actions: ['failed', 'recordBuildFailed'] },
    PUSH_SUCCEEDED: { target: '.Ready', actions: ['pushed', 'recordPushed'] },
    PUSH_FAILED: { target: '.PushFailed', actions: ['pushFailed', 'recordPushFailed'] },
  },
  states: {
    Pending: { on: { OBSERVED: observed } },
    Building: { on: { OBSERVED: observed } },
    Ready: { on: { OBSERVED: observed } },
    Failed: { on: { OBSERVED: observed } },
    Pushing: { on: { OBSERVED: observed } },
    PushFailed: { on: { OBSERVED: observed } },
    PolicyViolation: { entry: 'recordPolicyViolation', on: { OBSERVED: observed } },
    NameConflict: { entry: 'recordNameConflict', on: { OBSERVED: observed } },
    Paused: { on: { OBSERVED: observed } },
  },
});

export const buildMachineSpec: MachineSpec<typeof buildMachine, BuildMachineContext, BuildEffect> = {
  machine: buildMachine,
  version: BUILD_MACHINE_VERSION,
  initialContext: INITIAL_BUILD_CONTEXT,
  effects: BUILD_EFFECTS,
};

/** How long until this host needs looking at again (undefined: only on events and resyncs). */
export function buildRequeueAfterMs(
  state: string,
  context: BuildMachineContext,
  now: number,
  opts: { watchContext: boolean },
): number | undefined {
  switch (state) {
    case 'Pending':
    case 'Building':
    case 'Pushing':
      // A build's or push's end triggers a reconcile; this is the safety net.
      return 10_000;
    case 'Failed': {
      const at = context.lastAttemptAt ? Date.parse(context.lastAttemptAt) : now;
      return Math.max(1_000, at + retryDelayMs(context.failures) - now);
    }
    case 'PushFailed':
      return pushRetryAfterMs(context, now);
    case 'Ready':
      // Nothing watches ConfigMaps for builds: an edited context is found by looking again.
      return opts.watchContext ? 30_000 : undefined;
    default:
      return undefined;
  }
}
