// The DockerImage kind's Event and status wording, in one place. Messages
// name only the owner's own Secrets and objects: another namespace's are
// counted, never named.
import { formatBytes, retryDelayMs } from './image-spec.js';
import type { ImageMachineContext } from './image-machine.js';
import type { PullCredentials } from './pull-credentials.js';
import type { PullResult } from './pull-jobs.js';

/** Whose credentials a message is about: only the owner's own Secret is named. */
export function whose(creds: PullCredentials): string {
  return creds.source ? `the credentials of pull secret ${creds.source}` : 'anonymous access';
}

/** A message with the owner's notes about its pull Secrets (missing, malformed…). */
export function withNotes(message: string, notes: readonly string[]): string {
  return notes.length > 0 ? `${message} (${notes.join('; ')})` : message;
}

export const imageMessages = {
  rejected: (opts: { ref: string; creds: PullCredentials; detail: string }) =>
    withNotes(
      `the registry did not accept ${whose(opts.creds)} for ${opts.ref}: ${opts.detail}`,
      opts.creds.notes,
    ),
  movedUnderNever: (opts: { ref: string; digest: string; creds: PullCredentials }) =>
    withNotes(
      `the registry resolves ${opts.ref} to ${opts.digest} for ${whose(opts.creds)}, not to the image on the host, ` +
        'and pullPolicy Never does not pull',
      opts.creds.notes,
    ),
  pulled: (opts: { ref: string; host: string; result: PullResult | undefined }) => {
    const r = opts.result?.ok ? opts.result : undefined;
    const took = r ? ` in ${(r.durationMs / 1000).toFixed(1)}s` : '';
    const what = r ? ` (${r.digest ?? 'digest not reported'}, ${formatBytes(r.bytes)} downloaded)` : '';
    return `pulled ${opts.ref} on ${opts.host}${took}${what}`;
  },
  pullFailed: (host: string, failure: { reason: string; message: string }) =>
    `on ${host}: ${failure.reason}: ${failure.message}`,
  notPresentEvent: (ref: string, host: string) => `${ref} is not present on ${host} and pullPolicy is Never`,
  notPresent: (ref: string, host: string) =>
    `${ref} is not present on ${host}, and pullPolicy Never only checks for it: ` +
    'load or pull it onto the host, or change spec.pullPolicy',
  failed: (opts: { ref: string; context: ImageMachineContext; now: number }) => {
    const c = opts.context;
    const at = c.lastAttemptAt ? Date.parse(c.lastAttemptAt) : opts.now;
    const next = new Date(at + retryDelayMs(c.failures)).toISOString();
    return `${c.lastError?.message ?? `pulling ${opts.ref} failed`}; attempt ${c.failures}, next at ${next}`;
  },
  paused: 'paused (dockyard.io/paused): observing only',
  waitingForPull: (ref: string, host: string) =>
    `waiting for the pull of ${ref} in progress on ${host} to stop`,
  kept: (ref: string, host: string, who: string) => `${ref} kept on ${host}: ${who} still wants it`,
  inUse: (ref: string, host: string, who: string) =>
    `${ref} is in use by ${who} on ${host}: not removed (an image is never forced out); ` +
    'remove the container(s), or set deletionPolicy Orphan',
};
