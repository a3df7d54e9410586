import type { DockerContainer, DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { DockerVolume } from '../../crds/dockervolume.js';
import { GROUP, OWNER_LABELS, VERSION } from '../../crds/kit.js';
import {
  ContainerNameConflict,
  containerClient,
  type ObservedContainer,
} from '../../docker/container-client.js';
import {
  inheritedVolumes,
  needsRecreate,
  networkChanges,
  recreateHash,
  recreateReasons,
  stopTimeoutSeconds,
  toCreateOptions,
  updateNeeded,
  type ContainerInputs,
  type InheritedVolume,
} from '../../docker/container-spec.js';
import { errorMessage, isStaleRuntimeState } from '../../docker/errors.js';
import { imageClient } from '../../docker/image-client.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import { machineEntry, savedFromEntry } from '../../managed/machine-state.js';
import { adoptionAdvice, type AdoptionRefusal } from '../../managed/adoption.js';
import { dockerName, ownerLabels, ownership, type Ownership } from '../../managed/ownership.js';
import type { ObjectCache } from '../../managed/managed-reconciler.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  HostStatusEntry,
  ManagedKind,
} from '../../managed/types.js';
import { checkContainerPolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import { ImageAccessRecords } from '../dockerimage/image-access.js';
import { stepMachine } from '../../managed/machine-step.js';
import {
  CONTAINER_MACHINE_VERSION,
  containerMachine,
  READY_PHASES,
  type ContainerMachineContext,
} from './container-machine.js';
import {
  decideDependencies,
  HeldAnnouncements,
  heldMessage,
  imageOfRunning,
  mountedVolume,
  ownSpecChanged,
  withHeldOn,
  type DependencyState,
  type DependencyStatus,
} from './dependencies.js';
import { resolveEnv, type EnvResolution, type RefReader } from './env-resolver.js';
import { gateImage, refusedOutcome } from './image-gate.js';
import { ContainerOps, waitingOutcome, type OpReport } from './background-ops.js';
import {
  AsideMemory,
  removeAside,
  replaceContainer,
  ReplaceFailed,
  settleAside,
  type ReplaceOutcome,
  type ReplaceRequest,
} from './replace.js';
import { classify, type ContainerFacts } from './situation.js';

const OWNER_KIND = 'DockerContainer';

export interface DockerContainerKindDeps {
  volumes: ObjectCache<DockerVolume>;
  networks: ObjectCache<DockerNetwork>;
  images: ObjectCache<DockerImage>;
  volumeNameOf(v: DockerVolume): string;
  networkNameOf(n: DockerNetwork): string;
  /** Secrets and ConfigMaps of a namespace, read by name. */
  refs(namespace: string): RefReader;
  /** Which credentials each image on each host was pulled or verified with (shared with DockerImage). */
  imageAccess?: ImageAccessRecords;
  /** Pulls and stops off the reconcile workers (background-ops.ts); its trigger enqueues the owner. */
  ops?: ContainerOps;
}

export function containerNameOf(c: DockerContainer): string {
  return dockerName(c.metadata.namespace ?? '', c.metadata.name, c.spec.containerName);
}

function owner(c: DockerContainer) {
  return {
    kind: OWNER_KIND,
    namespace: c.metadata.namespace ?? '',
    name: c.metadata.name,
    uid: c.metadata.uid ?? '',
  };
}

type WithHosts = { status?: { hosts?: HostStatusEntry[] } } | undefined;

/** How a referenced object stands on this host, per its own status entry. */
function stateOn(obj: WithHosts, host: string): DependencyState {
  if (!obj) return 'deleted';
  return obj.status?.hosts?.find((h) => h.name === host)?.phase === 'Ready' ? 'ready' : 'notReady';
}

interface Resolved {
  dependencies: DependencyStatus[];
  /** Undefined when a name cannot be told (a deleted DockerVolume the running container does not mount). */
  inputs?: Omit<ContainerInputs, 'env'>;
  /** Recreate groups the inputs only stand in for (see ownSpecChanged). */
  unknownGroups: string[];
}

/**
 * Names each referenced DockerVolume, DockerNetwork and DockerImage on this
 * host and says how each stands there. Names follow from the cached objects
 * whatever their status; for a deleted volume, and for an image a not-ready
 * DockerImage no longer names here, `running` (our existing container) says
 * what it was created with.
 */
function resolveDependencies(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  host: string,
  running: ObservedContainer | undefined,
): Resolved {
  const ns = c.metadata.namespace ?? '';
  const dependencies: DependencyStatus[] = [];
  const volumeNames: Record<string, string> = {};
  const networkNames: Record<string, string> = {};
  let named = true;
  for (const m of c.spec.mounts ?? []) {
    if (m.type !== 'volume' || !m.volume) continue;
    const v = deps.volumes.getByName(m.volume, ns);
    dependencies.push({ ref: `DockerVolume/${m.volume}`, state: stateOn(v, host) });
    const name = v ? deps.volumeNameOf(v) : mountedVolume(running, m.target);
    if (name === undefined) named = false;
    else volumeNames[m.volume] = name;
  }
  for (const n of c.spec.networks ?? []) {
    const net = deps.networks.getByName(n.name, ns);
    dependencies.push({ ref: `DockerNetwork/${n.name}`, state: stateOn(net, host) });
    // A deleted network needs no name: networks change in place, never while a dependency is not ready.
    if (net) networkNames[n.name] = deps.networkNameOf(net);
  }
  const image = resolveImage(deps, c, host, running);
  if (image.dependency) dependencies.push(image.dependency);
  const unknownGroups = image.unknown ? ['image'] : [];
  if (!named) return { dependencies, unknownGroups };
  const { image: ref, imageDigest } = image;
  return {
    dependencies,
    unknownGroups,
    inputs: {
      name: containerNameOf(c),
      image: ref,
      ...(imageDigest ? { imageDigest } : {}),
      volumeNames,
      networkNames,
      ownerLabels: {},
    },
  };
}

/** The image to create from; `unknown` when only the running container can stand in for it. */
function resolveImage(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  host: string,
  running: ObservedContainer | undefined,
): { image: string; imageDigest?: string; dependency?: DependencyStatus; unknown: boolean } {
  if (!c.spec.imageRef) return { image: c.spec.image ?? '', unknown: false };
  const img = deps.images.getByName(c.spec.imageRef.name, c.metadata.namespace ?? '');
  const dependency = { ref: `DockerImage/${c.spec.imageRef.name}`, state: stateOn(img, host) };
  // Run the digest the DockerImage resolved on this host: a new digest there
  // rolls the container. A failed re-pull of the same reference keeps it in
  // the entry, so the container compares as unchanged.
  const repoDigest = img?.status?.hosts?.find((h) => h.name === host)?.repoDigest;
  if (img && typeof repoDigest === 'string') {
    const imageDigest = repoDigest.split('@')[1];
    return { image: repoDigest, ...(imageDigest ? { imageDigest } : {}), dependency, unknown: false };
  }
  if (img && dependency.state === 'ready') return { image: img.spec.image, dependency, unknown: false };
  // Not named on this host any more (a changed spec.image not pulled yet, or deleted).
  return { ...(running ? imageOfRunning(running) : { image: '' }), dependency, unknown: true };
}

/** What the container on one host is created from, or what it still waits for. */
export interface DesiredContainer {
  /** Dependencies it waits for on this host (`DockerVolume/data`…): nothing is created until they are Ready. */
  missing: string[];
  /**
   * Dependencies not Ready on this host that the existing container does
   * without: it is kept as it is, its readiness read from Docker (dependencies.ts).
   */
  held?: DependencyStatus[];
  env?: EnvResolution;
  inputs?: ContainerInputs;
  /** The `dockyard.io/spec-hash` label the container must carry (its recreate hash). */
  hash?: string;
}

/**
 * The create inputs and spec hash of a container on `hostName`, from the
 * caches of its dependencies. Exported so checks outside the controller (the
 * fault suite's invariants) compute the same hash the controller would.
 * `running` is our existing container there: given, a dependency that is not
 * Ready holds it as it is instead of making it wait (unless its own spec
 * changed), and the hash is the one it carries.
 */
export async function desiredContainer(
  deps: DockerContainerKindDeps,
  c: DockerContainer,
  hostName: string,
  namespace: string,
  options: { clusterId?: string; running?: ObservedContainer } = {},
): Promise<DesiredContainer> {
  const { running } = options;
  const resolved = resolveDependencies(deps, c, hostName, running);
  const notReady = resolved.dependencies.filter((d) => d.state !== 'ready').map((d) => d.ref);
  if (!resolved.inputs || (notReady.length > 0 && !running)) return { missing: notReady };
  const env = await resolveEnv(c.spec, deps.refs(namespace));
  if (!env.ok) return notReady.length > 0 ? { missing: notReady } : { missing: [], env };
  const inputs: ContainerInputs = {
    ...resolved.inputs,
    env: env.env,
    ownerLabels: withoutHash(ownerLabels(owner(c), '', c.spec.deletionPolicy ?? 'Delete', options.clusterId)),
  };
  const decision = decideDependencies({
    dependencies: resolved.dependencies,
    existing: running !== undefined,
    specChanged:
      running !== undefined &&
      notReady.length > 0 &&
      ownSpecChanged({ spec: c.spec, inputs, running, unknownGroups: resolved.unknownGroups }),
  });
  switch (decision.type) {
    case 'proceed':
      return { missing: [], env, inputs, hash: recreateHash(c.spec, inputs) };
    case 'wait':
      return { missing: decision.missing };
    case 'hold': {
      // Judged up to date: the hash it carries, never one computed from a stand-in image.
      const carried = running?.labels[OWNER_LABELS.specHash];
      return {
        missing: [],
        held: decision.notReady,
        env,
        inputs,
        hash: carried ?? recreateHash(c.spec, inputs),
      };
    }
  }
}

/**
 * Starts our container. One whose start can never succeed again (Docker left
 * the runtime state of an interrupted start behind) is removed, keeping its
 * volumes, and the error rethrown: the retry creates it afresh.
 */
async function startOrDiscard(
  api: Parameters<typeof containerClient.start>[0],
  id: string,
  report: (message: string) => void,
): Promise<void> {
  try {
    await containerClient.start(api, id);
  } catch (err) {
    if (!isStaleRuntimeState(err)) throw err;
    await containerClient.remove(api, id, { force: true });
    report(
      `container ${id.slice(0, 12)} could not start again after an interrupted start (${errorMessage(err)}); removed it to create it anew (volumes kept)`,
    );
    throw err;
  }
}

/** Phases right after Dockyard created or started the container, which one fresh look can settle. */
const SETTLING_PHASES = new Set(['Creating', 'Starting', 'Recreating']);

/** What the classifier needs to know about an observed container. */
function containerFacts(
  observed: ObservedContainer,
  owns: Ownership,
  upToDate: boolean,
  now: Date,
): NonNullable<ContainerFacts['container']> {
  const startedSecondsAgo = secondsSince(observed.state.startedAt, now);
  return {
    ownership: owns,
    upToDate,
    running: observed.state.running,
    restarting: observed.state.restarting,
    removing: observed.state.status === 'removing',
    exitCode: observed.state.exitCode,
    oomKilled: observed.state.oomKilled,
    ...(observed.state.health ? { health: observed.state.health } : {}),
    restartCount: observed.state.restartCount,
    ...(startedSecondsAgo !== undefined ? { startedSecondsAgo } : {}),
    neverStarted: observed.state.status === 'created' && observed.state.startedAt === undefined,
  };
}

function secondsSince(iso: string | undefined, now: Date): number | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, (now.getTime() - t) / 1000);
}

/** Status facts of the container on this host. */
function observedFields(o: ObservedContainer | undefined): Partial<HostStatusEntry> {
  if (!o) return {};
  const ips = Object.fromEntries(
    Object.entries(o.networks).flatMap(([n, e]) => (e.ipAddress ? [[n, e.ipAddress]] : [])),
  );
  return {
    id: o.id,
    containerName: o.name,
    state: o.state.status,
    ...(o.state.health ? { health: o.state.health } : {}),
    restartCount: o.state.restartCount,
    ...(o.state.startedAt && !o.state.startedAt.startsWith('0001-')
      ? { startedAt: o.state.startedAt.replace(/\.\d+Z$/, 'Z') }
      : {}),
    ...(o.state.running ? {} : { exitCode: o.state.exitCode }),
    imageId: o.imageId,
    ...(Object.keys(ips).length > 0 ? { ipAddresses: ips } : {}),
  };
}

/** Requeue backoff while crash-looping: Docker restarts it; we only look, and ever less often. */
export function crashBackoffMs(crashes: number): number {
  return Math.min(300_000, 5_000 * 2 ** Math.min(Math.max(crashes - 1, 0), 6));
}

export function dockerContainerKind(deps: DockerContainerKindDeps): ManagedKind<DockerContainer> {
  const imageAccess = deps.imageAccess ?? new ImageAccessRecords();
  const announced = new HeldAnnouncements();
  // Which owners this process settled per host: the steady state lists no containers (replace.ts).
  const asideMemory = new AsideMemory();
  const ops = deps.ops ?? new ContainerOps();
  return {
    kind: OWNER_KIND,
    resource: { group: GROUP, version: VERSION, plural: 'dockercontainers' },
    dockerEventType: 'container',
    defaultDeletionPolicy: 'Delete',
    dockerNameOf: containerNameOf,

    async reconcileHost(ctx: HostContext<DockerContainer>): Promise<HostOutcome> {
      const { obj, conn, host, namespace } = ctx;
      const api = conn.api;
      const hostName = host.metadata.name;
      const spec: DockerContainerSpec = obj.spec;
      const invalid = invalidNameOutcome(ctx, { explicit: spec.containerName, field: 'spec.containerName' });
      if (invalid) return invalid;
      const hostPolicy = hostPolicyOf(host.spec);
      const policy = hostPolicy.level;
      const violations = checkContainerPolicy(hostPolicy, spec);
      const name = containerNameOf(obj);
      let observed = await containerClient.observe(api, name);
      // A recreate a crash interrupted is finished or undone first (replace.ts).
      const asideScope = { memory: asideMemory, host: hostName, recordedId: ctx.previous?.id };
      if (!ctx.paused && (await settleAside(api, name, owner(obj), observed, asideScope)).length > 0)
        observed = await containerClient.observe(api, name);
      const claim = observed ? await claimContainer(ctx, name, observed) : undefined;
      const owns = claim?.owns;
      const ours = observed && owns === 'ours' ? observed : undefined;
      // After the observation: an existing container of ours does not wait
      // for a dependency that stopped being ready (resolved.held).
      const resolved: DesiredContainer =
        violations.length === 0
          ? await desiredContainer(deps, obj, hostName, namespace, {
              ...(ctx.clusterId ? { clusterId: ctx.clusterId } : {}),
              ...(ours && !claim?.adopting ? { running: ours } : {}),
            })
          : { missing: [] };
      const { env, inputs, hash } = resolved;
      // An adopted container is recreated from the spec (Docker labels cannot change).
      const upToDate =
        ours && inputs
          ? !claim?.adopting && (resolved.held !== undefined || !needsRecreate(spec, inputs, ours))
          : true;
      const creating = !ours || !upToDate;
      const imagePresent =
        inputs && creating ? (await imageClient.inspect(api, inputs.image)) !== undefined : true;
      const saved = savedFromEntry<ContainerMachineContext>(ctx.previous, {
        lastRestartCount: 0,
        crashes: 0,
        repairs: 0,
        retries: 0,
      });
      const maxRetries = spec.restartPolicy?.maximumRetryCount;
      const facts: ContainerFacts = {
        paused: ctx.paused,
        policyViolation: violations.length > 0,
        configMissing: env !== undefined && !env.ok,
        missingDependencies: resolved.missing,
        imagePresent,
        desired: spec.state ?? 'Running',
        ...(observed ? { container: containerFacts(observed, owns ?? 'foreign', upToDate, ctx.now) } : {}),
        updateNeeded: ours && inputs ? updateNeeded(spec, ours) !== undefined : false,
        networksDiffer:
          ours && inputs && !resolved.held ? hasChanges(networkChanges(spec, inputs, ours)) : false,
        restartPolicy: spec.restartPolicy?.name ?? 'unless-stopped',
        previousRestartCount: saved?.context.lastRestartCount ?? observed?.state.restartCount ?? 0,
        inCrashLoop: saved?.state === 'CrashLoopBackOff',
        stoppedByDockyard: saved?.state === 'Stopped',
        // Docker reads a retry count of 0 as no limit.
        ...(maxRetries ? { maximumRetryCount: maxRetries } : {}),
        retriesByDockyard: saved?.context.retries ?? 0,
      };
      const firstLook = classify(facts);
      // Private images stay private: may this owner create from the image on the host? (image-gate.ts)
      const gate = await gateImage({
        situation: firstLook,
        viaImageRef: spec.imageRef !== undefined,
        image: inputs?.image,
        api,
        host: hostName,
        records: imageAccess,
      });
      if (gate.action === 'refuse') {
        ctx.events.event(obj, 'Warning', gate.reason, 'Pull', `on ${hostName}: ${gate.message}`);
        return refusedOutcome({ host: hostName, ...gate, saved, fields: observedFields(ours) });
      }
      const situation = gate.action === 'pull' ? classify({ ...facts, imagePresent: false }) : firstLook;
      let step = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, saved, situation);
      let phase = step.saved.state;

      let acted = false;
      let id = ours?.id;
      const note = (type: 'Normal' | 'Warning', reason: string, action: string, message: string) =>
        ctx.events.event(obj, type, reason, action, message);
      // Our create found the name taken by a container that is not ours: nothing more is done.
      let nameTaken = false;
      // A pull or stop left running in the background: the host reports it (waitingOutcome).
      let background: OpReport | undefined;
      let stopStarted = false;
      // The old container's stop goes through ContainerOps, as the Stopped path's does (replace.ts).
      const replaceOld = (old: ObservedContainer, create: ReplaceRequest['create']) =>
        replaceContainer({
          api,
          old,
          name,
          owner: owner(obj),
          // What it was before this recreate began, kept across the reconciles its stop spans.
          before: ops.recreates.begin(hostName, owner(obj).uid, old),
          stop: () =>
            ops.stop({
              host: hostName,
              id: old.id,
              name,
              purpose: 'to recreate it',
              graceSeconds: stopTimeoutSeconds(spec),
              ownerKey: `${namespace}/${obj.metadata.name}`,
              stream: conn.stream,
              signal: ctx.signal,
              onEnded: (r) => {
                if (!r.ok) note('Warning', 'StopFailed', 'Stop', `on ${hostName}: ${r.message}`);
              },
            }),
          start: facts.desired === 'Running',
          create,
          inherit: inheritedVolumes(spec, old),
        });
      const perform = async (actions: readonly string[]) => {
        for (const action of actions) {
          if (nameTaken) return;
          if (
            inputs === undefined &&
            ['create', 'start', 'recreate', 'update', 'reconnect', 'pull'].includes(action)
          )
            continue;
          switch (action) {
            case 'pull':
              // In the background (background-ops.ts): Pulling until it ends, which enqueues us again.
              background = ops.pull({
                host: hostName,
                image: (inputs as ContainerInputs).image,
                owner: { uid: owner(obj).uid, key: `${namespace}/${obj.metadata.name}` },
                conn,
                access: imageAccess,
                signal: ctx.signal,
                note,
              });
              break;
            case 'create':
              try {
                id = await createAndConnect(api, spec, inputs as ContainerInputs, hash as string);
              } catch (err) {
                if (!(err instanceof ContainerNameConflict)) throw err;
                nameTaken = true;
              }
              acted = true;
              break;
            case 'recreate': {
              const reasons = ours
                ? recreateReasons(spec, inputs as ContainerInputs, ours)
                : ['spec changed'];
              const create = (inherit: readonly InheritedVolume[]) =>
                createAndConnect(api, spec, inputs as ContainerInputs, hash as string, { inherit });
              let replaced: ReplaceOutcome;
              try {
                replaced = ours
                  ? await replaceOld(ours, create)
                  : { state: 'replaced', id: await create([]) };
              } catch (err) {
                if (err instanceof ReplaceFailed) {
                  // Put back as it was before: nothing left to remember.
                  if (ours) ops.recreates.forget(hostName, ours.id);
                  note('Warning', 'RecreateFailed', 'Recreate', err.message);
                }
                throw err;
              }
              if (replaced.state === 'stopping') {
                // Its stop goes on off the worker; its end enqueues us, and that reconcile goes on.
                background = {
                  phase: 'Stopping',
                  message: replaced.message,
                  requeueAfterMs: replaced.requeueAfterMs,
                };
                if (replaced.started)
                  note('Normal', 'Stopping', 'Recreate', `${replaced.message} on ${hostName}`);
                break;
              }
              if (ours) ops.recreates.forget(hostName, ours.id);
              id = replaced.id;
              if (claim?.adopting)
                note(
                  'Normal',
                  'Adopted',
                  'Adopt',
                  `adopted the existing container ${name} on ${hostName}: recreated from this spec, its volumes kept`,
                );
              else
                note(
                  'Normal',
                  'Recreated',
                  'Recreate',
                  `recreated ${name} on ${hostName}: ${reasons.join(', ')} changed`,
                );
              acted = true;
              break;
            }
            case 'start':
              if (id)
                await startOrDiscard(api, id, (message) => note('Warning', 'Recreated', 'Start', message));
              acted = true;
              break;
            case 'update': {
              const body = ours ? updateNeeded(spec, ours) : undefined;
              if (ours && body) await containerClient.update(api, ours.id, body);
              acted = true;
              break;
            }
            case 'reconnect':
              if (ours)
                await applyNetworkChanges(
                  api,
                  ours.id,
                  networkChanges(spec, inputs as ContainerInputs, ours),
                );
              acted = true;
              break;
            case 'stop':
              if (ours) {
                // A long grace period is waited out in the background (background-ops.ts).
                const stop = await ops.stop({
                  host: hostName,
                  id: ours.id,
                  name,
                  graceSeconds: stopTimeoutSeconds(spec),
                  ownerKey: `${namespace}/${obj.metadata.name}`,
                  stream: conn.stream,
                  signal: ctx.signal,
                  onEnded: (r) =>
                    r.ok
                      ? note(
                          'Normal',
                          'Stopped',
                          'Stop',
                          `stopped ${name} on ${hostName} (spec.state: Stopped)`,
                        )
                      : note('Warning', 'StopFailed', 'Stop', `on ${hostName}: ${r.message}`),
                });
                if (stop.state === 'failed') throw new Error(stop.message);
                if (stop.state === 'stopping') {
                  background = {
                    phase: 'Stopping',
                    message: stop.message,
                    requeueAfterMs: stop.requeueAfterMs,
                  };
                  stopStarted = stop.started;
                }
              }
              acted = true;
              break;
            case 'recordCreated':
              note('Normal', 'Created', 'Create', `created and started ${name} on ${hostName}`);
              break;
            case 'recordDriftRepaired':
              ctx.metrics.driftRepaired(OWNER_KIND);
              note(
                'Normal',
                'DriftRepaired',
                'Start',
                `${name} on ${hostName} was ${observed ? 'stopped' : 'removed'} outside Dockyard; put it back`,
              );
              break;
            case 'recordUpdated':
              note(
                'Normal',
                'Updated',
                'Update',
                `updated ${name} on ${hostName} in place (restart policy / resources)`,
              );
              break;
            case 'recordStopped':
              // Still stopping: the Stopped Event comes when it ends (onEnded above).
              if (!background)
                note('Normal', 'Stopped', 'Stop', `stopped ${name} on ${hostName} (spec.state: Stopped)`);
              else if (stopStarted)
                note(
                  'Normal',
                  'Stopping',
                  'Stop',
                  `${background.message} on ${hostName} (spec.state: Stopped)`,
                );
              break;
            case 'recordHealthy':
              note('Normal', 'Healthy', 'Observe', `${name} on ${hostName} is healthy`);
              break;
            case 'recordUnhealthy':
              note(
                'Warning',
                'Unhealthy',
                'Observe',
                `${name} on ${hostName} is unhealthy: its healthcheck fails`,
              );
              break;
            case 'recordBackOff':
              note(
                'Warning',
                'BackOff',
                'Observe',
                `${name} on ${hostName} keeps exiting (restart count ${observed?.state.restartCount ?? 0}); Docker is restarting it per its restart policy`,
              );
              break;
            case 'recordFailed':
              note(
                'Warning',
                'Failed',
                'Observe',
                `${name} on ${hostName} exited with ${exitDescription(observed)} and its restart policy keeps it stopped`,
              );
              break;
            case 'recordOOMKilled':
              note(
                'Warning',
                'OOMKilled',
                'Start',
                `${name} on ${hostName} was killed for running out of memory (exit code ${observed?.state.exitCode ?? '?'}); starting it again under restart policy on-failure (Dockyard's restart ${step.saved.context.retries} of ${maxRetries || 'unlimited'})`,
              );
              break;
            case 'recordPolicyViolation':
              note('Warning', 'PolicyViolation', 'Create', describeViolations(hostName, policy, violations));
              break;
            case 'recordNameConflict':
              note(
                'Warning',
                'NameConflict',
                'Create',
                containerConflictMessage(name, hostName, claim?.refusal),
              );
              break;
            case 'recordWaiting':
              note('Normal', 'WaitingForDependencies', 'Create', waitingMessage(resolved.missing, env));
              break;
          }
        }
      };
      await perform(step.actions);
      if (nameTaken) {
        // Created meanwhile by someone else: the same NameConflict a fresh look finds.
        observed = await containerClient.observe(api, name);
        const theirs = observed ? ownership(observed.labels, owner(obj)) : 'ours';
        if (observed && theirs !== 'ours') {
          step = stepMachine(
            containerMachine,
            CONTAINER_MACHINE_VERSION,
            step.saved,
            classify({ ...facts, container: containerFacts(observed, theirs, false, ctx.now) }),
          );
          phase = step.saved.state;
          await perform(step.actions);
        }
      } else if (acted) {
        observed = await containerClient.observe(api, name);
        // What was just created or started is usually up already: one more
        // machine step on this fresh observation lets status say Running now
        // rather than one requeue later, behind everything else in the queue.
        const fresh = observed && ownership(observed.labels, owner(obj)) === 'ours' ? observed : undefined;
        const freshUpToDate =
          resolved.held !== undefined || (inputs && fresh && !needsRecreate(spec, inputs, fresh));
        if (fresh && inputs && SETTLING_PHASES.has(phase) && freshUpToDate) {
          const again = classify({
            ...facts,
            imagePresent: true,
            container: containerFacts(fresh, 'ours', true, ctx.now),
            updateNeeded: false,
            networksDiffer: false,
            previousRestartCount: step.saved.context.lastRestartCount,
            inCrashLoop: false,
          });
          if (again.type === 'RUNNING') {
            step = stepMachine(containerMachine, CONTAINER_MACHINE_VERSION, step.saved, again);
            phase = step.saved.state;
            // Only record actions: a RUNNING observation never asks Docker for anything.
            await perform(step.actions);
          }
        }
      }

      // Said once per change of what the container does without, not on every look.
      const held = announced.transition(
        `${obj.metadata.uid ?? name}@${hostName}`,
        saved?.context.heldOn,
        resolved.held,
      );
      if (held.announce && resolved.held)
        note(
          'Normal',
          'DependencyNotReady',
          'Observe',
          `${name} on ${hostName}: ${heldMessage(resolved.held)}`,
        );
      step = { ...step, saved: { ...step.saved, context: withHeldOn(step.saved.context, held.heldOn) } };
      const entry: HostStatusEntry = {
        name: hostName,
        phase,
        ...observedFields(
          observed && ownership(observed.labels, owner(obj)) === 'ours' ? observed : undefined,
        ),
        ...(resolved.held ? { message: heldMessage(resolved.held) } : {}),
        machine: machineEntry(step.saved),
      };
      if (situation.type === 'REMOVING') {
        const message = `${name} is being removed outside Dockyard; it is put back once Docker has removed it`;
        return {
          entry: { ...entry, message },
          ready: false,
          failure: { reason: 'RemovedOutOfBand', message },
          requeueAfterMs: 500,
        };
      }
      if (background) return waitingOutcome(entry, background);
      return outcome(entry, phase, {
        violations: describeViolations(hostName, policy, violations),
        waiting: waitingMessage(resolved.missing, env),
        env,
        observed,
        crashes: step.saved.context.crashes,
        acted,
        name,
        refusal: claim?.refusal,
      });
    },

    async finalizeHost(ctx: HostContext<DockerContainer>, policy: DeletionPolicy): Promise<FinalizeOutcome> {
      // Leaving the host: a pull for it there is no longer waited for.
      ops.release(ctx.host.metadata.name, owner(ctx.obj).uid);
      if (policy === 'Orphan') return { done: true };
      // A recreate a crash interrupted may have left our previous container aside (replace.ts).
      await removeAside(ctx.conn.api, containerNameOf(ctx.obj), owner(ctx.obj).uid);
      const observed = await containerClient.observe(ctx.conn.api, containerNameOf(ctx.obj));
      if (!observed || ownership(observed.labels, owner(ctx.obj)) !== 'ours') return { done: true };
      if (observed.state.running || observed.state.restarting) {
        // The grace period is waited out off the worker: not done (no error, no backoff) until it ends.
        const stop = await ops.stop({
          host: ctx.host.metadata.name,
          id: observed.id,
          name: containerNameOf(ctx.obj),
          graceSeconds: stopTimeoutSeconds(ctx.obj.spec),
          ownerKey: `${ctx.namespace}/${ctx.obj.metadata.name}`,
          stream: ctx.conn.stream,
          signal: ctx.signal,
        });
        if (stop.state === 'stopping') return { done: false, message: stop.message };
        if (stop.state === 'failed') throw new Error(stop.message);
      }
      await containerClient.remove(ctx.conn.api, observed.id, { force: true });
      return { done: true };
    },
  };
}

function withoutHash(labels: Record<string, string>): Record<string, string> {
  const { [OWNER_LABELS.specHash]: _hash, ...rest } = labels;
  return rest;
}

function hasChanges(c: { connect: unknown[]; disconnect: unknown[] }): boolean {
  return c.connect.length > 0 || c.disconnect.length > 0;
}

async function applyNetworkChanges(
  api: HostContext<DockerContainer>['conn']['api'],
  id: string,
  changes: ReturnType<typeof networkChanges>,
): Promise<void> {
  for (const network of changes.disconnect) await containerClient.disconnect(api, network, id);
  for (const c of changes.connect) {
    await containerClient.connect(api, c.network, id, {
      ...(c.aliases ? { aliases: c.aliases } : {}),
      ...(c.ipv4Address ? { ipv4Address: c.ipv4Address } : {}),
    });
  }
}

/**
 * Creates the container and connects its other networks. A name taken
 * already is adopted only when the container there carries this resource's
 * uid (ours, left by a lost status write); anything else rethrows the
 * ContainerNameConflict (exported for its unit test).
 */
export async function createAndConnect(
  api: HostContext<DockerContainer>['conn']['api'],
  spec: DockerContainerSpec,
  inputs: ContainerInputs,
  hash: string,
  extra: { inherit?: readonly InheritedVolume[] } = {},
): Promise<string> {
  let id: string;
  try {
    id = await containerClient.create(api, toCreateOptions(spec, inputs, hash, extra));
  } catch (err) {
    if (!(err instanceof ContainerNameConflict)) throw err;
    const existing = await containerClient.observe(api, inputs.name);
    // Adopt only what carries this resource's uid; anything else is a NameConflict.
    const uid = inputs.ownerLabels[OWNER_LABELS.uid];
    if (!existing || !uid || ownership(existing.labels, { uid }) !== 'ours') throw err;
    id = existing.id;
  }
  const created = await containerClient.observe(api, id);
  if (created) await applyNetworkChanges(api, id, networkChanges(spec, inputs, created));
  return id;
}

/** `code 1`, or `code 137 (OOMKilled)` when the kernel killed it for memory. */
function exitDescription(o: ObservedContainer | undefined): string {
  return `code ${o?.state.exitCode ?? '?'}${o?.state.oomKilled ? ' (OOMKilled)' : ''}`;
}

function waitingMessage(missing: string[], env: Awaited<ReturnType<typeof resolveEnv>> | undefined): string {
  if (env && !env.ok) return env.message;
  return missing.length > 0 ? `waiting for ${missing.join(', ')} to be ready on this host` : '';
}

interface OutcomeFacts {
  violations: string;
  waiting: string;
  env: Awaited<ReturnType<typeof resolveEnv>> | undefined;
  observed: ObservedContainer | undefined;
  crashes: number;
  acted: boolean;
  /** The Docker name this resource asks for. */
  name: string;
  /** Why an existing container of that name was not adopted. */
  refusal?: AdoptionRefusal | undefined;
}

function containerConflictMessage(name: string, host: string, refusal: AdoptionRefusal | undefined): string {
  return (
    `a container named ${name} already exists on ${host} and is not owned by this DockerContainer; ` +
    `Dockyard never touches it. Remove or rename it, or set spec.containerName to another name${adoptionAdvice(refusal)}`
  );
}

/**
 * Whose the container at the name is. One this resource may adopt
 * (spec.adoptionPolicy) counts as ours and is `adopting`: the recreate path
 * replaces it by one with this resource's labels, keeping its volumes.
 */
async function claimContainer(
  ctx: HostContext<DockerContainer>,
  name: string,
  observed: ObservedContainer,
): Promise<{ owns: Ownership; adopting: boolean; refusal?: AdoptionRefusal }> {
  const byLabels = ownership(observed.labels, owner(ctx.obj));
  if (byLabels === 'ours' || !ctx.adopt) return { owns: byLabels, adopting: false };
  const result = await ctx.adopt({
    type: 'container',
    dockerName: name,
    labels: observed.labels,
    policy: ctx.obj.spec.adoptionPolicy ?? 'Never',
  });
  if (result.owns === 'ours') return { owns: 'ours', adopting: true };
  return { owns: result.owns, adopting: false, refusal: result.refusal };
}

/** Maps the phase to what the managed reconciler aggregates: ready, retrying (failure) or stalled. */
function outcome(entry: HostStatusEntry, phase: string, f: OutcomeFacts): HostOutcome {
  const withMessage = (message: string) => ({ ...entry, message });
  switch (phase) {
    case 'PolicyViolation':
      return {
        entry: withMessage(f.violations),
        ready: false,
        stalled: { reason: 'PolicyViolation', message: f.violations },
      };
    case 'NameConflict': {
      // The name we asked for (entry.containerName is only set for a container of ours).
      const message = containerConflictMessage(f.name, entry.name, f.refusal);
      return { entry: withMessage(message), ready: false, stalled: { reason: 'NameConflict', message } };
    }
    case 'Failed': {
      const message = `exited with ${exitDescription(f.observed)}; its restart policy keeps it stopped`;
      return { entry: withMessage(message), ready: false, stalled: { reason: 'Failed', message } };
    }
    case 'WaitingForDependencies': {
      const reason = f.env && !f.env.ok ? f.env.reason : 'DependenciesNotReady';
      return { entry: withMessage(f.waiting), ready: false, failure: { reason, message: f.waiting } };
    }
    case 'CrashLoopBackOff': {
      const message = `keeps exiting (exit code ${f.observed?.state.exitCode ?? '?'}, ${f.observed?.state.restartCount ?? 0} restarts)`;
      return {
        entry: withMessage(message),
        ready: false,
        failure: { reason: 'CrashLoopBackOff', message },
        requeueAfterMs: crashBackoffMs(f.crashes),
      };
    }
    case 'Unhealthy':
      return {
        entry: withMessage('healthcheck failing'),
        ready: false,
        failure: { reason: 'Unhealthy', message: 'healthcheck failing' },
        requeueAfterMs: 2_000,
      };
    case 'Paused':
      return {
        entry: withMessage('paused (dockyard.io/paused): observing only'),
        ready: f.observed?.state.running ?? false,
      };
    default:
      if (READY_PHASES.has(phase))
        return { entry, ready: true, ...(f.acted ? { requeueAfterMs: 1_000 } : {}) };
      return { entry, ready: false, requeueAfterMs: 1_000 };
  }
}
