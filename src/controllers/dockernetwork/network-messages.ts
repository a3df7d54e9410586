import { OWNER_LABELS } from '../../crds/kit.js';
import type { ObservedNetwork } from '../../docker/network-client.js';
import { adoptionAdvice, type AdoptionRefusal } from '../../managed/adoption.js';
import { describeAttached } from './network-duplicates.js';

// The wording of the DockerNetwork's Events and status messages, in one place.
// Every message is for the tenant of the resource's namespace: it names
// containers of other namespaces only by count (see describeAttached) and
// another resource's network never by its owner.

/** Docker's short form of an id, as `docker network ls` shows it. */
export const shortId = (id: string) => id.slice(0, 12);

/** The containers attached to a network, as this namespace's tenant may see them. */
export const attachedTo = (network: ObservedNetwork, namespace: string) =>
  describeAttached(
    network.containers.map((c) => c.name),
    namespace,
  );

/**
 * Names only what this resource's owner may know: whether the network is
 * another Dockyard resource's or not Dockyard's at all, never whose (that
 * may be another tenant's namespace and name).
 */
export function nameConflictMessage(opts: {
  name: string;
  host: string;
  conflicting: ObservedNetwork | undefined;
  refusal?: AdoptionRefusal | undefined;
}): string {
  const { name, host, conflicting, refusal } = opts;
  const whose =
    conflicting && conflicting.labels[OWNER_LABELS.uid] !== undefined
      ? ' (it belongs to another Dockyard resource)'
      : '';
  return (
    `a Docker network named ${name} already exists on ${host} and is not owned by this DockerNetwork${whose}; ` +
    `Dockyard never touches it. Remove or rename it, or set spec.networkName to another name${adoptionAdvice(refusal)}`
  );
}

export function recreateRequiredMessage(opts: {
  name: string;
  host: string;
  network: ObservedNetwork;
  namespace: string;
}): string {
  return (
    `network ${opts.name} on ${opts.host} was created from a different spec, and a network cannot change in place; ` +
    `it is in use by ${attachedTo(opts.network, opts.namespace)}. Dockyard recreates it once no container is attached ` +
    '(disconnect or remove them), or revert the spec.'
  );
}

/** Why a network of ours is extra: a racing duplicate of the name, or ours under an old name. */
export type ExtraKind = 'duplicate' | 'renamed';

export const networkMessages = {
  created: (name: string, host: string) => `created network ${name} on ${host}`,
  driftRepaired: (name: string, host: string) =>
    `network ${name} was removed on ${host} outside Dockyard; created it again`,
  recreated: (name: string, host: string) =>
    `network ${name} on ${host} was created from a different spec and nothing was attached; recreated it`,
  /** The error of a recreate that lost to a container attaching (retried with backoff). */
  attachedDuringRecreate: (name: string, id: string, host: string) =>
    `network ${name} (${shortId(id)}) on ${host}: a container attached while it was being recreated`,
  adopted: (name: string, host: string) => `adopted the existing network ${name} on ${host}`,
  paused: 'paused (dockyard.io/paused): observing only',
  /** Ready, but an extra of the same name is in use and stays. */
  duplicated: (kept: readonly string[], name: string) =>
    `${kept.join('; ')}; Docker cannot resolve the name ${name} while it is duplicated`,
  /** An extra network of ours (a racing duplicate, or ours under an old name), for the messages below. */
  extra: (extra: ObservedNetwork, why: ExtraKind) =>
    `${why === 'duplicate' ? 'duplicate network' : 'network'} ${extra.name} (${shortId(extra.id)})`,
  duplicateRemoved: (extra: string, host: string, keeper: ObservedNetwork | undefined) =>
    `removed ${extra} on ${host}: it had the same name as ${keeper ? shortId(keeper.id) : 'ours'}, which is kept`,
  renamedRemoved: (extra: string, host: string) => `removed ${extra} on ${host}: spec.networkName changed`,
  extraKept: (extra: string, attached: string) => `${extra} is kept: in use by ${attached}`,
  inUseOnDelete: (name: string, host: string, attached: string) =>
    `network ${name} on ${host} is in use by ${attached}; remove or disconnect them first`,
};
