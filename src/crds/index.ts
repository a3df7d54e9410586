// The Dockyard API, group dockyard.io version v1alpha1: every kind.
import { dockerBuildDefinition } from './dockerbuild.js';
import { dockerComposeStackDefinition } from './dockercomposestack.js';
import { dockerContainerDefinition } from './dockercontainer.js';
import { dockerHostDefinition } from './dockerhost.js';
import { dockerImageDefinition } from './dockerimage.js';
import { dockerNetworkDefinition } from './dockernetwork.js';
import { dockerServiceDefinition } from './dockerservice.js';
import { dockerVolumeDefinition } from './dockervolume.js';
import type { KindDefinition } from './kit.js';

export * from './kit.js';
export * from './dockerhost.js';
export * from './image-policy.js';
export * from './dockerimage.js';
export * from './dockerbuild.js';
export * from './dockernetwork.js';
export * from './dockervolume.js';
export * from './dockercontainer.js';
export * from './dockerservice.js';
export * from './dockercomposestack.js';

export const ALL_KINDS: readonly KindDefinition[] = [
  dockerHostDefinition,
  dockerImageDefinition,
  dockerBuildDefinition,
  dockerNetworkDefinition,
  dockerVolumeDefinition,
  dockerContainerDefinition,
  dockerServiceDefinition,
  dockerComposeStackDefinition,
];
