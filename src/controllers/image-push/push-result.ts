import type { PushFailureReason } from '../../docker/push-client.js';
import type { PushEvent } from './push-machine.js';

/** How a background push of the built image ended; `pushed` holds the destinations done before any failure. */
export type PushResult =
  | { ok: true; hash: string; pushed: PushedImage[]; finishedAt: number }
  | {
      ok: false;
      hash: string;
      pushed: PushedImage[];
      reason: PushFailureReason;
      message: string;
      finishedAt: number;
    };

export interface PushedImage {
  image: string;
  digest: string;
}

/** A finished push, as the event a machine decides on before the observation. */
export function pushEnded(result: PushResult): PushEvent {
  if (result.ok) return { type: 'PUSH_SUCCEEDED', now: result.finishedAt };
  return { type: 'PUSH_FAILED', now: result.finishedAt, reason: result.reason, message: result.message };
}
