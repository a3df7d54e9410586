import type { ObservedContainer } from '../../docker/container-client.js';
import { adoptionAdvice, type AdoptionRefusal } from '../../managed/adoption.js';
import { heldMessage, type DependencyStatus } from './dependencies.js';
import type { EnvResolution } from './env-resolver.js';

// What the container kind says, in Events and in status: the wording in one
// place, so the effects and the report read as what happens, not how it is put.

/** `code 1`, or `code 137 (OOMKilled)` when the kernel killed it for memory. */
export function exitDescription(o: ObservedContainer | undefined): string {
  return `code ${o?.state.exitCode ?? '?'}${o?.state.oomKilled ? ' (OOMKilled)' : ''}`;
}

/** Why it waits: a missing Secret or ConfigMap, else the dependencies not ready here (empty: none). */
export function waitingMessage(missing: readonly string[], env: EnvResolution | undefined): string {
  if (env && !env.ok) return env.message;
  return missing.length > 0 ? `waiting for ${missing.join(', ')} to be ready on this host` : '';
}

export function containerConflictMessage(
  name: string,
  host: string,
  refusal: AdoptionRefusal | undefined,
): string {
  return (
    `a container named ${name} already exists on ${host} and is not owned by this DockerContainer; ` +
    `Dockyard never touches it. Remove or rename it, or set spec.containerName to another name${adoptionAdvice(refusal)}`
  );
}

/** Event messages; `name` is the container's Docker name, `host` the DockerHost. */
export const eventMessages = {
  created: (name: string, host: string) => `created and started ${name} on ${host}`,
  driftRepaired: (name: string, host: string, found: ObservedContainer | undefined) =>
    `${name} on ${host} was ${found ? 'stopped' : 'removed'} outside Dockyard; put it back`,
  updated: (name: string, host: string) => `updated ${name} on ${host} in place (restart policy / resources)`,
  stopped: (name: string, host: string) => `stopped ${name} on ${host} (spec.state: Stopped)`,
  /** `stopping` is the background stop's own message (stoppingMessage). */
  stopping: (stopping: string, host: string) => `${stopping} on ${host} (spec.state: Stopped)`,
  stoppingToRecreate: (stopping: string, host: string) => `${stopping} on ${host}`,
  /** A failure seen on a host: Docker's or the registry's message. */
  onHost: (host: string, message: string) => `on ${host}: ${message}`,
  healthy: (name: string, host: string) => `${name} on ${host} is healthy`,
  unhealthy: (name: string, host: string) => `${name} on ${host} is unhealthy: its healthcheck fails`,
  backOff: (name: string, host: string, found: ObservedContainer | undefined) =>
    `${name} on ${host} keeps exiting (restart count ${found?.state.restartCount ?? 0}); Docker is restarting it per its restart policy`,
  failed: (name: string, host: string, found: ObservedContainer | undefined) =>
    `${name} on ${host} exited with ${exitDescription(found)} and its restart policy keeps it stopped`,
  completed: (name: string, host: string) =>
    `${name} on ${host} ran to completion (exit code 0); it is not started again unless dockyard.io/rerun changes`,
  rerun: (name: string, host: string, value: string | undefined) =>
    `starting ${name} on ${host} again: dockyard.io/rerun is now ${JSON.stringify(value ?? '')}`,
  oomKilled: (
    name: string,
    host: string,
    f: { found: ObservedContainer | undefined; retries: number; maxRetries: number | undefined },
  ) =>
    `${name} on ${host} was killed for running out of memory (exit code ${f.found?.state.exitCode ?? '?'}); starting it again under restart policy on-failure (Dockyard's restart ${f.retries} of ${f.maxRetries || 'unlimited'})`,
  adopted: (name: string, host: string) =>
    `adopted the existing container ${name} on ${host}: recreated from this spec, its volumes kept`,
  recreated: (name: string, host: string, changed: readonly string[]) =>
    `recreated ${name} on ${host}: ${changed.join(', ')} changed`,
  held: (name: string, host: string, held: readonly DependencyStatus[]) =>
    `${name} on ${host}: ${heldMessage(held)}`,
};

/** Host entry messages (status.hosts[].message) and the condition messages beside them. */
export const statusMessages = {
  removing: (name: string) =>
    `${name} is being removed outside Dockyard; it is put back once Docker has removed it`,
  failed: (found: ObservedContainer | undefined) =>
    `exited with ${exitDescription(found)}; its restart policy keeps it stopped`,
  crashLoop: (found: ObservedContainer | undefined) =>
    `keeps exiting (exit code ${found?.state.exitCode ?? '?'}, ${found?.state.restartCount ?? 0} restarts)`,
  unhealthy: 'healthcheck failing',
  completed: 'ran to completion (exit code 0); set a new dockyard.io/rerun value to run it again',
  cycle: (cycle: readonly string[]) =>
    `spec.dependsOn leads back to this container (${cycle.join(' → ')}): nothing is created until the cycle is broken`,
  paused: 'paused (dockyard.io/paused): observing only',
};
