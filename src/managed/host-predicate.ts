import type { DockerHost } from '../crds/dockerhost.js';
import { isTrue } from '../runtime/conditions.js';
import { specOrMetadataChanged } from '../runtime/predicates.js';

/**
 * DockerHost updates that can change where or whether objects run there:
 * spec (endpoint, policy, allowed namespaces), labels, annotations, deletion
 * (specOrMetadataChanged, which also passes periodic resyncs) and readiness.
 * A heartbeat that only moved container counts or lastHeartbeatTime must not
 * re-enqueue every object on the host: on a busy host every container change
 * would cost one reconcile per object placed there, and it would hide whether
 * drift was found by events, by a stream resync or by the poll.
 */
export function hostPlacementChanged(oldHost: DockerHost, newHost: DockerHost): boolean {
  return (
    specOrMetadataChanged(oldHost, newHost) ||
    isTrue(oldHost.status?.conditions, 'Ready') !== isTrue(newHost.status?.conditions, 'Ready')
  );
}
