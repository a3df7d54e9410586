// Fixtures shared by the container-spec section tests: one spec, one set of
// resolved inputs, and an observed container to diff against.
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../container-client.js';
import { observedContainer } from '../test-support.js';
import type { ContainerInputs } from './inputs.js';

export const base: DockerContainerSpec = { hostName: 'h1', image: 'busybox:1.36' };

export const inputs: ContainerInputs = {
  name: 'team-a.web',
  image: 'busybox:1.36',
  env: [],
  volumeNames: { data: 'team-a.data', cache: 'team-a.cache' },
  networkNames: { front: 'team-a.front', back: 'team-a.back' },
  ownerLabels: {
    'dockyard.io/uid': 'u1',
    'dockyard.io/namespace': 'team-a',
    'dockyard.io/name': 'web',
    'dockyard.io/kind': 'DockerContainer',
    'dockyard.io/deletion-policy': 'Delete',
  },
};

export const spec = (patch: Partial<DockerContainerSpec>): DockerContainerSpec => ({ ...base, ...patch });
export const withInputs = (patch: Partial<ContainerInputs>): ContainerInputs => ({ ...inputs, ...patch });

/** Anonymous volume names, as Docker makes them (64 hex). */
export const ANON = 'a'.repeat(64);
export const ANON2 = 'b'.repeat(64);

export function observed(
  patch: Partial<ObservedContainer> = {},
  host: Partial<ObservedContainer['hostConfig']> = {},
): ObservedContainer {
  return observedContainer({
    id: 'c0ffee' + '0'.repeat(58),
    name: 'team-a.web',
    image: 'busybox:1.36',
    imageId: 'sha256:' + 'f'.repeat(64),
    hostConfig: host,
    ...patch,
  });
}
