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
// A push of the built image is decided on its own (push-policy.ts).
import type { DockerBuildSpec } from '../crds/dockerbuild.js';
import { asHostPolicy, type HostPolicy, type SecurityPolicy, type Violation } from './policy-types.js';
import { checkPushPolicy } from './push-policy.js';

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

/** The host policy's violations of a DockerBuild spec: none when the host allows builds and its pushes. */
export function checkBuildPolicy(policy: SecurityPolicy | HostPolicy, spec: DockerBuildSpec): Violation[] {
  const host = asHostPolicy(policy);
  const why = refusal(host);
  const build = why === undefined ? [] : buildFields(spec).map((field) => ({ field, message: why }));
  return [...build, ...checkPushPolicy(host, spec)];
}
