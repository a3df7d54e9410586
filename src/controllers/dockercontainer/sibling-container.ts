import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DependencyStatus } from './dependencies.js';

// Another DockerContainer of the same namespace on the same host, as its own
// status entry there reports it (what its controller last saw in Docker): the
// entry carries its Docker container ID, and its changes requeue the
// containers that refer to it (register.ts). Pure.

/** The fields of a DockerContainer's host entry read here. */
interface SiblingEntry {
  name: string;
  id?: string;
  state?: string;
}

/** A DockerContainer's status entry for `host`, when it has one. */
export function siblingEntry(sibling: DockerContainer | undefined, host: string): SiblingEntry | undefined {
  return sibling?.status?.hosts?.find((h) => h.name === host);
}

/** The DockerContainer whose network namespace `c` joins (security.networkMode container). */
export function networkContainerOf(c: DockerContainer): string | undefined {
  return c.spec.security?.networkMode === 'container' ? c.spec.security.networkContainer : undefined;
}

/**
 * How the network container of a `networkMode: container` DockerContainer
 * stands on `host`, and its Docker container ID there. Ready when its
 * container there is ours (the ID its own entry records) and running. A
 * target that itself has no network namespace of its own (host, or another
 * container's) is never joined: host would hand the host's network to a
 * container whose own spec did not ask for it, past the policy check.
 * `id` is given whenever the entry has one, ready or not, so an existing
 * dependent compares as unchanged while its target is merely restarting.
 */
export function networkContainerDependency(opts: {
  name: string;
  target: DockerContainer | undefined;
  host: string;
}): { dependency: DependencyStatus; id?: string } {
  const ref = `DockerContainer/${opts.name}`;
  if (!opts.target) return { dependency: { ref, state: 'deleted', note: 'networkContainer; not found' } };
  const ownMode = opts.target.spec.security?.networkMode;
  if (ownMode === 'host' || ownMode === 'container')
    return {
      dependency: {
        ref,
        state: 'notReady',
        note: `networkContainer; it uses networkMode ${ownMode}, only a container with its own network namespace can be joined`,
      },
    };
  const entry = siblingEntry(opts.target, opts.host);
  const id = entry?.id;
  if (!entry || !id)
    return { dependency: { ref, state: 'notReady', note: 'networkContainer; not created on this host yet' } };
  const state: DependencyStatus['state'] = entry.state === 'running' ? 'ready' : 'notReady';
  return {
    dependency: {
      ref,
      state,
      ...(state === 'ready' ? {} : { note: `networkContainer; now ${entry.state ?? 'unknown'}` }),
    },
    id,
  };
}
