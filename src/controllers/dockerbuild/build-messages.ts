// The DockerBuild kind's Event and status wording, in one place. Messages
// name objects, fields and keys, never a value read from a Secret.
import { retryDelayMs } from '../dockerimage/image-spec.js';
import type { BuildResult } from './build-jobs.js';
import type { BuildMachineContext } from './build-machine.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export const buildMessages = {
  building: (tag: string, host: string) => `building ${tag} on ${host}`,
  buildingFor: (tag: string, host: string, ms: number) => `building ${tag} on ${host} for ${seconds(ms)}`,
  built: (opts: { tag: string; host: string; result: BuildResult | undefined }) => {
    const r = opts.result?.ok ? opts.result : undefined;
    return `built ${opts.tag} on ${opts.host}${r ? ` in ${seconds(r.durationMs)} (${r.imageId})` : ''}`;
  },
  failedEvent: (host: string, failure: { reason: string; message: string }) =>
    `on ${host}: ${failure.reason}: ${failure.message}`,
  failed: (opts: { tag: string; context: BuildMachineContext; now: number }) => {
    const c = opts.context;
    const at = c.lastAttemptAt ? Date.parse(c.lastAttemptAt) : opts.now;
    const next = new Date(at + retryDelayMs(c.failures)).toISOString();
    return `${c.lastError?.message ?? `building ${opts.tag} failed`}; attempt ${c.failures}, next at ${next}`;
  },
  drift: (tag: string, host: string) =>
    `image ${tag} was removed or retagged on ${host} outside Dockyard; building it again`,
  nameConflict: (tag: string, host: string) =>
    `${tag} on ${host} names an image this DockerBuild did not build; Dockyard never moves that tag. ` +
    `Remove or retag it (docker rmi ${tag}), or set spec.image to another tag`,
  paused: 'paused (dockyard.io/paused): observing only',
  inUse: (tag: string, host: string, who: string) =>
    `${tag} is in use by ${who} on ${host}: not removed (an image is never forced out); ` +
    'remove the container(s), or set deletionPolicy Orphan',
};
