// The table of every service key Dockyard reads, and what it does with each.
// It is an allow-list: a key not in it (a new Compose key included) is
// reported as unsupported, never passed over.

import { BASIC_KEYS } from './basic-keys.js';
import type { ServiceKey } from './context.js';
import { FILE_KEYS } from './file-keys.js';
import { IO_KEYS } from './io-keys.js';
import { LATE_NETWORK_KEYS, NETWORK_KEYS } from './network-keys.js';
import { RUNTIME_KEYS } from './runtime-keys.js';
import { SECURITY_KEYS } from './security-keys.js';

/** Keys the loader has already applied, or that Compose itself never sends to Docker. */
const NO_DOCKER_EFFECT: Record<string, ServiceKey> = {
  profiles: { noDockerEffect: 'applied by the loader (only enabled services reach the mapping)' },
  extends: { noDockerEffect: 'applied by the loader' },
  env_file: { noDockerEffect: 'read into environment by the loader' },
  label_file: { noDockerEffect: 'read into labels by the loader' },
  attach: { noDockerEffect: 'whether `docker compose up` follows the logs' },
};

/** Keys with no Dockyard equivalent, and why (or what to use instead). */
const UNSUPPORTED: Record<string, ServiceKey> = {
  build: {
    unsupported: 'Dockyard runs images and does not build them: build and push the image, then set image',
  },
  develop: { unsupported: 'Compose Watch is a development loop on the machine running compose' },
  links: { unsupported: 'legacy links: services reach each other by name on shared networks' },
  external_links: { unsupported: 'legacy links: attach to the other container’s network instead' },
  volumes_from: { unsupported: 'declare the volumes as named volumes and mount them in both services' },
  domainname: { unsupported: 'Dockyard has no domainname field' },
  platform: { unsupported: 'set platform on a DockerImage and refer to it with imageRef' },
  annotations: { unsupported: 'Dockyard has no container annotations field' },
  use_api_socket: { unsupported: 'mounting the Docker API socket is refused' },
};

/** Every key Dockyard reads from a service, in the order it reads them (mac_address after networks). */
export const SERVICE_KEYS: ReadonlyMap<string, ServiceKey> = new Map(
  Object.entries({
    ...NO_DOCKER_EFFECT,
    ...UNSUPPORTED,
    ...BASIC_KEYS,
    ...RUNTIME_KEYS,
    ...SECURITY_KEYS,
    ...IO_KEYS,
    ...FILE_KEYS,
    ...NETWORK_KEYS,
    ...LATE_NETWORK_KEYS,
  }),
);

/** The keys Dockyard maps (for documentation and the corpus coverage check). */
export function mappedServiceKeys(): string[] {
  return [...SERVICE_KEYS].filter(([, key]) => 'map' in key).map(([name]) => name);
}
