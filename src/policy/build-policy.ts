// Which hosts may build images. A build is a different kind of request from
// a container: its Dockerfile runs arbitrary commands on the daemon (as the
// Dockerfile's USER, root by default, with Docker's default capabilities, on
// the default bridge network) and pulls the base images it names past the
// host's imagePolicy. So the policy decides every field of a build as one
// grant: privileged hosts allow builds, baseline hosts only with the
// administrator's securityPolicySettings.allowBuilds, and restricted hosts
// never (a build cannot promise restricted's non-root user and dropped
// capabilities). Each field that carries the build to the daemon is named in
// the refusal, so field-decisions.ts can hold every one to an escape row.
// Dockyard itself sends nothing else that widens a build: no network mode,
// extra hosts, shm size, ulimits or entitlements (docker/build-client.ts).
//
// A push copies the built image out of the host, so it is a grant of its own:
// below privileged each spec.push destination's registry must be in the
// administrator's securityPolicySettings.allowedPushRegistries (an
// allow-list; the schema makes every destination name its registry host).
import type { DockerBuildSpec } from '../crds/dockerbuild.js';
import { asHostPolicy, type HostPolicy, type SecurityPolicy, type Violation } from './policy-types.js';

/** Why the host refuses builds, or undefined when it allows them. */
function refusal(host: HostPolicy): string | undefined {
  if (host.level === 'privileged') return undefined;
  if (host.level === 'restricted')
    return (
      'restricted hosts never build: a build runs the Dockerfile’s commands as its USER (root by default) ' +
      'with Docker’s default capabilities'
    );
  if (host.settings.allowBuilds === true) return undefined;
  return (
    'builds run the Dockerfile’s commands on the daemon and are allowed below privileged only with the ' +
    'DockerHost’s securityPolicySettings.allowBuilds'
  );
}

/** The spec paths that carry the build to the daemon, each its own violation. */
function buildFields(spec: DockerBuildSpec): string[] {
  return [
    ...(spec.dockerfileInline !== undefined ? ['spec.dockerfileInline'] : []),
    ...(spec.context?.configMap ? ['spec.context.configMap.name'] : []),
    ...(spec.context?.git ? ['spec.context.git.url'] : []),
    ...(spec.dockerfile !== undefined ? ['spec.dockerfile'] : []),
    ...(spec.target !== undefined ? ['spec.target'] : []),
    ...(spec.platform !== undefined ? ['spec.platform'] : []),
    ...(spec.args ?? []).map((_arg, i) => `spec.args[${i}]`),
    ...(spec.secrets ?? []).map((_secret, i) => `spec.secrets[${i}]`),
  ];
}

/** The registry host a push destination names (the schema requires one): its first path component. */
export function pushRegistryOf(destination: string): string {
  return (destination.split('/')[0] ?? '').toLowerCase();
}

/** Each spec.push destination whose registry the host does not list, below privileged. */
function pushViolations(host: HostPolicy, spec: DockerBuildSpec): Violation[] {
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

/** The host policy's violations of a DockerBuild spec: none when the host allows builds and its pushes. */
export function checkBuildPolicy(policy: SecurityPolicy | HostPolicy, spec: DockerBuildSpec): Violation[] {
  const host = asHostPolicy(policy);
  const why = refusal(host);
  const build = why === undefined ? [] : buildFields(spec).map((field) => ({ field, message: why }));
  return [...build, ...pushViolations(host, spec)];
}
