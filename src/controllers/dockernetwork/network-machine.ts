import {
  ensureMachine,
  ensureMachineSpec,
  REPLACE_EFFECTS,
  type EnsureContext,
  type EnsureEvent,
} from '../../managed/ensure-machine.js';

export const NETWORK_MACHINE_VERSION = 1;

export type NetworkMachineContext = EnsureContext;
export type NetworkEvent = EnsureEvent;

/**
 * A DockerNetwork on one host: the shared ensure machine, replacing a network
 * whose spec changed once no container is attached (until then
 * RecreateRequired). Phases: Pending, Creating, Ready, NameConflict (a network
 * with its name is not ours: never touched), RecreateRequired,
 * PolicyViolation (nothing is created, recreated or removed), Paused.
 */
export const networkMachine = ensureMachine({ id: 'dockernetwork', recreate: 'whenUnused' });

export const networkMachineSpec = ensureMachineSpec({
  machine: networkMachine,
  version: NETWORK_MACHINE_VERSION,
  effects: REPLACE_EFFECTS,
});
