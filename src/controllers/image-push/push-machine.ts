// The push part of a machine whose image may be pushed (DockerBuild,
// DockerImage): its context fields, the pure updates and guard the machines
// share, and the status wording. Each machine keeps its own xstate wiring.
import type { PushFailureReason } from '../../docker/push-client.js';
import { retryDelayMs } from '../dockerimage/image-spec.js';

const MAX_ERROR_CHARS = 1024;

/** Saved with the machine: failed pushes of the current image, and the last push. */
export interface PushContext {
  /** Failed pushes of the current image in a row (a new image starts over). */
  pushFailures?: number;
  lastPushAttemptAt?: string;
  lastPushError?: { reason: PushFailureReason; message: string };
  /** When the current image was last pushed. */
  pushedAt?: string;
}

/** What an observation says about pushes (looked at only once the image is current). */
export interface PushObserved {
  /** A spec.push destination does not hold the current image, or lacks its signature. Default false. */
  pushPending?: boolean;
  /** A push of the current image is running. Default false. */
  pushing?: boolean;
}

/** How a background push ended, as a machine event. */
export type PushEvent =
  | { type: 'PUSH_SUCCEEDED'; now: number }
  | { type: 'PUSH_FAILED'; now: number; reason: PushFailureReason; message: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** No push failure on record (settled, or a new image). */
export const PUSH_CLEARED = {
  pushFailures: 0,
  lastPushAttemptAt: undefined,
  lastPushError: undefined,
} satisfies PushContext;

export function pushSucceeded(now: number): PushContext {
  return { ...PUSH_CLEARED, pushedAt: iso(now) };
}

export function pushFailed(
  context: PushContext,
  event: Extract<PushEvent, { type: 'PUSH_FAILED' }>,
): PushContext {
  return {
    pushFailures: (context.pushFailures ?? 0) + 1,
    lastPushAttemptAt: iso(event.now),
    lastPushError: { reason: event.reason, message: event.message.slice(0, MAX_ERROR_CHARS) },
  };
}

/** Waiting out the backoff after a failed push. */
export function pushBackingOff(context: PushContext, now: number): boolean {
  const failures = context.pushFailures ?? 0;
  if (failures <= 0 || !context.lastPushAttemptAt) return false;
  return now < Date.parse(context.lastPushAttemptAt) + retryDelayMs(failures);
}

/** The next look after a failed push: when its backoff ends. */
export function pushRetryAfterMs(context: PushContext, now: number): number {
  const at = context.lastPushAttemptAt ? Date.parse(context.lastPushAttemptAt) : now;
  return Math.max(1_000, at + retryDelayMs(context.pushFailures ?? 0) - now);
}

export const pushMessages = {
  pushed: (opts: {
    host: string;
    pushed: ReadonlyArray<{ image: string; digest: string }>;
    signed: boolean;
  }) =>
    `${opts.signed ? 'pushed and signed' : 'pushed'} the image on ${opts.host}: ` +
    opts.pushed.map((p) => `${p.image} (${p.digest})`).join(', '),
  pushing: (image: string, host: string, destinations: readonly string[]) =>
    `pushing ${image} from ${host} to ${destinations.join(', ')}`,
  failed: (context: PushContext, now: number) => {
    const next = new Date(now + pushRetryAfterMs(context, now)).toISOString();
    return `${context.lastPushError?.message ?? 'push failed'}; attempt ${context.pushFailures ?? 0}, next at ${next}`;
  },
};
