import {
  ensureMachine,
  ensureMachineSpec,
  KEEP_EFFECTS,
  type EnsureContext,
  type EnsureEvent,
} from '../../managed/ensure-machine.js';

export const VOLUME_MACHINE_VERSION = 1;

export type VolumeMachineContext = EnsureContext;
export type VolumeEvent = EnsureEvent;

/**
 * A DockerVolume on one host: the shared ensure machine, never recreating
 * (phases Pending, Creating, Ready, NameConflict, RecreateRequired,
 * PolicyViolation, Paused). A volume cannot change in place, and its data is
 * never destroyed to apply a spec: a changed spec stalls in RecreateRequired.
 */
export const volumeMachine = ensureMachine({ id: 'dockervolume', recreate: 'never' });

export const volumeMachineSpec = ensureMachineSpec({
  machine: volumeMachine,
  version: VOLUME_MACHINE_VERSION,
  effects: KEEP_EFFECTS,
});
