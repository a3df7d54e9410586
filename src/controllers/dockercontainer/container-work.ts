import type { DockerContainer, DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import type { ContainerInputs } from '../../docker/container-spec.js';
import type { FileEntry } from '../../docker/files-image.js';
import type { AdoptionRefusal } from '../../managed/adoption.js';
import type { EffectTable, FlowRun } from '../../managed/host-flow.js';
import type { Ownership } from '../../managed/ownership.js';
import type { ImageAccessRecords } from '../dockerimage/image-access.js';
import type { ContainerOps, OpReport } from './background-ops.js';
import type { ContainerEffect, ContainerEvent, ContainerMachineContext } from './container-machine.js';
import type { ImagePin } from './image-admission.js';
import type { HeldAnnouncements } from './dependencies.js';
import type { DesiredContainer, DockerContainerKindDeps } from './desired-container.js';
import type { AsideMemory } from './replace.js';
import type { ContainerFacts, ContainerSituation } from './situation.js';

/** What one DockerContainer kind remembers across reconciles, besides status. */
export interface ContainerKindState {
  deps: DockerContainerKindDeps;
  /** Which credentials each image on each host was pulled or verified with (image-gate.ts). */
  imageAccess: ImageAccessRecords;
  /** The last DependencyNotReady said per container and host (dependencies.ts). */
  announced: HeldAnnouncements;
  /** Which owners this process settled per host: the steady state lists no containers (replace.ts). */
  asideMemory: AsideMemory;
  /** Pulls and stops off the reconcile workers (background-ops.ts). */
  ops: ContainerOps;
}

/** Whose the container at the name is (claimContainer). */
export interface ContainerClaim {
  owns: Ownership;
  /** Ours by adoption now: recreated from the spec, its volumes kept. */
  adopting: boolean;
  refusal?: AdoptionRefusal;
}

/** What the container flow knows about one host: observed first, then updated as it acts. */
export interface ContainerWork {
  /** The Docker name this resource asks for. */
  name: string;
  hostName: string;
  spec: DockerContainerSpec;
  /** The container at the name: as first observed, then as looked at again after acting. */
  observed: ObservedContainer | undefined;
  /** Ours as first observed: what update, reconnect, stop and recreate act on. */
  ours: ObservedContainer | undefined;
  claim: ContainerClaim | undefined;
  /** What it is created from, or what it waits for. */
  resolved: DesiredContainer;
  facts: ContainerFacts;
  /** What the machine first decided on (a container being removed reports itself). */
  situation: ContainerSituation;
  /** The host policy's refusal, described. */
  violations: string;
  /** The held dependencies the saved machine context remembered (announced once per change). */
  heldOnBefore: string | undefined;
  /** The container to start: ours, or the one just created. */
  id: string | undefined;
  /** Something was asked of Docker: look once more, and look again soon. */
  acted: boolean;
  /** Our create found the name taken by a container that is not ours: nothing more is done. */
  nameTaken: boolean;
  /** A pull or stop left running in the background: the host reports it (waitingOutcome). */
  background: OpReport | undefined;
  /** This reconcile started the background stop (its Stopping Event is said once). */
  stopStarted: boolean;
  /** A Failed container's last output, bounded and redacted (run-once.ts). */
  lastLogLines?: string;
  /** The digest the host's imagePolicy pinned spec.image to (image-admission.ts). */
  imagePin?: ImagePin;
}

export type ContainerRun = FlowRun<
  DockerContainer,
  ContainerWork,
  ContainerMachineContext,
  ContainerEffect,
  ContainerEvent
>;

export type ContainerEffects = EffectTable<
  DockerContainer,
  ContainerWork,
  ContainerMachineContext,
  ContainerEffect,
  ContainerEvent
>;

/** The inputs and hash to create from; undefined when a name cannot be told yet (nothing is created). */
export function creatable(
  work: ContainerWork,
): { inputs: ContainerInputs; hash: string; files?: FileEntry[] } | undefined {
  const { inputs, hash, files } = work.resolved;
  if (!inputs || hash === undefined) return undefined;
  return files && files.length > 0 ? { inputs, hash, files } : { inputs, hash };
}
