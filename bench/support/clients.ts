// The bench's Docker and Kubernetes clients with a deadline on every call
// (bench/support/deadline.ts): a daemon or API server that stops answering
// fails the run naming the step, the host and the call, instead of hanging it.

import type Dockerode from 'dockerode';
import type { Kube } from '../../test/support/kube.js';
import { API_CALL_MS, DOCKER_CALL_MS, deadlined } from './deadline.js';

/**
 * Docker calls that legitimately take as long as they take: `wait` blocks
 * until the container exits. (Streams — events, logs, attach, pull — resolve
 * once the daemon answered, so their deadline covers the answer, not the stream.)
 */
const DOCKER_EXEMPT = new Set(['wait', 'followProgress']);

/** A returned Container, Image, Network, Volume or Exec: dockerode's entities carry `modem` and an id or name. */
const isDockerEntity = (v: unknown): v is object =>
  typeof v === 'object' &&
  v !== null &&
  'modem' in v &&
  ('id' in v || 'name' in v) &&
  typeof (v as { then?: unknown }).then !== 'function';

/** "createContainer direct-0042", "start container 3f2a…", "listContainers". */
export function describeDockerCall(method: string, args: readonly unknown[], target: object): string {
  const entity = target as { id?: unknown; name?: unknown; constructor?: { name?: string } };
  const ref = typeof entity.id === 'string' ? entity.id : typeof entity.name === 'string' ? entity.name : '';
  if (ref) {
    const kind = (entity.constructor?.name ?? 'object').toLowerCase();
    return `${method} ${kind} ${ref.length === 64 ? ref.slice(0, 12) : ref}`;
  }
  const opts = args[0] as { name?: unknown } | undefined;
  return typeof opts?.name === 'string' ? `${method} ${opts.name}` : method;
}

/** `docker` (one node's client) with a deadline on each call, and on each call of the entities it returns. */
export function deadlineDocker(docker: Dockerode, host: string, ms = DOCKER_CALL_MS): Dockerode {
  const wrapResult = (value: unknown): unknown =>
    isDockerEntity(value)
      ? deadlined(value, { host, ms, describe: describeDockerCall, exempt: DOCKER_EXEMPT, wrapResult })
      : value;
  return deadlined(docker, { host, ms, describe: describeDockerCall, exempt: DOCKER_EXEMPT, wrapResult });
}

/** "createNamespacedCustomObject dockercontainers bench-convergence/c-0042". */
export function describeApiCall(method: string, args: readonly unknown[]): string {
  const p = (args[0] ?? {}) as {
    plural?: unknown;
    namespace?: unknown;
    name?: unknown;
    body?: { metadata?: { name?: unknown } };
  };
  const name = typeof p.name === 'string' ? p.name : p.body?.metadata?.name;
  const where = [
    typeof p.namespace === 'string' ? p.namespace : undefined,
    typeof name === 'string' ? name : undefined,
  ]
    .filter(Boolean)
    .join('/');
  return [method, typeof p.plural === 'string' ? p.plural : undefined, where].filter(Boolean).join(' ');
}

/**
 * Puts every call of `kube` (its own methods and direct `kube.api` /
 * `kube.core` use) under a deadline. Kube's clients are readonly for its
 * users; they are swapped here once, before anything else holds them.
 */
export function withApiDeadlines(kube: Kube, ms = API_CALL_MS): Kube {
  const host = kube.cp.kubeConfig().getCurrentCluster()?.server ?? 'the API server';
  Object.assign(kube, {
    api: deadlined(kube.api, { host, ms, describe: describeApiCall }),
    core: deadlined(kube.core, { host, ms, describe: describeApiCall }),
  });
  return kube;
}
