import type { DockerNetwork } from '../../crds/dockernetwork.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import { networkClient } from '../../docker/network-client.js';
import type { ReplaceEffect } from '../../managed/ensure-machine.js';
import type { EffectResult, EffectTable, FlowRun } from '../../managed/host-flow.js';
import type { NetworkEvent, NetworkMachineContext } from './network-machine.js';
import { nameConflictMessage, networkMessages, recreateRequiredMessage } from './network-messages.js';
import type { NetworkWork } from './network-observe.js';
import { networkCreateFor, OWNER_KIND } from './network-spec.js';

export type NetworkRun = FlowRun<
  DockerNetwork,
  NetworkWork,
  NetworkMachineContext,
  ReplaceEffect,
  NetworkEvent
>;

async function createNetwork({ ctx, work }: NetworkRun): Promise<EffectResult<NetworkEvent>> {
  const result = await networkClient.create(
    ctx.conn.api,
    ctx.conn.endpoint,
    networkCreateFor(ctx.obj, ctx.clusterId),
  );
  // The name was taken meanwhile (someone else won a race): record nothing; the next observe decides whose it is.
  if (!result.created) return { dropRest: true };
  work.current = result.network;
  return { send: { type: 'CREATED' } };
}

/** Replaces our network from an older spec; the machine asks only when nothing was attached. */
async function recreateNetwork(run: NetworkRun): Promise<EffectResult<NetworkEvent>> {
  const { ctx, work } = run;
  if (!work.keeper) return undefined;
  if ((await networkClient.remove(ctx.conn.api, work.keeper.id)) === 'inUse')
    throw new Error(
      networkMessages.attachedDuringRecreate(work.name, work.keeper.id, ctx.host.metadata.name),
    );
  work.current = undefined;
  return createNetwork(run);
}

/** An effect that records one Event, worded from the run. */
const event =
  (
    type: 'Normal' | 'Warning',
    reason: Reason | EventReason,
    action: string,
    message: (run: NetworkRun) => string,
  ) =>
  (run: NetworkRun) =>
    run.ctx.events.event(run.ctx.obj, type, reason, action, message(run));

const hostOf = (run: NetworkRun) => run.ctx.host.metadata.name;

/** The NameConflict wording: whether the network at the name is Dockyard's, and why it was not adopted. */
export const conflictMessage = (run: NetworkRun) =>
  nameConflictMessage({
    name: run.work.name,
    host: hostOf(run),
    conflicting: run.work.seen.conflicting[0],
    refusal: run.work.adoptionRefusal,
  });

/** The RecreateRequired wording, naming what is attached; undefined without a network of ours. */
export const recreateRequired = ({ ctx, work }: NetworkRun) =>
  work.keeper &&
  recreateRequiredMessage({
    name: work.name,
    host: ctx.host.metadata.name,
    network: work.keeper,
    namespace: ctx.namespace,
  });

export const networkEffects: EffectTable<
  DockerNetwork,
  NetworkWork,
  NetworkMachineContext,
  ReplaceEffect,
  NetworkEvent
> = {
  create: createNetwork,
  recreate: recreateNetwork,
  recordCreated: event('Normal', EventReason.Created, 'Create', (run) =>
    networkMessages.created(run.work.name, hostOf(run)),
  ),
  recordDriftRepaired: (run) => {
    run.ctx.metrics.driftRepaired(OWNER_KIND);
    event('Normal', EventReason.DriftRepaired, 'Create', (r) =>
      networkMessages.driftRepaired(r.work.name, hostOf(r)),
    )(run);
  },
  recordRecreated: event('Normal', EventReason.Recreated, 'Update', (run) =>
    networkMessages.recreated(run.work.name, hostOf(run)),
  ),
  recordNameConflict: event('Warning', Reason.NameConflict, 'Create', conflictMessage),
  recordPolicyViolation: event(
    'Warning',
    Reason.PolicyViolation,
    'Create',
    ({ work }) => work.violation ?? '',
  ),
  recordRecreateRequired: (run) => {
    // Reached only with a network of ours in use; without one there is nothing to describe.
    const message = recreateRequired(run);
    if (message) event('Warning', Reason.RecreateRequired, 'Update', () => message)(run);
  },
};
