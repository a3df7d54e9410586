import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { NetworkCreate } from '../../docker/network-client.js';
import { dockerName, ownerLabels, ownerRefOf, specHash, type OwnerRef } from '../../managed/ownership.js';

export const OWNER_KIND = 'DockerNetwork';

export function networkNameOf(network: DockerNetwork): string {
  return dockerName(network.metadata.namespace ?? '', network.metadata.name, network.spec.networkName);
}

export function ownerOf(network: DockerNetwork): OwnerRef {
  return ownerRefOf(OWNER_KIND, network);
}

/**
 * Pure: what the user asked Docker for, with defaults filled in so that
 * spelling a default out does not change the hash; user labels only.
 */
export function desiredNetwork(network: DockerNetwork): NetworkCreate {
  const s = network.spec;
  return {
    name: networkNameOf(network),
    driver: s.driver ?? 'bridge',
    internal: s.internal ?? false,
    attachable: s.attachable ?? false,
    enableIPv6: s.enableIPv6 ?? false,
    ipam: {
      driver: s.ipam?.driver ?? 'default',
      config: (s.ipam?.config ?? []).map((c) => ({
        subnet: c.subnet,
        ...(c.gateway !== undefined ? { gateway: c.gateway } : {}),
        ...(c.ipRange !== undefined ? { ipRange: c.ipRange } : {}),
      })),
      options: s.ipam?.options ?? {},
    },
    options: s.options ?? {},
    labels: s.labels ?? {},
  };
}

/** Only what reaches Docker; placement and deletionPolicy are not part of it. */
export function networkSpecHash(network: DockerNetwork): string {
  return specHash(desiredNetwork(network));
}

/** Pure: the create request, the user's labels plus Dockyard's owner labels (with `clusterId`) and spec hash. */
export function networkCreateFor(network: DockerNetwork, clusterId?: string): NetworkCreate {
  const desired = desiredNetwork(network);
  return {
    ...desired,
    labels: {
      ...desired.labels,
      ...ownerLabels(ownerOf(network), {
        specHash: networkSpecHash(network),
        deletionPolicy: network.spec.deletionPolicy ?? 'Delete',
        clusterId,
      }),
    },
  };
}
