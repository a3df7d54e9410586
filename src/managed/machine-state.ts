import type { MachineState } from '../crds/kit.js';
import type { SavedMachineState } from './machine-step.js';
import type { HostStatusEntry } from './types.js';

/**
 * The machine state a status saved (a host entry's, or a DockerHost's own),
 * merged over the machine's default context.
 */
export function savedFromEntry<C extends object>(
  entry: Pick<HostStatusEntry, 'machine'> | undefined,
  defaults: C,
): SavedMachineState<C> | undefined {
  const m = entry?.machine;
  if (!m) return undefined;
  return { state: m.state, version: m.version, context: { ...defaults, ...(m.context as Partial<C>) } };
}

/** What goes back into status.hosts[].machine. */
export function machineEntry<C extends object>(saved: SavedMachineState<C>): MachineState {
  return {
    state: saved.state,
    version: saved.version,
    context: { ...saved.context } as Record<string, unknown>,
  };
}
