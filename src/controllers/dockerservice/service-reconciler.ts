// The DockerService sync handler. It reads top to bottom, as
// sample-controller's syncHandler does:
//   1. the service, its spec's revision (recorded as a ControllerRevision);
//   2. its replicas (the DockerContainers it controls) and where each belongs;
//   3. one step of the rollout machine, fed what the replicas show;
//   4. the plan toward the machine's target: replicas to create and remove;
//   5. old revisions pruned, status written, and a requeue while time matters
//      (minReadySeconds, the progress deadline, a canary's wait).
// It never talks to Docker: the DockerContainers it owns do.
import type { CustomObjectsApi, V1ControllerRevision } from '@kubernetes/client-node';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { ContainerTemplate, DockerService, RolloutPhase } from '../../crds/dockerservice.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { EventReason } from '../../crds/reasons.js';
import { decide } from '../../managed/machine-spec.js';
import { machineEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { admissionLabels, type NamespaceLabels } from '../../managed/namespace-labels.js';
import { placementHash } from '../../managed/placement.js';
import { isNotFound, statusCodeOf } from '../../runtime/api-errors.js';
import type { ReconcileContext, Reconciler, ReconcileResult, Request } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import { patchStatus, type StatusPatchApi } from '../../runtime/status-patch.js';
import { Expectations } from './expectations.js';
import { hostIsReady, replicaOf } from './replica.js';
import { replicaObject } from './replica-object.js';
import {
  CONTROLLER_REVISIONS,
  newRevision,
  revisionRecord,
  revisionsToPrune,
  templateHash,
  type RevisionRecord,
} from './revisions.js';
import {
  awaitingPromotion,
  canaryState,
  hostSummary,
  observation,
  planStrategy,
  strategyOf,
  updateAllowance,
  type Strategy,
} from './rollout-inputs.js';
import { rolloutMachineSpec, type RolloutContext } from './rollout-machine.js';
import { planRollout } from './rollout-plan.js';
import { scheduleSlots, type Schedule } from './schedule.js';
import type { RolloutEffectTable } from './service-effects.js';
import { serviceStatus } from './service-status.js';
import type { PlanAction, Replica, RolloutPlan } from './types.js';

export const SERVICES = { group: GROUP, version: VERSION, plural: 'dockerservices' } as const;
const CONTAINERS = { group: GROUP, version: VERSION, plural: 'dockercontainers' } as const;

/** A Replicated slot whose host has been NotReady this long moves to another host. */
export const HOST_DOWN_GRACE_MS = 30_000;
/** While a rollout moves, time decides too (minReadySeconds, deadlines): look again this soon. */
const ACTIVE_REQUEUE_MS = 1_000;
/** Otherwise a slow safety net; replica and host changes wake the service anyway. */
const IDLE_REQUEUE_MS = 30_000;
const MOVING: ReadonlySet<RolloutPhase> = new Set(['Progressing', 'RollingBack', 'CanaryPaused']);

export interface ServiceReconcilerDeps {
  services: Pick<Informer<DockerService>, 'get'>;
  /** The DockerContainers each service controls, by the service's UID. */
  replicasOf: (uid: string) => DockerContainer[];
  /** The ControllerRevisions each service controls, by the service's UID. */
  revisionsOf: (uid: string) => V1ControllerRevision[];
  hosts: Pick<Informer<DockerHost>, 'list' | 'getByName'>;
  namespaces: Pick<NamespaceLabels, 'get'>;
  api: Pick<CustomObjectsApi, 'createNamespacedCustomObject' | 'deleteNamespacedCustomObject'>;
  status: StatusPatchApi;
  events: EventRecorder;
  effects: RolloutEffectTable;
  fieldManager: string;
  observeAvailable?: (service: DockerService, available: number) => void;
  now?: () => Date;
}

/** Everything one reconcile found, before the machine steps. */
interface Sight {
  service: DockerService;
  strategy: Strategy;
  specHash: string;
  revisions: RevisionRecord[];
  replicas: Replica[];
  schedule: Schedule;
  /** Hash of spec.hostSelector: recorded on each new replica. */
  placementHash: string;
  now: Date;
}

export class ServiceReconciler implements Reconciler {
  private readonly now: () => Date;
  private readonly expectations = new Expectations();

  constructor(private readonly deps: ServiceReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const service = this.deps.services.get(`${req.namespace}/${req.name}`);
    // A deleted service's replicas and revisions go with it (ownerReference garbage collection).
    if (!service || service.metadata.deletionTimestamp) {
      this.expectations.forget(`${req.namespace}/${req.name}`);
      return {};
    }
    const sight = await this.look(service);
    const saved = savedRollout(service);
    const before = this.plan(sight, saved?.context.target || sight.specHash, false, Infinity);
    const step = decide(rolloutMachineSpec, saved, this.observe(sight, saved?.context, before));
    const revisionOf = (hash: string | undefined) => sight.revisions.find((r) => r.hash === hash)?.revision;
    for (const effect of step.effects)
      this.deps.effects[effect]({ service, context: step.saved.context, revisionOf });
    const phase = step.saved.state as RolloutPhase;
    const plan = this.planFor(sight, step.saved.context, phase);
    await this.act(ctx, sight, step.saved.context, plan.actions);
    await this.prune(sight, step.saved.context);
    await this.writeStatus(sight, { saved: step.saved, phase, plan, revisionOf });
    this.deps.observeAvailable?.(service, plan.counts.available);
    ctx.logger.debug({ phase, actions: plan.actions.length, counts: plan.counts }, 'rollout step');
    return {
      requeueAfterMs: MOVING.has(phase) || plan.actions.length > 0 ? ACTIVE_REQUEUE_MS : IDLE_REQUEUE_MS,
    };
  }

  /** Step 1–2: the spec's revision (recorded), the replicas, and the slots they belong to. */
  private async look(service: DockerService): Promise<Sight> {
    const now = this.now();
    const strategy = strategyOf(service.spec);
    const specHash = templateHash(service.spec.template);
    const uid = service.metadata.uid ?? '';
    const revisions = this.deps.revisionsOf(uid).flatMap((r) => revisionRecord(r) ?? []);
    if (!revisions.some((r) => r.hash === specHash))
      revisions.push(await this.recordRevision(service, specHash, revisions));
    const hostOf = (name: string) => this.deps.hosts.getByName(name);
    const cached = this.deps
      .replicasOf(uid)
      .flatMap(
        (container) => replicaOf({ container, hostOf, minReadySeconds: strategy.minReadySeconds, now }) ?? [],
      );
    const namespace = service.metadata.namespace ?? '';
    const replicas = this.expectations.apply(keyOf(service), cached, now.getTime());
    const placement = placementHash({ hostSelector: service.spec.hostSelector });
    const hosts = this.deps.hosts.list();
    const schedule = scheduleSlots({
      spec: service.spec,
      namespace,
      namespaceLabels: await admissionLabels({ namespaces: this.deps.namespaces, namespace, hosts }),
      hosts,
      replicas,
      placementHash: placement,
      now,
      hostDownGraceMs: HOST_DOWN_GRACE_MS,
    });
    return { service, strategy, specHash, revisions, replicas, schedule, placementHash: placement, now };
  }

  private async recordRevision(
    service: DockerService,
    hash: string,
    existing: RevisionRecord[],
  ): Promise<RevisionRecord> {
    const body = newRevision({ service, hash, template: service.spec.template, existing });
    try {
      await this.deps.api.createNamespacedCustomObject({
        ...CONTROLLER_REVISIONS,
        namespace: body.metadata?.namespace ?? '',
        body,
      });
    } catch (err) {
      // Created by an earlier reconcile the cache has not shown yet.
      if (statusCodeOf(err) !== 409) throw err;
    }
    return {
      name: body.metadata?.name ?? '',
      hash,
      revision: body.revision,
      template: service.spec.template,
    };
  }

  private plan(sight: Sight, target: string, frozen: boolean, allowance: number): RolloutPlan {
    return planRollout({
      slots: sight.schedule.slots,
      surplus: sight.schedule.surplus,
      target,
      strategy: planStrategy(sight.strategy),
      updateAllowance: allowance,
      frozen,
    });
  }

  /** Step 3's input: the replicas as they stand against the saved target. */
  private observe(sight: Sight, context: RolloutContext | undefined, before: RolloutPlan) {
    const current = context ?? rolloutMachineSpec.initialContext;
    return observation({
      service: sight.service,
      specHash: sight.specHash,
      strategy: sight.strategy,
      counts: before.counts,
      complete: current.target !== '' && before.complete,
      canary: canaryState({
        context: current,
        strategy: sight.strategy,
        replicas: sight.replicas,
        desired: before.counts.desired,
        now: sight.now,
      }),
      awaitingPromotion: awaitingPromotion(sight.service, current, sight.strategy),
      now: sight.now,
    });
  }

  /** Step 4: toward the machine's target; nothing moves while paused or failed. */
  private planFor(sight: Sight, context: RolloutContext, phase: RolloutPhase): RolloutPlan {
    const frozen =
      phase === 'Paused' || phase === 'Failed' || this.templateOf(sight, context.target) === undefined;
    const canary = canaryState({
      context,
      strategy: sight.strategy,
      replicas: sight.replicas,
      desired: sight.schedule.slots.length,
      now: sight.now,
    });
    const allowance = updateAllowance({
      context,
      strategy: sight.strategy,
      canary,
      awaitingPromotion: awaitingPromotion(sight.service, context, sight.strategy),
    });
    return this.plan(sight, context.target, frozen, allowance);
  }

  private templateOf(sight: Sight, hash: string): ContainerTemplate | undefined {
    if (hash === sight.specHash) return sight.service.spec.template;
    return sight.revisions.find((r) => r.hash === hash)?.template;
  }

  private async act(
    ctx: ReconcileContext,
    sight: Sight,
    context: RolloutContext,
    actions: readonly PlanAction[],
  ) {
    const { service } = sight;
    const namespace = service.metadata.namespace ?? '';
    const template = this.templateOf(sight, context.target);
    for (const action of actions) {
      if (action.type === 'create' && template) {
        const body = replicaObject({
          service,
          template,
          revision: action.revision,
          slot: action.slot,
          host: action.host,
          placementHash: sight.placementHash,
        });
        try {
          await this.deps.api.createNamespacedCustomObject({ ...CONTAINERS, namespace, body });
          this.expectations.created(
            keyOf(service),
            { name: body.metadata.name, slot: action.slot, host: action.host, revision: action.revision },
            sight.now.getTime(),
          );
          this.deps.events.event(
            service,
            'Normal',
            EventReason.ReplicaCreated,
            'Scale',
            `created replica ${body.metadata.name} on ${action.host}`,
          );
        } catch (err) {
          if (statusCodeOf(err) !== 409) throw err;
        }
      } else if (action.type === 'delete') {
        try {
          await this.deps.api.deleteNamespacedCustomObject({ ...CONTAINERS, namespace, name: action.name });
          this.expectations.deleted(keyOf(service), action.name, sight.now.getTime());
          this.deps.events.event(
            service,
            'Normal',
            EventReason.ReplicaRemoved,
            'Scale',
            `removed replica ${action.name}: ${action.why}`,
          );
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    if (actions.length > 0) ctx.logger.info({ actions }, 'replicas changed');
  }

  /** Revisions beyond the history limit, never the ones a rollback may still need. */
  private async prune(sight: Sight, context: RolloutContext) {
    const keep = new Set(
      [sight.specHash, context.target, context.stable, context.previousStable, context.abandoned].filter(
        (h): h is string => !!h,
      ),
    );
    const limit = sight.service.spec.revisionHistoryLimit ?? 10;
    for (const r of revisionsToPrune({ records: sight.revisions, limit, keep })) {
      try {
        await this.deps.api.deleteNamespacedCustomObject({
          ...CONTROLLER_REVISIONS,
          namespace: sight.service.metadata.namespace ?? '',
          name: r.name,
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async writeStatus(
    sight: Sight,
    found: {
      saved: SavedMachineState<RolloutContext>;
      phase: RolloutPhase;
      plan: RolloutPlan;
      revisionOf: (h: string | undefined) => number | undefined;
    },
  ) {
    const { service } = sight;
    const context = found.saved.context;
    const status = serviceStatus(
      {
        generation: service.metadata.generation,
        phase: found.phase,
        context,
        counts: found.plan.counts,
        unplaced: found.plan.unplaced,
        maxUnavailable: sight.strategy.maxUnavailable,
        specHash: sight.specHash,
        revisionOf: found.revisionOf,
        hosts: hostSummary({
          slots: sight.schedule.slots,
          replicas: sight.replicas,
          target: context.target,
          hostOf: (n) => this.deps.hosts.getByName(n),
          hostReady: hostIsReady,
        }),
        machine: machineEntry(found.saved),
        now: sight.now,
      },
      service.status,
    );
    await patchStatus(this.deps.status, {
      ref: { ...SERVICES, namespace: service.metadata.namespace ?? '', name: service.metadata.name },
      current: service.status,
      desired: status,
      fieldManager: this.deps.fieldManager,
    });
  }
}

const keyOf = (service: DockerService) => `${service.metadata.namespace ?? ''}/${service.metadata.name}`;

function savedRollout(service: DockerService): SavedMachineState<RolloutContext> | undefined {
  const m = service.status?.rollout?.machine;
  if (!m) return undefined;
  return {
    state: m.state,
    version: m.version,
    context: { ...rolloutMachineSpec.initialContext, ...(m.context as Partial<RolloutContext>) },
  };
}
