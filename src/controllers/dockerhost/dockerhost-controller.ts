import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { ANNOTATIONS, GROUP, VERSION } from '../../crds/kit.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import type { TlsMaterial } from '../../docker/endpoint.js';
import { classifyHostError, errorMessage } from '../../docker/errors.js';
import type { DockerMetrics } from '../../docker/docker-metrics.js';
import { probeHost } from '../../docker/host-probe.js';
import type { ReconcileContext, Reconciler, ReconcileResult, Request } from '../../runtime/controller.js';
import { enqueueForObject, enqueueMapped } from '../../runtime/enqueue.js';
import {
  addFinalizer,
  hasFinalizer,
  removeFinalizer,
  type FinalizerPatchApi,
} from '../../runtime/finalizers.js';
import { isNotFound } from '../../runtime/api-errors.js';
import type { Controller } from '../../runtime/controller.js';
import type { ManagedObject } from '../../managed/types.js';
import { FINALIZER } from '../../managed/managed-reconciler.js';
import { specOrMetadataChanged } from '../../runtime/predicates.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import { customResourceListWatcher } from '../../runtime/kube-list-watcher.js';
import { patchStatus, type StatusPatchApi } from '../../runtime/status-patch.js';
import type { HostRuntime } from '../../docker/host-runtime.js';
import type { ControllerDeps } from '../index.js';
import { savedFromEntry } from '../../managed/machine-state.js';
import { decide } from '../../managed/machine-spec.js';
import { hostMachineSpec, type HostEffect, type HostObservation } from './host-machine.js';
import { hostWarnings, nextHeartbeatMs, nextHostStatus, type HostObservationResult } from './host-status.js';
import { readTlsSecret, TlsSecretError } from './tls-secret.js';
import { mayReleaseHost, TERMINATING, withDrainStatus } from './host-drain.js';
import { describePlaced, PlacedObjects, placedHostsOf, type PlacedObjectsOnHost } from './placed-objects.js';

export const DOCKERHOST_CONTROLLER = 'dockerhost';
const FIELD_MANAGER = 'dockyard-dockerhost-controller';
const RESOURCE = { group: GROUP, version: VERSION, plural: 'dockerhosts' };
const DEFAULT_HEARTBEAT_SECONDS = 10;
/** A heartbeat request never waits longer than this, so a hung daemon is NotReady quickly. */
const MAX_PROBE_TIMEOUT_MS = 5_000;

export interface DockerHostReconcilerDeps {
  hosts: Pick<Informer<DockerHost>, 'getByName'>;
  core: Pick<CoreV1Api, 'readNamespacedSecret'>;
  status: StatusPatchApi;
  finalizers: FinalizerPatchApi;
  events: EventRecorder;
  hostRuntime: HostRuntime;
  metrics: DockerMetrics;
  /** What the managed kinds have placed on each host (their caches, by status.hosts). */
  placed: Pick<PlacedObjects, 'on'>;
  now?: () => Date;
}

/** One host's heartbeat, as the machine's effects see it. */
interface HostEffectRun {
  host: DockerHost;
  observation: HostObservationResult;
}

/** Every effect the host machine can ask for, with its handler: a missing or misspelt one fails the type-check. */
type HostEffectTable = Record<HostEffect, (run: HostEffectRun) => void>;

function hostEffects(events: EventRecorder): HostEffectTable {
  // The machine asks for each record only on an observation of its kind (reachable or not);
  // the checks narrow the observation's type to read its facts or its reason.
  const recordFailure = ({ host, observation }: HostEffectRun) => {
    if (!observation.ok)
      events.event(
        host,
        'Warning',
        observation.reason,
        'Connect',
        `${host.spec.endpoint}: ${observation.message}`,
      );
  };
  return {
    recordReady: ({ host, observation }) => {
      if (observation.ok)
        events.event(
          host,
          'Normal',
          EventReason.HostReady,
          'Connect',
          `Docker ${observation.facts.engine.version ?? ''} reachable at ${host.spec.endpoint}`,
        );
    },
    recordNotReady: recordFailure,
    recordReasonChanged: recordFailure,
    // The event stream follows every observation, not only the transitions
    // (see execute): a restarted controller finds hosts already Ready, and
    // the paused annotation stops a stream in any state.
    startEventStream: () => undefined,
    stopEventStream: () => undefined,
  };
}

/**
 * Keeps each DockerHost's connection, heartbeat, status and event stream.
 * Level-based: every reconcile pings the daemon and derives everything from
 * that observation; time between heartbeats is the requeue delay.
 */
export class DockerHostReconciler implements Reconciler {
  private readonly now: () => Date;
  private readonly effects: HostEffectTable;

  constructor(private readonly deps: DockerHostReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.effects = hostEffects(deps.events);
  }

  async reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const host = this.deps.hosts.getByName(req.name);
    const deleting = host?.metadata.deletionTimestamp !== undefined;
    if (!host || (deleting && !hasFinalizer(host, FINALIZER))) {
      this.deps.hostRuntime.forget(req.name);
      return {};
    }
    // A deleted host stays connected while objects are placed on it: the
    // managed reconcilers remove (drain) or release them through it.
    const placed = this.deps.placed.on(req.name);
    if (mayReleaseHost(deleting, placed)) return this.release(host);
    if (!deleting && !hasFinalizer(host, FINALIZER)) {
      await addFinalizer(this.deps.finalizers, {
        resource: RESOURCE,
        object: host,
        finalizer: FINALIZER,
        fieldManager: FIELD_MANAGER,
      });
    }
    const intervalMs = (host.spec.heartbeatIntervalSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
    const observation = await this.observe(host, intervalMs);
    const event: HostObservation = observation.ok
      ? { type: 'OBSERVED', reachable: true }
      : {
          type: 'OBSERVED',
          reachable: false,
          reason: observation.reason === Reason.SecretNotFound ? Reason.ConfigError : observation.reason,
        };
    const step = decide(hostMachineSpec, savedFromEntry(host.status, hostMachineSpec.initialContext), event);
    this.execute(host, step.effects, observation);
    this.deps.metrics.hostUp(req.name, observation.ok);

    const warnings = hostWarnings(host.spec);
    const firstLookAtGeneration = host.status?.observedGeneration !== host.metadata.generation;
    if (firstLookAtGeneration) {
      for (const w of warnings)
        this.deps.events.event(host, 'Warning', EventReason.InsecureEndpoint, 'Connect', w);
    }
    const status = withDrainStatus(
      nextHostStatus(host.status, {
        generation: host.metadata.generation,
        endpoint: host.spec.endpoint,
        observation,
        step,
        warnings,
        now: this.now(),
      }),
      {
        drain: host.spec.drain === true,
        deleting,
        placed,
        generation: host.metadata.generation,
        now: this.now(),
      },
    );
    this.reportHeld(host, deleting, placed);
    const written = await patchStatus(this.deps.status, {
      ref: { ...RESOURCE, name: req.name },
      current: host.status,
      desired: status,
      fieldManager: FIELD_MANAGER,
    });
    ctx.logger.debug({ phase: status.phase, written }, 'heartbeat');
    return { requeueAfterMs: nextHeartbeatMs(intervalMs, observation.ok, step.saved.context.failures) };
  }

  /** Nothing is placed on the deleted host any more: let it go. */
  private async release(host: DockerHost): Promise<ReconcileResult> {
    try {
      await removeFinalizer(this.deps.finalizers, {
        resource: RESOURCE,
        object: host,
        finalizer: FINALIZER,
        fieldManager: FIELD_MANAGER,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.deps.hostRuntime.forget(host.metadata.name);
    return {};
  }

  /** A Warning Event once per deletion: the host will not go away by itself. */
  private reportHeld(host: DockerHost, deleting: boolean, placed: PlacedObjectsOnHost): void {
    const wasHeld = host.status?.conditions?.some((c) => c.type === TERMINATING && c.status === 'True');
    if (!deleting || placed.total === 0 || wasHeld) return;
    this.deps.events.event(
      host,
      'Warning',
      Reason.ObjectsStillPlaced,
      'Delete',
      `deletion waits for ${describePlaced(placed)}; set spec.drain: true to remove them per their deletionPolicy`,
    );
  }

  private async observe(host: DockerHost, intervalMs: number): Promise<HostObservationResult> {
    const name = host.metadata.name;
    let tls: TlsMaterial | undefined;
    try {
      if (host.spec.tls)
        tls = await readTlsSecret(this.deps.core, host.spec.tls.secretRef, host.spec.tls.serverName);
    } catch (err) {
      if (err instanceof TlsSecretError) return { ok: false, reason: err.reason, message: err.message };
      throw err; // the API server itself failed: retry with backoff
    }
    const timeoutMs = Math.min(MAX_PROBE_TIMEOUT_MS, intervalMs);
    const conn = this.deps.hostRuntime.connect(name, host.spec.endpoint, tls);
    try {
      return { ok: true, facts: await probeHost(conn.api, timeoutMs) };
    } catch (err) {
      return { ok: false, reason: classifyHostError(err), message: errorMessage(err) };
    }
  }

  /** Carries out the machine's effects; the event stream is also kept level-based (a restart finds Ready hosts). */
  private execute(
    host: DockerHost,
    effects: readonly HostEffect[],
    observation: HostObservationResult,
  ): void {
    const name = host.metadata.name;
    for (const effect of effects) this.effects[effect]({ host, observation });
    const paused = host.metadata.annotations?.[ANNOTATIONS.paused] === 'true';
    if (observation.ok && !paused) this.deps.hostRuntime.ensureEventStream(name);
    else this.deps.hostRuntime.stopEventStream(name);
  }
}

export interface DockerHostController {
  hosts: Informer<DockerHost>;
  /**
   * Makes a managed kind's objects count as placed on the hosts in their
   * status.hosts: a deleted host waits for them, and a draining or deleted
   * host's status follows them as they leave.
   */
  trackPlaced<T extends ManagedObject>(kind: string, objects: Informer<T>): void;
}

/** Wires the DockerHost informer, reconciler and controller into the manager. */
export function registerDockerHostController(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  metrics: DockerMetrics,
): DockerHostController {
  const { kc, manager } = deps;
  const hosts = manager.createInformer<DockerHost>({
    resource: 'dockerhosts.dockyard.io',
    listWatcher: customResourceListWatcher<DockerHost>(kc, { ...RESOURCE, kind: 'DockerHost' }),
    ...(deps.syncPeriodMs !== undefined ? { resyncPeriodMs: deps.syncPeriodMs } : {}),
  });
  const placed = new PlacedObjects();
  const reconciler = new DockerHostReconciler({
    hosts,
    core: kc.makeApiClient(CoreV1Api),
    status: kc.makeApiClient(CustomObjectsApi),
    finalizers: kc.makeApiClient(CustomObjectsApi),
    events: manager.eventRecorderFor(DOCKERHOST_CONTROLLER),
    hostRuntime,
    metrics,
    placed,
  });
  const controller: Controller = manager
    .createController({
      name: DOCKERHOST_CONTROLLER,
      reconciler,
      maxConcurrentReconciles: deps.maxConcurrentReconciles,
    })
    .watch(hosts, enqueueForObject(), { updatePredicate: specOrMetadataChanged });
  // Only hosts that drain or are being deleted report what is placed on them;
  // others are not woken by every object that comes and goes.
  const leavingHosts = (obj: ManagedObject) =>
    placedHostsOf(obj)
      .filter((name) => {
        const host = hosts.getByName(name);
        return (
          host !== undefined && (host.spec.drain === true || host.metadata.deletionTimestamp !== undefined)
        );
      })
      .map((name) => ({ name }));
  return {
    hosts,
    trackPlaced: (kind, objects) => {
      placed.track(kind, objects);
      controller.watch(objects, enqueueMapped(leavingHosts));
    },
  };
}
