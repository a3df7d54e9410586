import type { DockerNetwork } from '../../crds/dockernetwork.js';
import { GROUP, OWNER_LABELS, VERSION } from '../../crds/kit.js';
import { networkClient, type ObservedNetwork } from '../../docker/network-client.js';
import { machineEntry, savedFromEntry } from '../../managed/machine-state.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import {
  adoptionAdvice,
  claimedBy,
  type AdoptionRefusal,
  type AdoptionResult,
} from '../../managed/adoption.js';
import { ownership } from '../../managed/ownership.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  HostStatusEntry,
  ManagedKind,
} from '../../managed/types.js';
import { checkNetworkPolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import { stepMachine } from '../../managed/machine-step.js';
import { conflictOwnership, describeAttached, sortNetworks } from './network-duplicates.js';
import { NETWORK_MACHINE_VERSION, networkMachine, type NetworkMachineContext } from './network-machine.js';
import { networkCreateFor, networkNameOf, networkSpecHash, OWNER_KIND, ownerOf } from './network-spec.js';

const uidLabel = (network: DockerNetwork) => `${OWNER_LABELS.uid}=${network.metadata.uid ?? ''}`;
const short = (id: string) => id.slice(0, 12);
const names = (n: ObservedNetwork, namespace: string) =>
  describeAttached(
    n.containers.map((c) => c.name),
    namespace,
  );

/**
 * Names only what this resource's owner may know: whether the network is
 * another Dockyard resource's or not Dockyard's at all, never whose (that
 * may be another tenant's namespace and name).
 */
export function nameConflictMessage(
  name: string,
  host: string,
  conflicting: ObservedNetwork | undefined,
  refusal?: AdoptionRefusal,
): string {
  const whose =
    conflicting && conflicting.labels[OWNER_LABELS.uid] !== undefined
      ? ' (it belongs to another Dockyard resource)'
      : '';
  return (
    `a Docker network named ${name} already exists on ${host} and is not owned by this DockerNetwork${whose}; ` +
    `Dockyard never touches it. Remove or rename it, or set spec.networkName to another name${adoptionAdvice(refusal)}`
  );
}

function recreateRequiredMessage(
  name: string,
  host: string,
  network: ObservedNetwork,
  namespace: string,
): string {
  return (
    `network ${name} on ${host} was created from a different spec, and a network cannot change in place; ` +
    `it is in use by ${names(network, namespace)}. Dockyard recreates it once no container is attached ` +
    '(disconnect or remove them), or revert the spec.'
  );
}

/**
 * Removes our extra networks (racing duplicates, or ours under an old name)
 * that nothing is attached to; returns those that stay, as message parts.
 */
async function removeExtras(
  ctx: HostContext<DockerNetwork>,
  extras: readonly ObservedNetwork[],
  why: 'duplicate' | 'renamed',
  keeper?: ObservedNetwork,
): Promise<string[]> {
  const kept: string[] = [];
  const hostName = ctx.host.metadata.name;
  for (const extra of extras) {
    const label = `${why === 'duplicate' ? 'duplicate network' : 'network'} ${extra.name} (${short(extra.id)})`;
    if (extra.containers.length === 0 && (await networkClient.remove(ctx.conn.api, extra.id)) === 'removed') {
      ctx.logger.info({ network: extra.id, why }, 'removed extra network');
      ctx.events.event(
        ctx.obj,
        'Normal',
        why === 'duplicate' ? 'DuplicateRemoved' : 'Removed',
        'Delete',
        why === 'duplicate'
          ? `removed ${label} on ${hostName}: it had the same name as ${keeper ? short(keeper.id) : 'ours'}, which is kept`
          : `removed ${label} on ${hostName}: spec.networkName changed`,
      );
      continue;
    }
    kept.push(
      `${label} is kept: in use by ${extra.containers.length > 0 ? names(extra, ctx.namespace) : 'a container'}`,
    );
  }
  return kept;
}

/** Whether an adopted network (which keeps its old labels) is what the spec asks for. */
export function adoptedNetworkMatches(n: ObservedNetwork, network: DockerNetwork): boolean {
  const subnets = (network.spec.ipam?.config ?? []).flatMap((c) => (c.subnet ? [c.subnet] : []));
  return n.driver === (network.spec.driver ?? 'bridge') && subnets.every((s) => n.subnets.includes(s));
}

/**
 * With none of ours at the name, the one network there may be taken over
 * (spec.adoptionPolicy); two or more of that name are ambiguous and never are.
 */
async function adoptNetwork(
  ctx: HostContext<DockerNetwork>,
  name: string,
  seen: ReturnType<typeof sortNetworks>,
): Promise<{ network: ObservedNetwork; result: AdoptionResult } | undefined> {
  const [only, ...more] = seen.conflicting;
  if (seen.keeper || !only || more.length > 0 || !ctx.adopt) return undefined;
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
      'Adopted',
      'Adopt',
      `adopted the existing network ${name} on ${ctx.host.metadata.name}`,
    );
  return { network: only, result };
}

/** The DockerNetwork kind for the managed reconciler. */
export const dockerNetworkKind: ManagedKind<DockerNetwork> = {
  kind: OWNER_KIND,
  resource: { group: GROUP, version: VERSION, plural: 'dockernetworks' },
  dockerEventType: 'network',
  defaultDeletionPolicy: 'Delete',
  dockerNameOf: networkNameOf,

  async reconcileHost(ctx: HostContext<DockerNetwork>): Promise<HostOutcome> {
    const { obj, conn, host } = ctx;
    const hostName = host.metadata.name;
    const name = networkNameOf(obj);
    const hash = networkSpecHash(obj);
    const uid = obj.metadata.uid ?? '';
    const invalid = invalidNameOutcome(ctx, { explicit: obj.spec.networkName, field: 'spec.networkName' });
    if (invalid) return invalid;
    const policy = hostPolicyOf(host.spec);
    const violations = checkNetworkPolicy(policy, obj.spec);
    const refusal = describeViolations(hostName, policy.level, violations);
    const seen = sortNetworks(await networkClient.observe(conn.api, name, uidLabel(obj)), {
      name,
      uid,
      statusId: ctx.previous?.id,
    });
    // Paused: observe only, extras stay too.
    const keptDuplicates = ctx.paused
      ? []
      : await removeExtras(ctx, seen.duplicates, 'duplicate', seen.keeper);
    const keptRenamed = ctx.paused ? [] : await removeExtras(ctx, seen.renamed, 'renamed');

    const adoption = await adoptNetwork(ctx, name, seen);
    const adopted = adoption?.result.owns === 'ours' ? adoption.network : undefined;
    const keeper = seen.keeper ?? adopted;
    const conflict = adopted ? undefined : conflictOwnership(seen.conflicting, uid);
    const refused = adoption && adoption.result.owns !== 'ours' ? adoption.result.refusal : undefined;
    const upToDate = adopted
      ? adoptedNetworkMatches(adopted, obj)
      : keeper?.labels[OWNER_LABELS.specHash] === hash;
    let step = stepMachine(
      networkMachine,
      NETWORK_MACHINE_VERSION,
      savedFromEntry<NetworkMachineContext>(ctx.previous, { repairs: 0 }),
      {
        type: 'OBSERVED',
        exists: keeper !== undefined || conflict !== undefined,
        ownership: conflict ?? 'ours',
        upToDate,
        inUse: (keeper?.containers.length ?? 0) > 0,
        policyViolation: violations.length > 0,
        paused: ctx.paused,
      },
    );
    let current = keeper;
    // A create that found the name taken (someone else won a race) records nothing; the next observe decides.
    let lostRace = false;
    const create = async () => {
      const result = await networkClient.create(
        conn.api,
        conn.endpoint,
        networkCreateFor(obj, ctx.clusterId),
      );
      if (!result.created) {
        lostRace = true;
        return;
      }
      current = result.network;
      step = stepMachine(networkMachine, NETWORK_MACHINE_VERSION, step.saved, { type: 'CREATED' });
    };
    for (const action of step.actions) {
      switch (action) {
        case 'create':
          await create();
          break;
        case 'recreate': {
          if (!keeper) break;
          if ((await networkClient.remove(conn.api, keeper.id)) === 'inUse')
            throw new Error(
              `network ${name} (${short(keeper.id)}) on ${hostName}: a container attached while it was being recreated`,
            );
          current = undefined;
          await create();
          break;
        }
        case 'recordCreated':
          if (!lostRace)
            ctx.events.event(obj, 'Normal', 'Created', 'Create', `created network ${name} on ${hostName}`);
          break;
        case 'recordDriftRepaired':
          if (lostRace) break;
          ctx.metrics.driftRepaired(OWNER_KIND);
          ctx.events.event(
            obj,
            'Normal',
            'DriftRepaired',
            'Create',
            `network ${name} was removed on ${hostName} outside Dockyard; created it again`,
          );
          break;
        case 'recordRecreated':
          if (!lostRace)
            ctx.events.event(
              obj,
              'Normal',
              'Recreated',
              'Update',
              `network ${name} on ${hostName} was created from a different spec and nothing was attached; recreated it`,
            );
          break;
        case 'recordNameConflict':
          ctx.events.event(
            obj,
            'Warning',
            'NameConflict',
            'Create',
            nameConflictMessage(name, hostName, seen.conflicting[0], refused),
          );
          break;
        case 'recordPolicyViolation':
          ctx.events.event(obj, 'Warning', 'PolicyViolation', 'Create', refusal);
          break;
        case 'recordRecreateRequired':
          if (keeper)
            ctx.events.event(
              obj,
              'Warning',
              'RecreateRequired',
              'Update',
              recreateRequiredMessage(name, hostName, keeper, ctx.namespace),
            );
          break;
      }
    }

    const state = step.saved.state;
    const entry: HostStatusEntry = {
      name: hostName,
      phase: state,
      networkName: name,
      ...(current ? { id: current.id, subnets: current.subnets } : {}),
      ...(adopted && current === adopted ? { adopted: true } : {}),
      machine: machineEntry(step.saved),
    };
    const notes = [...keptDuplicates, ...keptRenamed];
    const withNotes = (message?: string) => {
      const text = [...(message ? [message] : []), ...notes].join('; ');
      return text ? { ...entry, message: text } : entry;
    };
    if (state === 'PolicyViolation') {
      return {
        entry: withNotes(refusal),
        ready: false,
        stalled: { reason: 'PolicyViolation', message: refusal },
      };
    }
    if (state === 'NameConflict') {
      const message = nameConflictMessage(name, hostName, seen.conflicting[0], refused);
      return { entry: withNotes(message), ready: false, stalled: { reason: 'NameConflict', message } };
    }
    if (state === 'RecreateRequired' && keeper) {
      const message = recreateRequiredMessage(name, hostName, keeper, ctx.namespace);
      return { entry: withNotes(message), ready: false, stalled: { reason: 'RecreateRequired', message } };
    }
    if (state === 'Paused') {
      const ready = keeper !== undefined && conflict === undefined && upToDate;
      return { entry: withNotes('paused (dockyard.io/paused): observing only'), ready };
    }
    if (keptDuplicates.length > 0 && state === 'Ready') {
      // Docker resolves the name ambiguously while both exist; try again once the other one is free.
      const message = `${keptDuplicates.join('; ')}; Docker cannot resolve the name ${name} while it is duplicated`;
      return {
        entry: { ...withNotes(), phase: 'DuplicateNetworks' },
        ready: false,
        failure: { reason: 'DuplicateNetworks', message },
      };
    }
    return { entry: withNotes(), ready: state === 'Ready' };
  },

  async finalizeHost(ctx: HostContext<DockerNetwork>, policy: DeletionPolicy): Promise<FinalizeOutcome> {
    if (policy === 'Orphan') return { done: true };
    const name = networkNameOf(ctx.obj);
    const found = await networkClient.observe(ctx.conn.api, name, uidLabel(ctx.obj));
    // Ours only, under any name (duplicates and old names too); a foreign network is never touched.
    const claimed = claimedBy(ctx.host, 'network', name, ownerOf(ctx.obj));
    const ours = found.filter(
      (n) => ownership(n.labels, ownerOf(ctx.obj)) === 'ours' || (claimed && n.name === name),
    );
    const busy: string[] = [];
    for (const n of ours) {
      // Nothing is disconnected: a network in use stays, and so does the finalizer.
      if (n.containers.length > 0) busy.push(...n.containers.map((c) => c.name));
      else if ((await networkClient.remove(ctx.conn.api, n.id)) === 'inUse') busy.push('a container');
    }
    if (busy.length === 0) return { done: true };
    return {
      done: false,
      message: `network ${name} on ${ctx.host.metadata.name} is in use by ${describeAttached([...new Set(busy)], ctx.namespace)}; remove or disconnect them first`,
    };
  },
};
