import { EventReason, Reason } from '../../crds/reasons.js';
import type { DockerVolume, DockerVolumeStatus } from '../../crds/dockervolume.js';
import { GROUP, OWNER_LABELS, VERSION } from '../../crds/kit.js';
import { volumeClient, type ObservedVolume } from '../../docker/volume-client.js';
import { machineEntry } from '../../managed/machine-state.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import { claimedBy, adoptionAdvice, type AdoptionRefusal } from '../../managed/adoption.js';
import type { KeepEffect } from '../../managed/ensure-machine.js';
import { externalOutcome, type ExternalLook } from '../../managed/external-object.js';
import {
  defineKind,
  type DescribedKind,
  phaseIn,
  type Concluded,
  type EffectResult,
  type EffectTable,
  type FlowRun,
  type Observed,
} from '../../managed/host-flow.js';
import {
  canonicalJson,
  dockerName,
  ownerLabels,
  ownerRefOf,
  ownership,
  specHash,
  type Ownership,
} from '../../managed/ownership.js';
import type { FinalizeOutcome, HostContext, HostOutcome } from '../../managed/types.js';
import { checkVolumePolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import { volumeMachineSpec, type VolumeEvent, type VolumeMachineContext } from './volume-machine.js';

const OWNER_KIND = 'DockerVolume';

/** Only what the user specified that reaches Docker; placement and deletionPolicy are not part of it. */
export function volumeSpecHash(volume: DockerVolume): string {
  const s = volume.spec;
  return specHash({
    name: volumeNameOf(volume),
    driver: s.driver ?? 'local',
    driverOptions: s.driverOptions ?? {},
    labels: s.labels ?? {},
  });
}

export function volumeNameOf(volume: DockerVolume): string {
  return dockerName(volume.metadata.namespace ?? '', volume.metadata.name, volume.spec.volumeName);
}

function owner(volume: DockerVolume) {
  return ownerRefOf(OWNER_KIND, volume);
}

/** Whether an adopted volume (which keeps its old labels) is what the spec asks for. */
export function adoptedVolumeMatches(observed: ObservedVolume, volume: DockerVolume): boolean {
  return (
    observed.driver === (volume.spec.driver ?? 'local') &&
    canonicalJson(observed.options) === canonicalJson(volume.spec.driverOptions ?? {})
  );
}

/** What the volume flow knows about one host: observed first, then updated as it acts. */
interface VolumeWork {
  name: string;
  hash: string;
  observed: ObservedVolume | undefined;
  owns: Ownership | undefined;
  /** Ours by adoption (it keeps the labels it had, so the spec hash is not on it). */
  adopted: boolean;
  refusal: AdoptionRefusal | undefined;
  /** The host policy's refusal of the spec, described; undefined when it allows it. */
  violation: string | undefined;
}

/** This kind's status.hosts[] entry, as its CRD declares it. */
type VolumeHostEntry = NonNullable<DockerVolumeStatus['hosts']>[number];

type VolumeRun = FlowRun<DockerVolume, VolumeWork, VolumeMachineContext, KeepEffect, VolumeEvent>;

const messages = {
  nameConflict: (w: VolumeWork, host: string) =>
    `a Docker volume named ${w.name} already exists on ${host} and is not owned by this DockerVolume; Dockyard never touches it. ` +
    `Remove or rename it, or set spec.volumeName to another name${adoptionAdvice(w.refusal)}`,
  recreateRequired: (w: VolumeWork, host: string) =>
    `volume ${w.name} on ${host} was created from a different spec, and a volume cannot change in place; Dockyard will not delete its data. ` +
    `To apply the new spec, back up and remove it yourself (docker volume rm ${w.name}) and Dockyard creates it anew; or revert the spec.`,
};

/** Stalled phases, named as the reasons they stall with: nothing changes until the user acts. */
const STALLED = {
  [Reason.PolicyViolation]: (w: VolumeWork) => w.violation ?? '',
  [Reason.NameConflict]: messages.nameConflict,
  [Reason.RecreateRequired]: messages.recreateRequired,
} satisfies Partial<Record<Reason, (w: VolumeWork, host: string) => string>>;

/** Whether the volume on the host is ours and as the spec asks. */
function matchesSpec(w: VolumeWork, volume: DockerVolume): boolean {
  if (w.owns !== 'ours' || !w.observed) return false;
  return w.adopted
    ? adoptedVolumeMatches(w.observed, volume)
    : w.observed.labels[OWNER_LABELS.specHash] === w.hash;
}

async function observeVolume(
  ctx: HostContext<DockerVolume>,
): Promise<Observed<VolumeWork, VolumeEvent> | Concluded> {
  const { obj, host } = ctx;
  const invalid = invalidNameOutcome(ctx, { explicit: obj.spec.volumeName, field: 'spec.volumeName' });
  if (invalid) return { outcome: invalid };
  const policy = hostPolicyOf(host.spec);
  const violations = checkVolumePolicy(policy, obj.spec);
  const name = volumeNameOf(obj);
  const observed = await volumeClient.observe(ctx.conn.api, name);
  if (obj.spec.external) {
    const look: ExternalLook = {
      what: 'volume',
      name,
      labels: observed?.labels,
      violation:
        violations.length > 0 ? describeViolations(host.metadata.name, policy.level, violations) : undefined,
      fields: { id: name, volumeName: name },
    };
    return { outcome: externalOutcome(ctx, look) };
  }
  const labelled = observed ? ownership(observed.labels, owner(obj)) : undefined;
  const adoption =
    observed && labelled !== 'ours' && ctx.adopt
      ? await ctx.adopt({
          type: 'volume',
          dockerName: name,
          labels: observed.labels,
          policy: obj.spec.adoptionPolicy ?? 'Never',
        })
      : undefined;
  if (adoption?.owns === 'ours' && adoption.adopted === 'now')
    ctx.events.event(
      obj,
      'Normal',
      EventReason.Adopted,
      'Adopt',
      `adopted the existing volume ${name} on ${host.metadata.name}`,
    );
  const work: VolumeWork = {
    name,
    hash: volumeSpecHash(obj),
    observed,
    owns: adoption?.owns === 'ours' ? 'ours' : labelled,
    adopted: adoption?.owns === 'ours' && adoption.adopted !== 'no',
    refusal: adoption && adoption.owns !== 'ours' ? adoption.refusal : undefined,
    violation:
      violations.length > 0 ? describeViolations(host.metadata.name, policy.level, violations) : undefined,
  };
  return {
    work,
    event: {
      type: 'OBSERVED',
      exists: observed !== undefined,
      ...(work.owns ? { ownership: work.owns } : {}),
      upToDate: matchesSpec(work, obj),
      policyViolation: work.violation !== undefined,
      paused: ctx.paused,
    },
  };
}

async function createVolume({ ctx, work }: VolumeRun): Promise<EffectResult<VolumeEvent>> {
  const { obj } = ctx;
  const created = await volumeClient.create(ctx.conn.api, {
    name: work.name,
    driver: obj.spec.driver ?? 'local',
    driverOptions: obj.spec.driverOptions ?? {},
    labels: {
      ...(obj.spec.labels ?? {}),
      ...ownerLabels(owner(obj), {
        specHash: work.hash,
        deletionPolicy: obj.spec.deletionPolicy ?? 'Orphan',
        clusterId: ctx.clusterId,
      }),
    },
  });
  work.observed = created;
  work.owns = ownership(created.labels, owner(obj));
  if (work.owns === 'ours') return { send: { type: 'CREATED' } };
  // Docker handed back a volume someone else created since our observe: not ours to use.
  return { send: { type: 'OBSERVED', exists: true, ownership: work.owns, paused: false }, dropRest: true };
}

const event =
  (
    type: 'Normal' | 'Warning',
    reason: Reason | EventReason,
    action: string,
    message: (run: VolumeRun) => string,
  ) =>
  (run: VolumeRun) =>
    run.ctx.events.event(run.ctx.obj, type, reason, action, message(run));

const volumeEffects: EffectTable<DockerVolume, VolumeWork, VolumeMachineContext, KeepEffect, VolumeEvent> = {
  create: createVolume,
  recordCreated: event(
    'Normal',
    'Created',
    'Create',
    ({ ctx, work }) => `created volume ${work.name} on ${ctx.host.metadata.name}`,
  ),
  recordDriftRepaired: (run) => {
    run.ctx.metrics.driftRepaired(OWNER_KIND);
    event(
      'Normal',
      EventReason.DriftRepaired,
      'Create',
      ({ ctx, work }) =>
        `volume ${work.name} was removed on ${ctx.host.metadata.name} outside Dockyard; created it again`,
    )(run);
  },
  recordNameConflict: event('Warning', Reason.NameConflict, 'Create', ({ ctx, work }) =>
    messages.nameConflict(work, ctx.host.metadata.name),
  ),
  recordRecreateRequired: event('Warning', Reason.RecreateRequired, 'Update', ({ ctx, work }) =>
    messages.recreateRequired(work, ctx.host.metadata.name),
  ),
  recordPolicyViolation: event(
    'Warning',
    Reason.PolicyViolation,
    'Create',
    ({ work }) => work.violation ?? '',
  ),
};

function reportVolume({ ctx, work, step }: VolumeRun): HostOutcome {
  const hostName = ctx.host.metadata.name;
  const state = step.saved.state;
  const entry: VolumeHostEntry = {
    name: hostName,
    phase: state,
    volumeName: work.name,
    ...(work.observed || state === 'Ready' ? { id: work.name } : {}),
    ...(work.adopted ? { adopted: true } : {}),
    // Another owner's mount point is that tenant's business: shown only for ours.
    ...(work.owns === 'ours' && work.observed?.mountpoint ? { mountpoint: work.observed.mountpoint } : {}),
    machine: machineEntry(step.saved),
  };
  if (phaseIn(STALLED, state)) {
    const message = STALLED[state](work, hostName);
    return { entry: { ...entry, message }, ready: false, stalled: { reason: state, message } };
  }
  if (state === 'Paused')
    return {
      entry: { ...entry, message: 'paused (dockyard.io/paused): observing only' },
      ready: matchesSpec(work, ctx.obj),
    };
  return { entry, ready: state === 'Ready' };
}

async function deleteVolume(ctx: HostContext<DockerVolume>): Promise<FinalizeOutcome> {
  // An external volume is never Dockyard's to remove, whatever deletionPolicy says.
  if (ctx.obj.spec.external) return { done: true };
  const name = volumeNameOf(ctx.obj);
  const observed = await volumeClient.observe(ctx.conn.api, name);
  // Gone, or not ours: nothing of ours to delete (a foreign volume is never touched).
  const ours =
    observed &&
    (ownership(observed.labels, owner(ctx.obj)) === 'ours' ||
      claimedBy(ctx.host, 'volume', name, owner(ctx.obj)));
  if (!ours) return { done: true };
  const result = await volumeClient.delete(ctx.conn.api, name);
  if (result === 'inUse')
    return { done: false, message: `volume ${name} is in use by a container; remove the container first` };
  return { done: true };
}

/** The DockerVolume kind for the managed reconciler. */
export const dockerVolumeKind: DescribedKind<DockerVolume> = defineKind({
  kind: OWNER_KIND,
  resource: { group: GROUP, version: VERSION, plural: 'dockervolumes' },
  dockerEventType: 'volume',
  defaultDeletionPolicy: 'Orphan',
  dockerNameOf: volumeNameOf,
  flow: {
    machine: volumeMachineSpec,
    observe: observeVolume,
    effects: volumeEffects,
    report: reportVolume,
  },
  delete: deleteVolume,
});
