import type { DockerNetwork } from '../../crds/dockernetwork.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { networkClient } from '../../docker/network-client.js';
import { claimedBy } from '../../managed/adoption.js';
import { defineKind, type DescribedKind } from '../../managed/host-flow.js';
import { ownership } from '../../managed/ownership.js';
import type { FinalizeOutcome, HostContext } from '../../managed/types.js';
import { describeAttached } from './network-duplicates.js';
import { networkEffects } from './network-effects.js';
import { networkMachineSpec } from './network-machine.js';
import { networkMessages } from './network-messages.js';
import { observeNetwork, uidLabel } from './network-observe.js';
import { reportNetwork } from './network-report.js';
import { networkNameOf, OWNER_KIND, ownerOf } from './network-spec.js';

// A DockerNetwork on one host, described for the generic flow: observe
// (network-observe.ts) → the shared ensure machine (network-machine.ts) →
// effects (network-effects.ts) → status (network-report.ts). Wording lives in
// network-messages.ts.

export { nameConflictMessage } from './network-messages.js';
export { adoptedNetworkMatches } from './network-observe.js';

/**
 * Removes every network of ours on the host, under any name (duplicates and
 * old names too); a foreign network is never touched, and nothing is
 * disconnected: a network in use stays, and so does the finalizer.
 */
async function deleteNetwork(ctx: HostContext<DockerNetwork>): Promise<FinalizeOutcome> {
  // An external network is never Dockyard's to remove, whatever deletionPolicy says.
  if (ctx.obj.spec.external) return { done: true };
  const name = networkNameOf(ctx.obj);
  const found = await networkClient.observe(ctx.conn.api, name, uidLabel(ctx.obj));
  const claimed = claimedBy(ctx.host, 'network', name, ownerOf(ctx.obj));
  const ours = found.filter(
    (n) => ownership(n.labels, ownerOf(ctx.obj)) === 'ours' || (claimed && n.name === name),
  );
  const busy: string[] = [];
  for (const n of ours) {
    if (n.containers.length > 0) busy.push(...n.containers.map((c) => c.name));
    else if ((await networkClient.remove(ctx.conn.api, n.id)) === 'inUse') busy.push('a container');
  }
  if (busy.length === 0) return { done: true };
  return {
    done: false,
    message: networkMessages.inUseOnDelete(
      name,
      ctx.host.metadata.name,
      describeAttached([...new Set(busy)], ctx.namespace),
    ),
  };
}

/** The DockerNetwork kind for the managed reconciler. */
export const dockerNetworkKind: DescribedKind<DockerNetwork> = defineKind({
  kind: OWNER_KIND,
  resource: { group: GROUP, version: VERSION, plural: 'dockernetworks' },
  dockerEventType: 'network',
  defaultDeletionPolicy: 'Delete',
  dockerNameOf: networkNameOf,
  flow: {
    machine: networkMachineSpec,
    observe: observeNetwork,
    effects: networkEffects,
    report: reportNetwork,
  },
  delete: deleteNetwork,
});
