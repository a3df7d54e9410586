import { createHash } from 'node:crypto';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { SeccompProfileSource } from '../../crds/dockerhost.js';
import { Reason } from '../../crds/reasons.js';
import type { ContainerInputs } from '../../docker/container-spec.js';
import type { EnvResolution, RefReader } from './env-resolver.js';

// security.seccompProfile Localhost resolved to the profile's JSON text.
// Docker takes a profile only as text in HostConfig.SecurityOpt (the CLI reads
// files client-side), so the text comes from the ConfigMap the host's
// administrator lists in securityPolicySettings.seccompProfiles, read in the
// ConfigMap's own namespace (the admin's choice, not the container's). The
// text is large and goes only into the create options; messages name the
// profile, the host and the ConfigMap, never the text.

export type SeccompResolution =
  | { ok: true; profile?: NonNullable<ContainerInputs['seccompProfile']> }
  | Extract<EnvResolution, { ok: false }>;

export interface SeccompRequest {
  spec: DockerContainerSpec;
  /** The DockerHost's name, for messages. */
  host: string;
  /** The host's securityPolicySettings.seccompProfiles. */
  profiles: readonly SeccompProfileSource[] | undefined;
  /** Reads ConfigMaps of a namespace by name. */
  refs(namespace: string): RefReader;
}

const unavailable = (message: string): SeccompResolution => ({
  ok: false,
  reason: Reason.SeccompProfileUnavailable,
  message,
});

/**
 * The profile text, parsed and written back without whitespace: a JSON
 * object with a string defaultAction (what Docker's loader needs first), or
 * why it is not one. The parser's own message is left out: it can quote the text.
 */
export function minifiedProfile(text: string): { json: string } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'is not valid JSON' };
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  if (!isObject || typeof (parsed as { defaultAction?: unknown }).defaultAction !== 'string')
    return { problem: 'is not a seccomp profile (a JSON object with a string defaultAction)' };
  return { json: JSON.stringify(parsed) };
}

/**
 * The Localhost profile the spec names, from the host's list; nothing to
 * resolve for any other type. A name the host does not list is refused by
 * the policy first (checkSeccompLocalhost); it fails here too, never silently
 * running the container without its profile.
 */
export async function resolveSeccompProfile(req: SeccompRequest): Promise<SeccompResolution> {
  const wanted = req.spec.security?.seccompProfile;
  if (wanted?.type !== 'Localhost') return { ok: true };
  const name = wanted.localhostProfile ?? '';
  const what = `seccomp profile ${name} of DockerHost ${req.host}`;
  const source = req.profiles?.find((p) => p.name === name);
  if (!source) return unavailable(`${what}: not in its securityPolicySettings.seccompProfiles`);
  const { namespace, name: cmName, key } = source.configMapRef;
  const cm = `ConfigMap ${namespace}/${cmName}`;
  const data = await req.refs(namespace).configMap(cmName);
  if (data === undefined) return unavailable(`${what}: ${cm} not found`);
  const text = data[key];
  if (text === undefined) return unavailable(`${what}: key ${key} not found in ${cm}`);
  const profile = minifiedProfile(text);
  if ('problem' in profile) return unavailable(`${what}: key ${key} of ${cm} ${profile.problem}`);
  const sha256 = createHash('sha256').update(profile.json).digest('hex');
  return { ok: true, profile: { json: profile.json, sha256 } };
}
