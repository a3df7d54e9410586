import type Dockerode from 'dockerode';
import { LOCALENV_LABEL, ignoreNotFound } from '../../src/localenv/host-docker.js';
import type { Registry, SeededRepository } from '../../src/localenv/registry.js';
import type { Kube } from './kube.js';
import type { Lab } from './lab.js';

/** The lab's registry and the repository seeded in it; throws for a lab started without `registry: true`. */
export function labRegistry(lab: Lab): { registry: Registry; seeded: SeededRepository } {
  if (!lab.registry || !lab.seeded) throw new Error('the lab has no seeded registry');
  return { registry: lab.registry, seeded: lab.seeded };
}

export interface DockerConfigOptions {
  registry: Pick<Registry, 'address' | 'username' | 'password'>;
  /** Instead of the registry's own password: a Secret the registry rejects. */
  password?: string;
  /**
   * How the entry holds the credentials: `fields` (username and password) or
   * `auth` (base64 of `user:password`, as `docker login` writes it). Default `fields`.
   */
  form?: 'fields' | 'auth';
}

/** A `.dockerconfigjson` document with one entry, for the registry's address. */
export function dockerConfigJson(opts: DockerConfigOptions): string {
  const { address, username } = opts.registry;
  const password = opts.password ?? opts.registry.password;
  const entry = opts.form === 'auth' ? { auth: b64(`${username}:${password}`) } : { username, password };
  return JSON.stringify({ auths: { [address]: entry } });
}

/** Creates a `kubernetes.io/dockerconfigjson` pull Secret for the lab registry. */
export async function registrySecret(
  kube: Kube,
  opts: DockerConfigOptions & { namespace: string; name: string },
): Promise<void> {
  await kube.core.createNamespacedSecret({
    namespace: opts.namespace,
    body: {
      metadata: { name: opts.name },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(dockerConfigJson(opts)) },
    },
  });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A local image of `source` whose config differs by one environment variable
 * (`env`, NAME=value), so it gets a digest of its own without a new layer's
 * worth of work; for tests and benches that need many distinct images.
 */
export async function distinctImage(
  docker: Dockerode,
  opts: { source: string; repo: string; tag: string; env: string },
): Promise<string> {
  const container = await docker.createContainer({
    Image: opts.source,
    Cmd: ['true'],
    Env: [opts.env],
    Labels: { [LOCALENV_LABEL]: 'true' },
  });
  try {
    await container.commit({ repo: opts.repo, tag: opts.tag });
    return `${opts.repo}:${opts.tag}`;
  } finally {
    await container.remove({ force: true }).catch(ignoreNotFound);
  }
}
