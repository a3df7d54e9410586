// What the rollout machine and the planner are fed, from the spec and the
// replicas. Pure.
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerService, DockerServiceSpec, Rollout } from '../../crds/dockerservice.js';
import { ANNOTATIONS } from '../../crds/kit.js';
import type { PlanStrategy } from './rollout-plan.js';
import type { RolloutContext, RolloutObservation } from './rollout-machine.js';
import type { Replica, RolloutCounts, Slot } from './types.js';

/** Set to the revision hash (status.updateRevision) to let a Manual canary go on. */
export const PROMOTE_ANNOTATION = 'dockyard.io/promote';
/** Set to any new value to roll back to the last fully Available revision (once per value). */
export const ROLLBACK_ANNOTATION = 'dockyard.io/rollback';

/** The update strategy with every default the schema gives filled in (also for objects read without them). */
export function strategyOf(spec: DockerServiceSpec) {
  const s = spec.updateStrategy ?? {};
  return {
    maxUnavailable: s.maxUnavailable ?? 1,
    maxSurge: s.maxSurge ?? 1,
    order: s.order ?? 'StopFirst',
    minReadySeconds: s.minReadySeconds ?? 0,
    progressDeadlineSeconds: s.progressDeadlineSeconds ?? 600,
    failureAction: s.failureAction ?? 'Rollback',
    maxFailureRatio: s.maxFailureRatio ?? 0,
    canary: s.canary
      ? {
          replicas: s.canary.replicas,
          availableSeconds: s.canary.availableSeconds ?? 60,
          promotion: s.canary.promotion ?? 'Automatic',
        }
      : undefined,
  };
}
export type Strategy = ReturnType<typeof strategyOf>;

export function planStrategy(s: Strategy): PlanStrategy {
  return { order: s.order, maxUnavailable: s.maxUnavailable, maxSurge: s.maxSurge };
}

export function isPaused(service: DockerService): boolean {
  return service.spec.paused === true || service.metadata.annotations?.[ANNOTATIONS.paused] === 'true';
}

/** A canary step applies to a rollout away from a stable revision, never to the first one. */
function canaryApplies(context: RolloutContext, s: Strategy): boolean {
  return s.canary !== undefined && context.stable !== undefined && context.stable !== context.target;
}

/** Whether the canary's replicas have been Available at the target for availableSeconds. */
export function canaryState(opts: {
  context: RolloutContext;
  strategy: Strategy;
  replicas: readonly Replica[];
  desired: number;
  now: Date;
}): RolloutObservation['canary'] {
  const { context, strategy: s } = opts;
  if (!canaryApplies(context, s) || !s.canary) return 'none';
  const provenBefore = opts.now.getTime() - s.canary.availableSeconds * 1000;
  const proven = opts.replicas.filter(
    (r) =>
      r.revision === context.target &&
      r.state === 'Available' &&
      r.readySince !== undefined &&
      r.readySince.getTime() + s.minReadySeconds * 1000 <= provenBefore,
  ).length;
  return proven >= Math.min(s.canary.replicas, opts.desired) ? 'passed' : 'waiting';
}

export function awaitingPromotion(service: DockerService, context: RolloutContext, s: Strategy): boolean {
  return (
    canaryApplies(context, s) &&
    s.canary?.promotion === 'Manual' &&
    service.metadata.annotations?.[PROMOTE_ANNOTATION] !== context.target
  );
}

/**
 * How many slots may leave the old revision now: a canary that is not
 * proven (or waits for its promotion) holds the rest.
 */
export function updateAllowance(opts: {
  context: RolloutContext;
  strategy: Strategy;
  canary: RolloutObservation['canary'];
  awaitingPromotion: boolean;
}): number {
  const { canary } = opts.strategy;
  if (!canary || opts.canary === 'none') return Infinity;
  if (opts.canary === 'passed' && !opts.awaitingPromotion) return Infinity;
  return canary.replicas;
}

export function observation(opts: {
  service: DockerService;
  specHash: string;
  strategy: Strategy;
  counts: RolloutCounts;
  complete: boolean;
  canary: RolloutObservation['canary'];
  awaitingPromotion: boolean;
  now: Date;
}): RolloutObservation {
  const { counts, strategy: s } = opts;
  const rollbackRequest = opts.service.metadata.annotations?.[ROLLBACK_ANNOTATION];
  return {
    type: 'OBSERVED',
    now: opts.now.toISOString(),
    specHash: opts.specHash,
    paused: isPaused(opts.service),
    complete: opts.complete,
    updatedAvailable: counts.updatedAvailable,
    tooManyFailures: counts.updatedFailed > s.maxFailureRatio * counts.desired,
    progressDeadlineMs: s.progressDeadlineSeconds * 1000,
    failureAction: s.failureAction,
    canary: opts.canary,
    awaitingPromotion: opts.awaitingPromotion,
    ...(rollbackRequest !== undefined ? { rollbackRequest } : {}),
  };
}

/** status.rollout.hosts: per host with a slot or a replica, what runs there. */
export function hostSummary(opts: {
  slots: readonly Slot[];
  replicas: readonly Replica[];
  target: string;
  hostOf: (name: string) => DockerHost | undefined;
  hostReady: (host: DockerHost | undefined) => boolean;
}): NonNullable<Rollout['hosts']> {
  const names = new Set<string>();
  for (const s of opts.slots) if (s.host) names.add(s.host);
  for (const r of opts.replicas) names.add(r.host);
  return [...names].sort().map((name) => {
    const here = opts.replicas.filter((r) => r.host === name && r.state !== 'Terminating');
    return {
      name,
      ready: opts.hostReady(opts.hostOf(name)),
      replicas: here.length,
      updated: here.filter((r) => r.revision === opts.target).length,
      available: here.filter((r) => r.state === 'Available').length,
    };
  });
}
