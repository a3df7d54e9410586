// Why a container must be recreated, and which spec fields the Recreated
// Event names.
import { OWNER_LABELS } from '../../crds/kit.js';
import type { ObservedContainer } from '../container-client.js';
import { removedLimits } from './in-place-update.js';
import type { ContainerInputs, Spec } from './inputs.js';
import { groupHashes, parseGroupHashes, recreateHash, SPEC_GROUPS_LABEL } from './recreate-hash.js';

/** Spec field names for the recreate groups, as shown in the Recreated Event. */
const GROUP_FIELDS: Record<string, string> = {
  name: 'containerName',
  image: 'image',
  command: 'command/args',
  workingDir: 'workingDir',
  user: 'user',
  hostname: 'hostname',
  env: 'env',
  files: 'files',
  ports: 'ports',
  mounts: 'mounts',
  macAddress: 'networks[0].macAddress',
  networkContainer: 'security.networkContainer (its container was recreated)',
  healthcheck: 'healthcheck',
  security: 'security',
  labels: 'labels',
  stopSignal: 'stopSignal',
  logging: 'logging',
  shmSize: 'resources.shmSize',
};

/**
 * Whether the container must be recreated: its spec-hash label differs from
 * the spec, or it carries a limit the spec dropped and Docker cannot remove
 * in place.
 */
export function needsRecreate(spec: Spec, inputs: ContainerInputs, observed: ObservedContainer): boolean {
  return (
    observed.labels[OWNER_LABELS.specHash] !== recreateHash(spec, inputs) ||
    removedLimits(spec, observed).length > 0
  );
}

/**
 * Which spec fields differ from what the container was created from, for
 * the Recreated Event. Precise when the container carries the spec-groups
 * label Dockyard sets at create; otherwise it can tell only the image, and
 * falls back to "spec changed". Empty when nothing differs.
 */
export function recreateReasons(spec: Spec, inputs: ContainerInputs, observed: ObservedContainer): string[] {
  const reasons: string[] = [];
  const hashDiffers = observed.labels[OWNER_LABELS.specHash] !== recreateHash(spec, inputs);
  if (hashDiffers) {
    const old = parseGroupHashes(observed.labels[SPEC_GROUPS_LABEL]);
    if (old) {
      const now = parseGroupHashes(groupHashes(spec, inputs)) ?? new Map<string, string>();
      for (const group of [...new Set([...old.keys(), ...now.keys()])].sort()) {
        if (old.get(group) !== now.get(group)) reasons.push(GROUP_FIELDS[group] ?? group);
      }
    } else if (observed.image !== inputs.image) {
      reasons.push('image');
    }
    if (reasons.length === 0) reasons.push('spec changed');
  }
  reasons.push(...removedLimits(spec, observed).map((field) => `${field} removed`));
  return reasons;
}
