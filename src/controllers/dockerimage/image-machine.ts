import { assign, setup } from 'xstate';
import type { PullFailureReason, Reason } from '../../crds/reasons.js';
import { effectSlots, type MachineSpec } from '../../managed/machine-spec.js';
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
import { retryDelayMs, type PullPolicy } from './image-spec.js';

export const IMAGE_MACHINE_VERSION = 1;

/** Why a pull, re-resolution or access check failed (a condition reason). */
export type ImageFailureReason = PullFailureReason | typeof Reason.ImagePullCredentialsRejected;

export interface ImageMachineContext extends PushContext {
  /** The image reference this context is about; a changed spec.image starts over. */
  image: string;
  /** Failed pulls (or re-resolutions) in a row; the retry backoff grows with it. */
  failures: number;
  lastAttemptAt?: string;
  /** When the tag was last resolved against the registry (pull or check). */
  lastCheckedAt?: string;
  pulledAt?: string;
  /** The digest the tag last resolved to. */
  digest?: string;
  lastError?: { reason: ImageFailureReason; message: string };
  /**
   * The local image ID this owner's credentials were last proven for on the
   * host (pulled or verified with them). Kept in status so a restart does not
   * verify every Ready image again. Written by the kind, not the machine.
   */
  verifiedImageId?: string;
}

export const INITIAL_IMAGE_CONTEXT: ImageMachineContext = { image: '', failures: 0 };

/** What the machine asks the kind to do; its `assign`s (noteImage, settle, pulled…) stay inside it. */
export const IMAGE_EFFECTS = [
  'startPull',
  'resolve',
  'recordPulled',
  'recordPullFailed',
  'recordNotPresent',
  'startPush',
  'recordPushed',
  'recordPushFailed',
] as const;
export type ImageEffect = (typeof IMAGE_EFFECTS)[number];

export type ImageObserved = PushObserved & {
  type: 'OBSERVED';
  /** Epoch milliseconds of this observation. */
  now: number;
  image: string;
  policy: PullPolicy;
  /** The reference is present on the host. */
  present: boolean;
  /**
   * False when the present image came from the registry with someone else's
   * credentials and this owner's have not been accepted for it yet: it is
   * not used as it is, but checked (re-resolved) first. Default true.
   */
  verified?: boolean;
  /** A pull of the reference is in flight on the host. */
  pulling: boolean;
  /** The reference pins a digest: nothing to re-resolve. */
  pinned: boolean;
  refreshIntervalMs: number;
  paused: boolean;
};

export type ImageEvent =
  | ImageObserved
  | { type: 'PULL_SUCCEEDED'; now: number; digest?: string }
  | { type: 'PULL_FAILED'; now: number; reason: ImageFailureReason; message: string }
  | { type: 'RESOLVED'; now: number; digest: string; moved: boolean }
  | { type: 'RESOLVE_FAILED'; now: number; reason: ImageFailureReason; message: string }
  | PushEvent;

const iso = (ms: number) => new Date(ms).toISOString();
const MAX_ERROR_CHARS = 1024;

function refreshDue(context: ImageMachineContext, e: ImageObserved): boolean {
  if (!context.lastCheckedAt) return true;
  return e.now >= Date.parse(context.lastCheckedAt) + e.refreshIntervalMs;
}

function backingOff(context: ImageMachineContext, now: number): boolean {
  if (context.failures <= 0 || !context.lastAttemptAt) return false;
  return now < Date.parse(context.lastAttemptAt) + retryDelayMs(context.failures);
}

const observedBy = (event: ImageEvent): ImageObserved | undefined =>
  event.type === 'OBSERVED' ? event : undefined;

/** Present and usable by this owner as it is (no access check pending). */
const usable = (e: ImageObserved | undefined): e is ImageObserved =>
  e?.present === true && e.verified !== false;

/** Present, usable, and nothing to re-resolve (Never only looks): the pull side is done. */
function satisfied(context: ImageMachineContext, e: ImageObserved | undefined): e is ImageObserved {
  if (!usable(e)) return false;
  return e.policy !== 'Always' || e.pinned || !refreshDue(context, e);
}

/**
 * The decision from a fresh observation, the same from every state, in
 * priority order: paused; a pull in flight; Never and missing only says so;
 * a present image that needs nothing (Never only looks), once every
 * spec.push destination holds it (else pushed, or a failed push waited
 * out); waiting out the retry backoff; Always re-resolves a due tag, and a
 * present image not yet verified for this owner is re-resolved with its
 * credentials (an access check); otherwise pull. Self-transitions do not
 * re-enter, so entry events fire once.
 */
const observed = [
  { guard: 'paused' as const, target: 'Paused', actions: 'noteImage' as const },
  { guard: 'pulling' as const, target: 'Pulling', actions: 'noteImage' as const },
  { guard: 'neverMissing' as const, target: 'NotPresent', actions: 'noteImage' as const },
  { guard: 'pushing' as const, target: 'Pushing', actions: 'noteImage' as const },
  { guard: 'satisfiedAndPushed' as const, target: 'Ready', actions: ['noteImage', 'settle'] as const },
  { guard: 'pushBackingOff' as const, target: 'PushFailed', actions: 'noteImage' as const },
  { guard: 'satisfied' as const, target: 'Pushing', actions: ['noteImage', 'startPush'] as const },
  { guard: 'backingOff' as const, target: 'Failed', actions: 'noteImage' as const },
  { guard: 'present' as const, target: 'Checking', actions: ['noteImage', 'resolve'] as const },
  { target: 'Pulling', actions: ['noteImage', 'startPull'] as const },
];

/**
 * A DockerImage on one host. Phases: Pending, Pulling (in the background;
 * progress in status), Checking (transient: re-resolving a tag under
 * Always), Pushing (in the background, to spec.push), Ready, Failed and
 * PushFailed (retried with exponential backoff), NotPresent
 * (pullPolicy Never and the image is missing), Paused.
 */
export const imageMachine = setup({
  types: {} as { context: ImageMachineContext; events: ImageEvent },
  actions: {
    ...effectSlots(IMAGE_EFFECTS),
    noteImage: assign({ image: ({ context, event }) => observedBy(event)?.image ?? context.image }),
    settle: assign({ failures: 0, lastAttemptAt: undefined, lastError: undefined, ...PUSH_CLEARED }),
    pulled: assign(({ event, context }) =>
      event.type === 'PULL_SUCCEEDED'
        ? {
            failures: 0,
            lastAttemptAt: undefined,
            lastError: undefined,
            pulledAt: iso(event.now),
            lastCheckedAt: iso(event.now),
            digest: event.digest ?? context.digest,
          }
        : {},
    ),
    failed: assign(({ event, context }) => {
      if (event.type !== 'PULL_FAILED' && event.type !== 'RESOLVE_FAILED') return {};
      return {
        failures: context.failures + 1,
        lastAttemptAt: iso(event.now),
        lastError: { reason: event.reason, message: event.message.slice(0, MAX_ERROR_CHARS) },
      };
    }),
    checked: assign(({ event }) =>
      event.type === 'RESOLVED'
        ? {
            failures: 0,
            lastAttemptAt: undefined,
            lastError: undefined,
            lastCheckedAt: iso(event.now),
            digest: event.digest,
          }
        : {},
    ),
    pushed: assign(({ event }) => (event.type === 'PUSH_SUCCEEDED' ? pushSucceeded(event.now) : {})),
    pushFailed: assign(({ context, event }) =>
      event.type === 'PUSH_FAILED' ? pushFailed(context, event) : {},
    ),
    noteDigest: assign({
      digest: ({ event, context }) => (event.type === 'RESOLVED' ? event.digest : context.digest),
    }),
  },
  guards: {
    paused: ({ event }) => observedBy(event)?.paused === true,
    pulling: ({ event }) => observedBy(event)?.pulling === true,
    neverMissing: ({ event }) => {
      const e = observedBy(event);
      return e?.policy === 'Never' && !e.present;
    },
    satisfied: ({ context, event }) => satisfied(context, observedBy(event)),
    pushing: ({ event }) => observedBy(event)?.pushing === true,
    satisfiedAndPushed: ({ context, event }) => {
      const e = observedBy(event);
      return satisfied(context, e) && !e.pushPending;
    },
    pushBackingOff: ({ context, event }) => {
      const e = observedBy(event);
      return satisfied(context, e) && pushBackingOff(context, e.now);
    },
    backingOff: ({ context, event }) => {
      const e = observedBy(event);
      return e !== undefined && backingOff(context, e.now);
    },
    present: ({ event }) => observedBy(event)?.present === true,
    moved: ({ event }) => event.type === 'RESOLVED' && event.moved,
  },
}).createMachine({
  id: 'dockerimage',
  initial: 'Pending',
  context: { ...INITIAL_IMAGE_CONTEXT },
  // A background pull's outcome, whatever state the last observation left.
  on: {
    PULL_SUCCEEDED: { target: '.Ready', actions: ['pulled', 'recordPulled'] },
    PULL_FAILED: { target: '.Failed', actions: ['failed', 'recordPullFailed'] },
    PUSH_SUCCEEDED: { target: '.Ready', actions: ['pushed', 'recordPushed'] },
    PUSH_FAILED: { target: '.PushFailed', actions: ['pushFailed', 'recordPushFailed'] },
  },
  states: {
    Pending: { on: { OBSERVED: observed } },
    Pulling: { on: { OBSERVED: observed } },
    Checking: {
      on: {
        OBSERVED: observed,
        RESOLVED: [
          { guard: 'moved', target: 'Pulling', actions: ['noteDigest', 'startPull'] },
          { target: 'Ready', actions: 'checked' },
        ],
        RESOLVE_FAILED: { target: 'Failed', actions: ['failed', 'recordPullFailed'] },
      },
    },
    Ready: { on: { OBSERVED: observed } },
    Failed: { on: { OBSERVED: observed } },
    Pushing: { on: { OBSERVED: observed } },
    PushFailed: { on: { OBSERVED: observed } },
    NotPresent: { entry: 'recordNotPresent', on: { OBSERVED: observed } },
    Paused: { on: { OBSERVED: observed } },
  },
});

export const imageMachineSpec: MachineSpec<typeof imageMachine, ImageMachineContext, ImageEffect> = {
  machine: imageMachine,
  version: IMAGE_MACHINE_VERSION,
  initialContext: INITIAL_IMAGE_CONTEXT,
  effects: IMAGE_EFFECTS,
};

/** How long until this host needs looking at again, from the machine's state (undefined: the poll interval). */
export function requeueAfterMs(
  state: string,
  context: ImageMachineContext,
  now: number,
  refresh: { always: boolean; pinned: boolean; intervalMs: number },
  progressMs = 2_000,
): number | undefined {
  switch (state) {
    case 'Pulling':
    case 'Checking':
    case 'Pending':
      return progressMs;
    case 'Pushing':
      // A push's end triggers a reconcile; this is the safety net.
      return 10_000;
    case 'PushFailed':
      return pushRetryAfterMs(context, now);
    case 'Failed': {
      const at = context.lastAttemptAt ? Date.parse(context.lastAttemptAt) : now;
      return Math.max(1_000, at + retryDelayMs(context.failures) - now);
    }
    case 'Ready': {
      if (!refresh.always || refresh.pinned) return undefined;
      const at = context.lastCheckedAt ? Date.parse(context.lastCheckedAt) : now;
      return Math.max(1_000, at + refresh.intervalMs - now);
    }
    default:
      return undefined;
  }
}
