// The pure heart of the DockerContainer controller: spec → Docker create
// options, the recreate hash, what can change in place (update body, network
// connections) and why a container must be recreated. No I/O here.
//
// One module per section under container-spec/; this file gathers them so
// callers import one name. The Engine 20.10 facts each section relies on are
// stated where they are used, each seen on a real daemon
// (test/integration/container-client.test.ts).
export {
  DEFAULT_BRIDGE,
  DEFAULT_RESTART_POLICY,
  UnresolvedReferenceError,
  type ContainerInputs,
} from './container-spec/inputs.js';
export {
  groupHashes,
  parseGroupHashes,
  recreateGroups,
  recreateHash,
  SPEC_GROUPS_LABEL,
} from './container-spec/recreate-hash.js';
export { stopTimeoutSeconds, toCreateOptions } from './container-spec/create-options.js';
export { inheritedVolumes, type InheritedVolume } from './container-spec/inherited-volumes.js';
export {
  desiredUpdate,
  removedLimits,
  updateNeeded,
  type DesiredUpdate,
} from './container-spec/in-place-update.js';
export {
  createAttachesAll,
  networkChanges,
  type NetworkChanges,
  type NetworkConnect,
} from './container-spec/network-changes.js';
export { needsRecreate, recreateReasons } from './container-spec/why-recreate.js';
