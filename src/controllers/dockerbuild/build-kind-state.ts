import type { CoreV1Api } from '@kubernetes/client-node';
import type { DockerBuild } from '../../crds/dockerbuild.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { familiarOrAsWritten } from '../../docker/image-reference.js';
import { ownerRefOf, type OwnerRef } from '../../managed/ownership.js';
import { BackgroundJobs } from '../image-push/background-jobs.js';
import type { PushDeps } from '../image-push/image-push.js';
import type { PushResult } from '../image-push/push-result.js';
import type { BuildResult } from './build-jobs.js';
import type { BuildMachineContext } from './build-machine.js';
import { noopBuildMetrics, type BuildMetrics } from './build-metrics.js';

export const BUILD_KIND = 'DockerBuild';

/** A build that has not finished after this long is abandoned and retried. */
export const DEFAULT_BUILD_TIMEOUT_MS = 30 * 60_000;

export interface DockerBuildKindDeps {
  /** Reads the context ConfigMap, the Secrets and ConfigMaps of arguments and mounts, and push secrets. */
  core: Pick<CoreV1Api, 'readNamespacedSecret' | 'readNamespacedConfigMap'>;
  /** Reconcile `namespace/name` soon: its background build settled. */
  trigger?: (key: string) => void;
  now?: () => number;
  buildTimeoutMs?: number;
  metrics?: BuildMetrics;
}

export function buildOwner(build: DockerBuild): OwnerRef {
  return ownerRefOf(BUILD_KIND, build);
}

/** The tag the build makes, as Docker names it (events, inspect); never throws. */
export function buildTagOf(build: DockerBuild): string {
  return familiarOrAsWritten(build.spec.image);
}

/** The key of what the kind keeps in memory for one owner on one host. */
export function buildHostKey(build: DockerBuild, host: string): string {
  const id = build.metadata.uid ?? `${build.metadata.namespace ?? ''}/${build.metadata.name}`;
  return `${id}\u0000${host}`;
}

/**
 * What one DockerBuild kind instance keeps between reconciles: builds run
 * in the background and outlive a reconcile, the last decision per owner and
 * host is newer than the informer's copy of status, and the last build's log
 * is status material the machine does not hold.
 */
export class BuildKindState {
  readonly core: DockerBuildKindDeps['core'];
  readonly clock: () => number;
  readonly buildTimeoutMs: number;
  readonly metrics: BuildMetrics;
  readonly jobs: BackgroundJobs<BuildResult>;
  /** Pushes of built images to spec.push, keyed like builds. */
  readonly pushes: BackgroundJobs<PushResult>;
  readonly memo = new Map<string, SavedMachineState<BuildMachineContext>>();
  readonly logs = new Map<string, string>();

  constructor(deps: DockerBuildKindDeps) {
    this.core = deps.core;
    this.clock = deps.now ?? Date.now;
    this.buildTimeoutMs = deps.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    this.metrics = deps.metrics ?? noopBuildMetrics;
    const jobOptions = { ...(deps.trigger ? { onSettled: deps.trigger } : {}), now: this.clock };
    this.jobs = new BackgroundJobs<BuildResult>(jobOptions);
    this.pushes = new BackgroundJobs<PushResult>(jobOptions);
  }

  /** What pushing the built image needs. */
  get pushDeps(): PushDeps {
    return {
      core: this.core,
      pushes: this.pushes,
      clock: this.clock,
      timeoutMs: this.buildTimeoutMs,
      metrics: this.metrics,
    };
  }
}
