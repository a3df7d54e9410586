import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import type { AgentEndpointSettings } from '../../managed/controller-deps.js';
import { AgentHosts } from './agent/agent-hosts.js';
import { credentialSecretListWatcher } from './agent/credential-store.js';
import { ANNOTATIONS, GROUP, VERSION } from '../../crds/kit.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import type { TlsMaterial } from '../../docker/endpoint.js';
import { classifyHostError, errorMessage } from '../../docker/errors.js';
import type { DockerMetrics } from '../../docker/docker-metrics.js';
import { pingHost, probeHost } from '../../docker/host-probe.js';
import { HostFactsCache } from './host-facts-cache.js';
import type { ReconcileContext, Reconciler, ReconcileResult, Request } from '../../runtime/controller.js';
import { enqueueForObject, enqueueMapped } from '../../runtime/enqueue.js';
import {
  addFinalizer,
  hasFinalizer,
  removeFinalizer,
  type FinalizerPatchApi,
} from '../../runtime/finalizers.js';
import { isNotFound } from '../../runtime/api-errors.js';
import { NotOwnedError, type ShardGate } from '../../runtime/shard-gate.js';
import type { Controller } from '../../runtime/controller.js';
import { everyReplica } from '../../runtime/manager.js';
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
import {
  connectionMode,
  hostWarnings,
  nextHeartbeatMs,
  nextHostStatus,
  type HostObservationResult,
} from './host-status.js';
import type { AgentHostsPort, AgentHostView } from './agent/agent-hosts-port.js';
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
  /** Hosts with spec.agent; absent when this controller serves no agent endpoint. */
  agents?: AgentHostsPort;
  now?: () => Date;
}

/** What one heartbeat saw: the daemon's answer, and for an agent-connected host its tunnel. */
interface HostLook {
  observation: HostObservationResult;
  agent?: AgentHostView;
}

/** What messages call the way to the daemon. */
function reachedThrough(host: DockerHost): string {
  return host.spec.endpoint ?? `the agent of ${host.metadata.name}`;
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
        `${reachedThrough(host)}: ${observation.message}`,
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
          `Docker ${observation.facts.engine.version ?? ''} reachable through ${reachedThrough(host)}`,
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
  /** What each Ready daemon said it is, so most heartbeats are a ping only. */
  private readonly facts = new HostFactsCache();

  constructor(private readonly deps: DockerHostReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.effects = hostEffects(deps.events);
  }

  async reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const host = this.deps.hosts.getByName(req.name);
    const deleting = host?.metadata.deletionTimestamp !== undefined;
    if (!host || (deleting && !hasFinalizer(host, FINALIZER))) {
      this.forget(req.name);
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
    const { observation, agent } = await this.observe(host, intervalMs);
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
        endpoint: reachedThrough(host),
        connection: connectionMode(host.spec),
        ...(agent ? { agent: agent.status } : {}),
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
    this.forget(host.metadata.name);
    return {};
  }

  /** Everything kept in memory for a host that is gone or let go: connection, agent, facts. */
  private forget(name: string): void {
    this.facts.forget(name);
    this.deps.hostRuntime.forget(name);
    this.deps.agents?.forget(name);
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

  private async observe(host: DockerHost, intervalMs: number): Promise<HostLook> {
    if (host.spec.agent) return this.observeThroughAgent(host, intervalMs);
    const endpoint = host.spec.endpoint ?? '';
    let tls: TlsMaterial | undefined;
    try {
      if (host.spec.tls)
        tls = await readTlsSecret(this.deps.core, host.spec.tls.secretRef, host.spec.tls.serverName);
    } catch (err) {
      if (err instanceof TlsSecretError)
        return { observation: { ok: false, reason: err.reason, message: err.message } };
      throw err; // the API server itself failed: retry with backoff
    }
    return { observation: await this.probe(host.metadata.name, { endpoint, tls, intervalMs }) };
  }

  /**
   * An agent-connected host: its bootstrap Secret is kept, and its daemon is
   * probed through the tunnel's local socket only while the agent holds a
   * tunnel. A missing tunnel is AgentDisconnected at once (the hub wakes this
   * reconcile when a tunnel comes or goes), with the time the agent was last seen.
   */
  private async observeThroughAgent(host: DockerHost, intervalMs: number): Promise<HostLook> {
    if (!this.deps.agents)
      return {
        observation: {
          ok: false,
          reason: Reason.ConfigError,
          message:
            'spec.agent is set but this controller serves no agent endpoint (start it with --agent-bind-address)',
        },
      };
    const agent = await this.deps.agents.prepare(host);
    if (!agent.connected) {
      const message = agent.status.lastSeenTime
        ? `the agent is disconnected; last seen at ${agent.status.lastSeenTime}`
        : `no agent has connected yet; hand it the bootstrap Secret ${agent.status.credentialsSecret ?? ''}`;
      return { observation: { ok: false, reason: Reason.AgentDisconnected, message }, agent };
    }
    const observation = await this.probe(host.metadata.name, {
      endpoint: agent.endpoint,
      tls: undefined,
      intervalMs,
    });
    return { observation, agent };
  }

  private async probe(
    name: string,
    target: { endpoint: string; tls: TlsMaterial | undefined; intervalMs: number },
  ): Promise<HostObservationResult> {
    const timeoutMs = Math.min(MAX_PROBE_TIMEOUT_MS, target.intervalMs);
    const conn = this.deps.hostRuntime.connect(name, target.endpoint, target.tls);
    const now = this.now().getTime();
    try {
      const known = this.facts.fresh(name, conn.fingerprint, now);
      if (known) {
        await pingHost(conn.api, timeoutMs);
        return { ok: true, facts: known };
      }
      const facts = await probeHost(conn.api, timeoutMs);
      this.facts.remember(name, { facts, fingerprint: conn.fingerprint, at: now });
      return { ok: true, facts };
    } catch (err) {
      this.facts.forget(name);
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
  // The hub reports tunnels coming and going to the controller built below.
  const wake: { controller?: Controller } = {};
  const agents = deps.agentEndpoint
    ? registerAgentHosts(deps, deps.agentEndpoint, {
        hosts,
        onHostChange: (name) => wake.controller?.trigger({ name }),
      })
    : undefined;
  const reconciler = new DockerHostReconciler({
    hosts,
    core: kc.makeApiClient(CoreV1Api),
    status: kc.makeApiClient(CustomObjectsApi),
    finalizers: kc.makeApiClient(CustomObjectsApi),
    events: manager.eventRecorderFor(DOCKERHOST_CONTROLLER),
    hostRuntime,
    metrics,
    placed,
    ...(agents ? { agents } : {}),
  });
  const controller: Controller = manager
    .createController({
      name: DOCKERHOST_CONTROLLER,
      reconciler: deps.shards
        ? shardedHosts(reconciler, { shards: deps.shards, hostRuntime, agents })
        : reconciler,
      maxConcurrentReconciles: deps.maxConcurrentReconciles,
      // Sharded, every replica keeps the hosts of its own shards.
      needLeaderElection: deps.shards === undefined,
    })
    .watch(hosts, enqueueForObject(), { updatePredicate: specOrMetadataChanged });
  deps.shards?.onShardChange((shard) => {
    for (const host of hosts.list())
      if (deps.shards?.shardOf(host.metadata.name) === shard)
        controller.trigger({ name: host.metadata.name });
  });
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
  wake.controller = controller;
  return {
    hosts,
    trackPlaced: (kind, objects) => {
      placed.track(kind, objects);
      controller.watch(objects, enqueueMapped(leavingHosts));
    },
  };
}

/**
 * With --shards: a replica keeps only the hosts whose shard it holds, and lets
 * go of a host's connection and event stream once its shard is elsewhere.
 */
function shardedHosts(
  reconciler: Reconciler,
  o: { shards: ShardGate; hostRuntime: HostRuntime; agents: AgentHostsPort | undefined },
): Reconciler {
  const letGo = (name: string): ReconcileResult => {
    o.hostRuntime.forget(name);
    o.agents?.forget(name);
    return {};
  };
  return {
    reconcile: async (ctx, req) => {
      if (!o.shards.owns(req.name)) return letGo(req.name);
      try {
        return await o.shards.run(req.name, () => reconciler.reconcile(ctx, req));
      } catch (err) {
        if (err instanceof NotOwnedError) return letGo(req.name);
        throw err;
      }
    },
  };
}

/**
 * The edge agents' endpoint with its Secret cache and metrics: run while
 * leading, or sharded on every replica for the hosts of its own shards.
 */
function registerAgentHosts(
  deps: ControllerDeps,
  settings: AgentEndpointSettings,
  opts: { hosts: Informer<DockerHost>; onHostChange: (name: string) => void },
): AgentHosts {
  const { kc, manager, shards } = deps;
  const secrets = manager.createInformer<V1Secret>({
    resource: 'secrets (agent credentials)',
    listWatcher: credentialSecretListWatcher(kc, settings.namespace),
  });
  const agents = new AgentHosts({
    settings,
    api: kc.makeApiClient(CoreV1Api),
    secrets,
    hosts: opts.hosts,
    onHostChange: opts.onHostChange,
    ...(shards ? { owns: (hostName: string) => shards.owns(hostName) } : {}),
    logger: deps.logger,
  });
  agents.registerMetrics(manager.metrics.registry);
  if (shards) manager.addBackgroundTask(everyReplica(agents));
  else manager.addLeaderRunnable(agents);
  return agents;
}
