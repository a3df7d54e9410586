// Which corpus projects a baseline DockerHost admits, decided by Dockyard's
// own policy functions on the converted specs (what the controllers check
// before they create anything). corpus.json's `privileged` says the project
// needs a privileged host; the parity test holds it to that.

import type { Manifest } from '../../../src/compose/convert.js';
import type { DockerContainerSpec } from '../../../src/crds/dockercontainer.js';
import type { SecurityPolicySettings } from '../../../src/crds/dockerhost.js';
import type { DockerNetworkSpec } from '../../../src/crds/dockernetwork.js';
import type { DockerVolumeSpec } from '../../../src/crds/dockervolume.js';
import {
  checkContainerPolicy,
  checkNetworkPolicy,
  checkVolumePolicy,
  type HostPolicy,
  type Violation,
} from '../../../src/policy/security-policy.js';

function violations(host: HostPolicy, m: Manifest): Violation[] {
  const spec = m.spec as Record<string, unknown>;
  switch (m.kind) {
    case 'DockerContainer':
      return checkContainerPolicy(host, spec as DockerContainerSpec);
    case 'DockerNetwork':
      return checkNetworkPolicy(host, spec as DockerNetworkSpec);
    case 'DockerVolume':
      return checkVolumePolicy(host, spec as DockerVolumeSpec);
    default:
      return [];
  }
}

/** What a baseline host with these settings refuses of the manifests, one line per field. */
export function baselineRefusals(objects: readonly Manifest[], settings: SecurityPolicySettings): string[] {
  const host: HostPolicy = { level: 'baseline', settings };
  return objects.flatMap((m) =>
    violations(host, m).map((v) => `${m.kind}/${m.metadata.name} ${v.field}: ${v.message}`),
  );
}
