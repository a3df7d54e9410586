import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import {
  DockerConfigError,
  findCredentials,
  parseDockerConfigJson,
  registryHostOf,
  type ConfigEntry,
  type RegistryAuth,
} from '../../docker/registry-auth.js';
import { isNotFound, statusCodeOf } from '../../runtime/api-errors.js';

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';

/** The credentials for one pull, and what a person should know when the pull fails. */
export interface PullCredentials {
  auth?: RegistryAuth;
  /** The Secret the credentials came from. */
  source?: string;
  /** Problems with the listed Secrets (never their content). */
  notes: string[];
}

/** One listed Secret as read: the object, or why it could not be read. */
export type ReadSecret = { name: string; secret: V1Secret } | { name: string; problem: string };

/**
 * Pure: the credentials for the image's registry host from the listed
 * Secrets, in their order; notes for Secrets that are missing, of another
 * type or malformed, and when none has credentials for the host.
 */
export function credentialsFromSecrets(
  namespace: string,
  secrets: readonly ReadSecret[],
  imageRef: string,
): PullCredentials {
  const host = registryHostOf(imageRef);
  const notes: string[] = [];
  const configs: Array<{ source: string; entries: ConfigEntry[] }> = [];
  for (const s of secrets) {
    if ('problem' in s) {
      notes.push(`pull secret ${s.name}: ${s.problem}`);
      continue;
    }
    if (s.secret.type !== DOCKER_CONFIG_JSON_TYPE) {
      notes.push(
        `pull secret ${s.name} is of type ${s.secret.type ?? 'Opaque'}, not ${DOCKER_CONFIG_JSON_TYPE}: ignored`,
      );
      continue;
    }
    const encoded = s.secret.data?.[DOCKER_CONFIG_JSON_KEY];
    if (!encoded) {
      notes.push(`pull secret ${s.name} has no ${DOCKER_CONFIG_JSON_KEY} key: ignored`);
      continue;
    }
    try {
      configs.push({
        source: s.name,
        entries: parseDockerConfigJson(Buffer.from(encoded, 'base64').toString('utf8')),
      });
    } catch (err) {
      const why = err instanceof DockerConfigError ? err.message : 'unreadable';
      notes.push(`pull secret ${s.name}: ${why}: ignored`);
    }
  }
  const found = findCredentials(configs, host);
  if (found) return { auth: found.auth, source: found.source, notes };
  if (secrets.length > 0) {
    const checked = configs.map((c) => c.source);
    notes.push(
      checked.length > 0
        ? `no pull secret has credentials for ${host} (checked ${checked.join(', ')} in ${namespace})`
        : `no usable pull secret for ${host} in ${namespace}`,
    );
  }
  return { notes };
}

/**
 * Reads the listed Secrets by name (get only: Dockyard never lists or
 * watches Secrets, so a change is seen at the next pull or check) and picks
 * the credentials for the image's registry.
 */
export async function resolvePullCredentials(
  core: Pick<CoreV1Api, 'readNamespacedSecret'>,
  namespace: string,
  names: readonly string[],
  imageRef: string,
): Promise<PullCredentials> {
  return credentialsFromSecrets(namespace, await readPullSecrets(core, namespace, names), imageRef);
}

/** Reads the listed Secrets by name (get only), each as the object or why it could not be read. */
export async function readPullSecrets(
  core: Pick<CoreV1Api, 'readNamespacedSecret'>,
  namespace: string,
  names: readonly string[],
): Promise<ReadSecret[]> {
  return Promise.all(
    names.map(async (name): Promise<ReadSecret> => {
      try {
        return { name, secret: await core.readNamespacedSecret({ name, namespace }) };
      } catch (err) {
        if (isNotFound(err)) return { name, problem: `not found in ${namespace}` };
        // Only the status code: an API error body is not shown.
        const code = statusCodeOf(err);
        return { name, problem: `could not be read${code !== undefined ? ` (HTTP ${code})` : ''}` };
      }
    }),
  );
}
