// Anonymous volumes a recreate carries over to the new container.
import type { ObservedContainer } from '../container-client.js';
import type { Spec } from './inputs.js';

/** An anonymous volume of the container being replaced, mounted on its successor. */
export interface InheritedVolume {
  /** Docker's random 64-hex volume name. */
  name: string;
  target: string;
  readOnly: boolean;
}

/** How Docker names the volume it creates for an image's VOLUME (a random ID). */
const ANONYMOUS_VOLUME_NAME = /^[0-9a-f]{64}$/;

/**
 * The anonymous volumes of `old` the new container must mount where `old`
 * had them, as `docker compose up` does: otherwise a recreate (a new image,
 * a new command) starts over on an empty volume and the data of an image
 * VOLUME (postgres' data directory) is left behind. Anonymous means a volume
 * Docker made for a path the image declared, named with a random ID; a
 * DockerVolume the spec no longer mounts is not carried over, and a path the
 * spec now mounts something else at is the spec's.
 */
export function inheritedVolumes(spec: Spec, old: ObservedContainer): InheritedVolume[] {
  const claimed = new Set((spec.mounts ?? []).map((m) => m.target));
  const declared = new Set(old.declaredVolumes);
  return old.mounts
    .filter(
      (m) =>
        m.type === 'volume' &&
        m.name !== undefined &&
        ANONYMOUS_VOLUME_NAME.test(m.name) &&
        declared.has(m.destination) &&
        !claimed.has(m.destination),
    )
    .map((m) => ({ name: m.name ?? '', target: m.destination, readOnly: m.readOnly }))
    .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
