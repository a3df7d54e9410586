import type { DockerNetwork } from '../../crds/dockernetwork.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import { EventReason } from '../../crds/reasons.js';
import { networkClient, type ObservedNetwork } from '../../docker/network-client.js';
import type { AdoptionRefusal, AdoptionResult } from '../../managed/adoption.js';
import type { Concluded, Observed } from '../../managed/host-flow.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import type { Ownership } from '../../managed/ownership.js';
import { externalOutcome } from '../../managed/external-object.js';
import type { HostContext, HostOutcome } from '../../managed/types.js';
import {
  checkNetworkPolicy,
  describeViolations,
  hostPolicyOf,
  type Violation,
} from '../../policy/security-policy.js';
import { conflictOwnership, sortNetworks, type SortedNetworks } from './network-duplicates.js';
import type { NetworkEvent } from './network-machine.js';
import { attachedTo, networkMessages, type ExtraKind } from './network-messages.js';
import { networkNameOf, networkSpecHash } from './network-spec.js';

/** What the network flow knows about one host: observed first, then updated as it acts. */
export interface NetworkWork {
  /** The network's name in Docker. */
  name: string;
  /** Ours and others' at the name, and ours under other names, as observed. */
  seen: SortedNetworks;
  /** Duplicates of ours that stay because something is attached, as status notes. */
  keptDuplicates: string[];
  /** Ours under an old name that stay because something is attached, as status notes. */
  keptRenamed: string[];
  /** The network at the name when it is ours by adoption (spec.adoptionPolicy), now or earlier. */
  adopted: ObservedNetwork | undefined;
  /** Our network at the name as observed: the one status recorded (else the oldest), or the adopted one. */
  keeper: ObservedNetwork | undefined;
  /** Whose the network at the name is when none there is ours. */
  conflict: Ownership | undefined;
  /** Why the network at the name could not be adopted, for the NameConflict advice. */
  adoptionRefusal: AdoptionRefusal | undefined;
  /** The keeper is what the spec asks for (by spec hash, or, adopted, by driver and subnets). */
  upToDate: boolean;
  /** The host policy's refusal of the spec, described; undefined when it allows it. */
  violation: string | undefined;
  /** The network the host has now: the keeper, until an effect removes it or creates another. */
  current: ObservedNetwork | undefined;
}

/** Docker's label filter for every network this resource owns, under any name. */
export const uidLabel = (network: DockerNetwork) => `${OWNER_LABELS.uid}=${network.metadata.uid ?? ''}`;

/** Whether an adopted network (which keeps its old labels) is what the spec asks for. */
export function adoptedNetworkMatches(n: ObservedNetwork, network: DockerNetwork): boolean {
  const subnets = (network.spec.ipam?.config ?? []).flatMap((c) => (c.subnet ? [c.subnet] : []));
  return n.driver === (network.spec.driver ?? 'bridge') && subnets.every((s) => n.subnets.includes(s));
}

/**
 * Removes our extra networks (racing duplicates, or ours under an old name)
 * that nothing is attached to; returns those that stay, as message parts.
 */
async function removeExtras(opts: {
  ctx: HostContext<DockerNetwork>;
  extras: readonly ObservedNetwork[];
  why: ExtraKind;
  /** The duplicates' keeper, named in the removal Event. */
  keeper?: ObservedNetwork | undefined;
}): Promise<string[]> {
  const { ctx, extras, why, keeper } = opts;
  const kept: string[] = [];
  const hostName = ctx.host.metadata.name;
  for (const extra of extras) {
    const label = networkMessages.extra(extra, why);
    if (extra.containers.length === 0 && (await networkClient.remove(ctx.conn.api, extra.id)) === 'removed') {
      ctx.logger.info({ network: extra.id, why }, 'removed extra network');
      ctx.events.event(
        ctx.obj,
        'Normal',
        why === 'duplicate' ? EventReason.DuplicateRemoved : EventReason.Removed,
        'Delete',
        why === 'duplicate'
          ? networkMessages.duplicateRemoved(label, hostName, keeper)
          : networkMessages.renamedRemoved(label, hostName),
      );
      continue;
    }
    // Removing it failed because a container attached meanwhile: it stays like one seen attached.
    const attached = extra.containers.length > 0 ? attachedTo(extra, ctx.namespace) : 'a container';
    kept.push(networkMessages.extraKept(label, attached));
  }
  return kept;
}

/**
 * With none of ours at the name, the one network there may be taken over
 * (spec.adoptionPolicy); two or more of that name are ambiguous and never are.
 */
async function adoptNetwork(
  ctx: HostContext<DockerNetwork>,
  seen: SortedNetworks,
): Promise<{ network: ObservedNetwork; result: AdoptionResult } | undefined> {
  const [only, ...more] = seen.conflicting;
  if (seen.keeper || !only || more.length > 0 || !ctx.adopt) return undefined;
  const name = networkNameOf(ctx.obj);
  const result = await ctx.adopt({
    type: 'network',
    dockerName: name,
    labels: only.labels,
    policy: ctx.obj.spec.adoptionPolicy ?? 'Never',
  });
  if (result.owns === 'ours' && result.adopted === 'now')
    ctx.events.event(
      ctx.obj,
      'Normal',
      EventReason.Adopted,
      'Adopt',
      networkMessages.adopted(name, ctx.host.metadata.name),
    );
  return { network: only, result };
}

/**
 * Looks at the host: what is at the name and whose, our extras (removed when
 * free, unless paused: observing only), adoption, and the host policy's
 * verdict; describes it as the machine's OBSERVED event.
 */
export async function observeNetwork(
  ctx: HostContext<DockerNetwork>,
): Promise<Observed<NetworkWork, NetworkEvent> | Concluded> {
  const { obj, host } = ctx;
  const invalid = invalidNameOutcome(ctx, { explicit: obj.spec.networkName, field: 'spec.networkName' });
  if (invalid) return { outcome: invalid };
  const policy = hostPolicyOf(host.spec);
  const violations = checkNetworkPolicy(policy, obj.spec);
  const name = networkNameOf(obj);
  const uid = obj.metadata.uid ?? '';
  const found = await networkClient.observe(ctx.conn.api, name, uidLabel(obj));
  if (obj.spec.external) return { outcome: externalNetworkOutcome(ctx, { name, found, violations }) };
  const seen = sortNetworks(found, { name, uid, statusId: ctx.previous?.id });
  const keptDuplicates = ctx.paused
    ? []
    : await removeExtras({ ctx, extras: seen.duplicates, why: 'duplicate', keeper: seen.keeper });
  const keptRenamed = ctx.paused ? [] : await removeExtras({ ctx, extras: seen.renamed, why: 'renamed' });
  const adoption = await adoptNetwork(ctx, seen);
  const adopted = adoption?.result.owns === 'ours' ? adoption.network : undefined;
  const keeper = seen.keeper ?? adopted;
  const work: NetworkWork = {
    name,
    seen,
    keptDuplicates,
    keptRenamed,
    adopted,
    keeper,
    conflict: adopted ? undefined : conflictOwnership(seen.conflicting, uid),
    adoptionRefusal: adoption && adoption.result.owns !== 'ours' ? adoption.result.refusal : undefined,
    upToDate: adopted
      ? adoptedNetworkMatches(adopted, obj)
      : keeper?.labels[OWNER_LABELS.specHash] === networkSpecHash(obj),
    violation:
      violations.length > 0 ? describeViolations(host.metadata.name, policy.level, violations) : undefined,
    current: keeper,
  };
  return { work, event: observedEvent(work, ctx.paused) };
}

/**
 * An external network (managed/external-object.ts): the one of that exact
 * name, never our duplicates or extras (nothing is removed).
 */
function externalNetworkOutcome(
  ctx: HostContext<DockerNetwork>,
  seen: { name: string; found: ObservedNetwork[]; violations: Violation[] },
): HostOutcome {
  const { name, violations } = seen;
  const { host } = ctx;
  const existing = seen.found.find((n) => n.name === name);
  const policy = hostPolicyOf(host.spec);
  return externalOutcome(ctx, {
    what: 'network',
    name,
    labels: existing?.labels,
    violation:
      violations.length > 0 ? describeViolations(host.metadata.name, policy.level, violations) : undefined,
    fields: { networkName: name, ...(existing ? { id: existing.id, subnets: existing.subnets } : {}) },
  });
}

function observedEvent(work: NetworkWork, paused: boolean): NetworkEvent {
  return {
    type: 'OBSERVED',
    exists: work.keeper !== undefined || work.conflict !== undefined,
    ownership: work.conflict ?? 'ours',
    upToDate: work.upToDate,
    inUse: (work.keeper?.containers.length ?? 0) > 0,
    policyViolation: work.violation !== undefined,
    paused,
  };
}
