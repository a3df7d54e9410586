import type { DockerContainer } from '../../crds/dockercontainer.js';
import { dockerName, ownerRefOf, type OwnerRef } from '../../managed/ownership.js';

export const OWNER_KIND = 'DockerContainer';

/** The container's name in Docker: spec.containerName, or `namespace.name`. */
export function containerNameOf(c: DockerContainer): string {
  return dockerName(c.metadata.namespace ?? '', c.metadata.name, c.spec.containerName);
}

/** The owner its Docker objects are labelled with. */
export function ownerOf(c: DockerContainer): OwnerRef {
  return ownerRefOf(OWNER_KIND, c);
}
