import type { DockerVolume } from '../../crds/dockervolume.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { volumeClient, type ObservedVolume } from '../../docker/volume-client.js';
import { machineEntry, savedFromEntry } from '../../managed/machine-state.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import {
  claimedBy,
  adoptionAdvice,
  type AdoptionRefusal,
  type AdoptionResult,
} from '../../managed/adoption.js';
import { canonicalJson, dockerName, ownerLabels, ownership, specHash } from '../../managed/ownership.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  ManagedKind,
} from '../../managed/types.js';
import { checkVolumePolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import { stepMachine } from '../../managed/machine-step.js';
import { VOLUME_MACHINE_VERSION, volumeMachine, type VolumeMachineContext } from './volume-machine.js';

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
  return {
    kind: OWNER_KIND,
    namespace: volume.metadata.namespace ?? '',
    name: volume.metadata.name,
    uid: volume.metadata.uid ?? '',
  };
}

/** Whether an adopted volume (which keeps its old labels) is what the spec asks for. */
export function adoptedVolumeMatches(observed: ObservedVolume, volume: DockerVolume): boolean {
  return (
    observed.driver === (volume.spec.driver ?? 'local') &&
    canonicalJson(observed.options) === canonicalJson(volume.spec.driverOptions ?? {})
  );
}

const STALLED_MESSAGES: Record<string, (name: string, host: string, refusal?: AdoptionRefusal) => string> = {
  NameConflict: (name, host, refusal) =>
    `a Docker volume named ${name} already exists on ${host} and is not owned by this DockerVolume; Dockyard never touches it. ` +
    `Remove or rename it, or set spec.volumeName to another name${adoptionAdvice(refusal)}`,
  RecreateRequired: (name, host) =>
    `volume ${name} on ${host} was created from a different spec, and a volume cannot change in place; Dockyard will not delete its data. ` +
    `To apply the new spec, back up and remove it yourself (docker volume rm ${name}) and Dockyard creates it anew; or revert the spec.`,
};

/** The DockerVolume kind for the managed reconciler. */
export const dockerVolumeKind: ManagedKind<DockerVolume> = {
  kind: OWNER_KIND,
  resource: { group: GROUP, version: VERSION, plural: 'dockervolumes' },
  dockerEventType: 'volume',
  defaultDeletionPolicy: 'Orphan',
  dockerNameOf: volumeNameOf,

  async reconcileHost(ctx: HostContext<DockerVolume>): Promise<HostOutcome> {
    const { obj, conn, host } = ctx;
    const hostName = host.metadata.name;
    const name = volumeNameOf(obj);
    const hash = volumeSpecHash(obj);
    const invalid = invalidNameOutcome(ctx, { explicit: obj.spec.volumeName, field: 'spec.volumeName' });
    if (invalid) return invalid;
    const hostPolicy = hostPolicyOf(host.spec);
    const policy = hostPolicy.level;
    const violations = checkVolumePolicy(hostPolicy, obj.spec);
    let observed = await volumeClient.observe(conn.api, name);
    let owns = observed ? ownership(observed.labels, owner(obj)) : undefined;
    const adoption =
      observed && owns !== 'ours' && ctx.adopt
        ? await ctx.adopt({
            type: 'volume',
            dockerName: name,
            labels: observed.labels,
            policy: obj.spec.adoptionPolicy ?? 'Never',
          })
        : undefined;
    if (adoption?.owns === 'ours') owns = 'ours';
    const adopted = adoption?.owns === 'ours' && adoption.adopted !== 'no';
    if (adoption?.owns === 'ours' && adoption.adopted === 'now')
      ctx.events.event(
        obj,
        'Normal',
        'Adopted',
        'Adopt',
        `adopted the existing volume ${name} on ${hostName}`,
      );
    let step = stepMachine(
      volumeMachine,
      VOLUME_MACHINE_VERSION,
      savedFromEntry<VolumeMachineContext>(ctx.previous, { repairs: 0 }),
      {
        type: 'OBSERVED',
        exists: observed !== undefined,
        ...(owns ? { ownership: owns } : {}),
        upToDate:
          observed && adopted
            ? adoptedVolumeMatches(observed, obj)
            : observed?.labels['dockyard.io/spec-hash'] === hash,
        policyViolation: violations.length > 0,
        paused: ctx.paused,
      },
    );
    const create = async (): Promise<readonly string[]> => {
      const created = await volumeClient.create(conn.api, {
        name,
        driver: obj.spec.driver ?? 'local',
        driverOptions: obj.spec.driverOptions ?? {},
        labels: {
          ...(obj.spec.labels ?? {}),
          ...ownerLabels(owner(obj), hash, obj.spec.deletionPolicy ?? 'Orphan', ctx.clusterId),
        },
      });
      observed = created;
      owns = ownership(created.labels, owner(obj));
      if (owns === 'ours') {
        step = stepMachine(volumeMachine, VOLUME_MACHINE_VERSION, step.saved, { type: 'CREATED' });
        return [];
      }
      // Docker handed back a volume someone else created since our observe: not ours to use.
      step = stepMachine(volumeMachine, VOLUME_MACHINE_VERSION, step.saved, {
        type: 'OBSERVED',
        exists: true,
        ownership: owns,
        paused: false,
      });
      return step.actions;
    };
    const actions: string[] = [...step.actions];
    while (actions.length > 0) {
      const action = actions.shift();
      switch (action) {
        case 'create': {
          // A name taken meanwhile: the conflict's own actions replace the rest (recordCreated…).
          const instead = await create();
          if (instead.length > 0) actions.splice(0, actions.length, ...instead);
          break;
        }
        case 'recordCreated':
          ctx.events.event(obj, 'Normal', 'Created', 'Create', `created volume ${name} on ${hostName}`);
          break;
        case 'recordDriftRepaired':
          ctx.metrics.driftRepaired(OWNER_KIND);
          ctx.events.event(
            obj,
            'Normal',
            'DriftRepaired',
            'Create',
            `volume ${name} was removed on ${hostName} outside Dockyard; created it again`,
          );
          break;
        case 'recordNameConflict':
          ctx.events.event(
            obj,
            'Warning',
            'NameConflict',
            'Create',
            STALLED_MESSAGES.NameConflict?.(name, hostName, refusalOf(adoption)) ?? '',
          );
          break;
        case 'recordRecreateRequired':
          ctx.events.event(
            obj,
            'Warning',
            'RecreateRequired',
            'Update',
            STALLED_MESSAGES.RecreateRequired?.(name, hostName) ?? '',
          );
          break;
        case 'recordPolicyViolation':
          ctx.events.event(
            obj,
            'Warning',
            'PolicyViolation',
            'Create',
            describeViolations(hostName, policy, violations),
          );
          break;
      }
    }
    const state = step.saved.state;
    const entry = {
      name: hostName,
      phase: state,
      volumeName: name,
      ...(observed || state === 'Ready' ? { id: name } : {}),
      ...(adopted ? { adopted: true } : {}),
      // Another owner's mount point is that tenant's business: shown only for ours.
      ...(owns === 'ours' && observed?.mountpoint ? { mountpoint: observed.mountpoint } : {}),
      machine: machineEntry(step.saved),
    };
    if (state === 'PolicyViolation') {
      const message = describeViolations(hostName, policy, violations);
      return { entry: { ...entry, message }, ready: false, stalled: { reason: 'PolicyViolation', message } };
    }
    const stalledMessage = STALLED_MESSAGES[state]?.(name, hostName, refusalOf(adoption));
    if (stalledMessage)
      return {
        entry: { ...entry, message: stalledMessage },
        ready: false,
        stalled: { reason: state, message: stalledMessage },
      };
    if (state === 'Paused') {
      const ready =
        owns === 'ours' &&
        (adopted && observed
          ? adoptedVolumeMatches(observed, obj)
          : observed?.labels['dockyard.io/spec-hash'] === hash);
      return { entry: { ...entry, message: 'paused (dockyard.io/paused): observing only' }, ready };
    }
    return { entry, ready: state === 'Ready' };
  },

  async finalizeHost(ctx: HostContext<DockerVolume>, policy: DeletionPolicy): Promise<FinalizeOutcome> {
    if (policy === 'Orphan') return { done: true };
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
  },
};

function refusalOf(adoption: AdoptionResult | undefined): AdoptionRefusal | undefined {
  return adoption && adoption.owns !== 'ours' ? adoption.refusal : undefined;
}
