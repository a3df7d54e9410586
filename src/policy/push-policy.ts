// Where images may be pushed from a host (DockerBuild and DockerImage
// spec.push). A push copies an image out of the host, so it is a grant of its
// own: privileged hosts push anywhere; below privileged each destination's
// registry must be in the administrator's
// securityPolicySettings.allowedPushRegistries (an allow-list; the schema
// makes every destination name its registry host).
import { asHostPolicy, type HostPolicy, type SecurityPolicy, type Violation } from './policy-types.js';

/** The registry host a push destination names (the schema requires one): its first path component. */
export function pushRegistryOf(destination: string): string {
  return (destination.split('/')[0] ?? '').toLowerCase();
}

/** Each spec.push destination whose registry the host does not list, below privileged. */
export function checkPushPolicy(
  policy: SecurityPolicy | HostPolicy,
  spec: { push?: Array<{ image: string }> },
): Violation[] {
  const host = asHostPolicy(policy);
  if (host.level === 'privileged') return [];
  const allowed = new Set((host.settings.allowedPushRegistries ?? []).map((r) => r.toLowerCase()));
  return (spec.push ?? []).flatMap((destination, i) => {
    const registry = pushRegistryOf(destination.image);
    if (allowed.has(registry)) return [];
    return [
      {
        field: `spec.push[${i}].image`,
        message:
          `pushing to ${registry} copies the image out of the host: allowed below privileged only to ` +
          'registries in the DockerHost’s securityPolicySettings.allowedPushRegistries',
      },
    ];
  });
}
