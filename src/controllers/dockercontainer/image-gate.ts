import type Dockerode from 'dockerode';
import type { Reason } from '../../crds/reasons.js';
import type { ObservedImage } from '../../docker/image-client.js';
import { machineEntry } from '../../managed/machine-state.js';
import type { HostOutcome, HostStatusEntry } from '../../managed/types.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { containerImageAccess, type ImageAccessRecords } from '../dockerimage/image-access.js';
import type { ContainerSituation } from './situation.js';

/** What to do about the image before creating a container from it. */
export type ImageGate =
  | { action: 'go' }
  /** The image's tag names other content in the registry now: pull it like a missing image. */
  | { action: 'pull' }
  | { action: 'refuse'; reason: Reason; message: string };

/** Situations in which the container is about to be created from its image. */
const CREATING = new Set<ContainerSituation['type']>(['MISSING', 'OUTDATED']);

/**
 * Private images stay private: before a container naming `spec.image` is
 * created from an image already on the host, the image must be public (or
 * not from a registry at all), since such a container presents no
 * credentials; an image pulled there with another owner's credentials is
 * refused. A container with `spec.imageRef` runs what its own DockerImage
 * (same namespace, its own pull secrets) was pulled or verified with, so
 * there is nothing to check here. Asks the registry only when a create is
 * due and the image is not yet known to be public on the host.
 */
export async function gateImage(opts: {
  situation: ContainerSituation;
  viaImageRef: boolean;
  image: string | undefined;
  api: Dockerode;
  host: string;
  records: ImageAccessRecords;
  /** The image on the host, as this reconcile looked at it already (absent: inspected here). */
  lookLocal?: () => Promise<ObservedImage | undefined>;
}): Promise<ImageGate> {
  if (opts.viaImageRef || !opts.image || !CREATING.has(opts.situation.type)) return { action: 'go' };
  const access = await containerImageAccess({
    api: opts.api,
    host: opts.host,
    ref: opts.image,
    records: opts.records,
    ...(opts.lookLocal ? { lookLocal: opts.lookLocal } : {}),
  });
  if ('refused' in access) return { action: 'refuse', ...access.refused };
  return access.present ? { action: 'go' } : { action: 'pull' };
}

/**
 * The host's outcome when the image is refused: nothing is created (a
 * container already running an older spec stays as it is), the machine state
 * is kept, Ready=False with the reason, retried with backoff (the registry or
 * the owner's access may change).
 */
export function refusedOutcome<C extends object>(opts: {
  host: string;
  reason: Reason;
  message: string;
  saved: SavedMachineState<C> | undefined;
  fields: Partial<HostStatusEntry>;
}): HostOutcome {
  const { reason, message, saved } = opts;
  const entry: HostStatusEntry = {
    name: opts.host,
    phase: saved?.state ?? 'Pending',
    ...opts.fields,
    ...(saved ? { machine: machineEntry(saved) } : {}),
    message,
  };
  return { entry, ready: false, failure: { reason, message } };
}
