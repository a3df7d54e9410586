import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { Reason } from '../../crds/reasons.js';
import { containerClient, type ObservedContainer } from '../../docker/container-client.js';
import { needsRecreate, networkChanges, updateNeeded } from '../../docker/container-spec.js';
import { imageClient, type ObservedImage } from '../../docker/image-client.js';
import type { Concluded, Observed } from '../../managed/host-flow.js';
import { invalidNameOutcome } from '../../managed/invalid-name.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { ownership, type Ownership } from '../../managed/ownership.js';
import type { HostContext } from '../../managed/types.js';
import { checkContainerPolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import type { ContainerEvent, ContainerMachineContext } from './container-machine.js';
import { eventMessages } from './container-messages.js';
import { hasChanges } from './container-docker.js';
import { containerNameOf, ownerOf } from './container-owner.js';
import { observedFields } from './container-report.js';
import type { ContainerClaim, ContainerKindState, ContainerRun, ContainerWork } from './container-work.js';
import { desiredContainer, type DesiredContainer } from './desired-container.js';
import { unsupportedByEngineOutcome } from './engine-gate.js';
import { admitContainerImage } from './image-admission.js';
import { gateImage, refusedOutcome } from './image-gate.js';
import { settleAside } from './replace.js';
import {
  boundedLogTail,
  demuxDockerLogs,
  LOG_TAIL_LINES,
  rerunRequested,
  rerunRequestOf,
  secretValuesOf,
} from './run-once.js';
import { classify, type ContainerFacts, type ContainerSituation } from './situation.js';

type Saved = SavedMachineState<ContainerMachineContext> | undefined;

/** Phases right after Dockyard created or started the container, which one fresh look can settle. */
const SETTLING_PHASES = new Set(['Creating', 'Starting', 'Recreating']);

function secondsSince(iso: string | undefined, now: Date): number | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, (now.getTime() - t) / 1000);
}

/** What the classifier needs to know about an observed container. */
export function containerFacts(
  observed: ObservedContainer,
  judged: { ownership: Ownership; upToDate: boolean; now: Date },
): NonNullable<ContainerFacts['container']> {
  const { ownership: owns, upToDate, now } = judged;
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

/**
 * Whose the container at the name is. One this resource may adopt
 * (spec.adoptionPolicy) counts as ours and is `adopting`: the recreate path
 * replaces it by one with this resource's labels, keeping its volumes.
 */
async function claimContainer(
  ctx: HostContext<DockerContainer>,
  name: string,
  observed: ObservedContainer,
): Promise<ContainerClaim> {
  const byLabels = ownership(observed.labels, ownerOf(ctx.obj));
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

/** The container at the name and whose it is. */
interface Found {
  observed: ObservedContainer | undefined;
  claim: ContainerClaim | undefined;
  ours: ObservedContainer | undefined;
}

/** The container at the name, once a recreate a crash interrupted is finished or undone (replace.ts). */
async function lookAtName(
  state: ContainerKindState,
  ctx: HostContext<DockerContainer>,
  name: string,
): Promise<Found> {
  const api = ctx.conn.api;
  // What the reconcile decides rests on this look (Docker events that came before it are seen).
  const looked = ctx.coverage?.beginLook();
  let observed = await containerClient.observe(api, name);
  looked?.();
  const asideScope = {
    memory: state.asideMemory,
    host: ctx.host.metadata.name,
    recordedId: ctx.previous?.id,
  };
  if (!ctx.paused && (await settleAside(api, name, ownerOf(ctx.obj), observed, asideScope)).length > 0)
    observed = await containerClient.observe(api, name);
  const claim = observed ? await claimContainer(ctx, name, observed) : undefined;
  const ours = observed && claim?.owns === 'ours' ? observed : undefined;
  return { observed, claim, ours };
}

/**
 * The image on the host, inspected at most once per observation: the facts
 * (is it present?) and the image gate (may this owner use it?) ask about the
 * same image, which does not change between the two questions.
 */
function imageLookOnce(
  api: HostContext<DockerContainer>['conn']['api'],
  image: string | undefined,
): () => Promise<ObservedImage | undefined> {
  let look: Promise<ObservedImage | undefined> | undefined;
  return () => {
    if (image === undefined) return Promise.resolve(undefined);
    look ??= imageClient.inspect(api, image);
    return look;
  };
}

/** Everything the classifier weighs, from the observation, what it should be, and the saved machine. */
async function factsOf(opts: {
  ctx: HostContext<DockerContainer>;
  found: Found;
  resolved: DesiredContainer;
  policyViolation: boolean;
  saved: Saved;
  lookImage: () => Promise<ObservedImage | undefined>;
}): Promise<ContainerFacts> {
  const { ctx, found, resolved, saved } = opts;
  const { observed, claim, ours } = found;
  const spec = ctx.obj.spec;
  const { env, inputs } = resolved;
  // An adopted container is recreated from the spec (Docker labels cannot change).
  const upToDate =
    ours && inputs
      ? !claim?.adopting && (resolved.held !== undefined || !needsRecreate(spec, inputs, ours))
      : true;
  const creating = !ours || !upToDate;
  const imagePresent = inputs && creating ? (await opts.lookImage()) !== undefined : true;
  const maxRetries = spec.restartPolicy?.maximumRetryCount;
  return {
    paused: ctx.paused,
    policyViolation: opts.policyViolation,
    configMissing: env !== undefined && !env.ok,
    missingDependencies: resolved.missing,
    imagePresent,
    desired: spec.state ?? 'Running',
    ...(observed
      ? {
          container: containerFacts(observed, {
            ownership: claim?.owns ?? 'foreign',
            upToDate,
            now: ctx.now,
          }),
        }
      : {}),
    updateNeeded: ours && inputs ? updateNeeded(spec, ours) !== undefined : false,
    networksDiffer: ours && inputs && !resolved.held ? hasChanges(networkChanges(spec, inputs, ours)) : false,
    restartPolicy: spec.restartPolicy?.name ?? 'unless-stopped',
    previousRestartCount: saved?.context.lastRestartCount ?? observed?.state.restartCount ?? 0,
    inCrashLoop: saved?.state === 'CrashLoopBackOff',
    stoppedByDockyard: saved?.state === 'Stopped',
    // Docker reads a retry count of 0 as no limit.
    ...(maxRetries ? { maximumRetryCount: maxRetries } : {}),
    retriesByDockyard: saved?.context.retries ?? 0,
    rerunRequested: rerunRequested(rerunRequestOf(ctx.obj), saved?.context.rerun),
  };
}

/**
 * A Failed container's last output for status: read from Docker once per
 * exit (the previous entry's copy while its finishedAt is the same), with
 * the values of the Secrets it reads redacted.
 */
async function failedLogTail(
  state: ContainerKindState,
  ctx: HostContext<DockerContainer>,
  ours: ObservedContainer,
): Promise<string> {
  const previous = ctx.previous as { id?: string; finishedAt?: string; lastLogLines?: string } | undefined;
  const finishedAt = observedFields(ours).finishedAt;
  if (previous?.id === ours.id && previous.finishedAt === finishedAt && previous.lastLogLines !== undefined)
    return previous.lastLogLines;
  const raw = await containerClient.tailLogs(ctx.conn.api, ours.id, LOG_TAIL_LINES);
  const secrets = await secretValuesOf(ctx.obj.spec, state.deps.refs(ctx.namespace));
  return boundedLogTail(demuxDockerLogs(raw), secrets);
}

/** An image refused on this host: a Warning Event, Ready=False with the reason; nothing is created or pulled. */
function refuseImage(opts: {
  ctx: HostContext<DockerContainer>;
  refused: { reason: Reason; message: string };
  found: Found;
  saved: Saved;
}): Concluded {
  const { ctx, refused, saved } = opts;
  const hostName = ctx.host.metadata.name;
  ctx.events.event(
    ctx.obj,
    'Warning',
    refused.reason,
    'Pull',
    eventMessages.onHost(hostName, refused.message),
  );
  const fields = observedFields(opts.found.ours);
  return { outcome: refusedOutcome({ host: hostName, ...refused, saved, fields }) };
}

/**
 * Private images stay private: may this owner create from the image on the
 * host? (image-gate.ts). Either the situation to decide on, or the host's
 * outcome when the image is refused (nothing is decided or done).
 */
async function passImageGate(opts: {
  state: ContainerKindState;
  ctx: HostContext<DockerContainer>;
  facts: ContainerFacts;
  resolved: DesiredContainer;
  found: Found;
  saved: Saved;
  lookImage: () => Promise<ObservedImage | undefined>;
}): Promise<{ situation: ContainerSituation } | Concluded> {
  const { ctx, facts, saved } = opts;
  const hostName = ctx.host.metadata.name;
  const firstLook = classify(facts);
  const gate = await gateImage({
    situation: firstLook,
    viaImageRef: ctx.obj.spec.imageRef !== undefined,
    image: opts.resolved.inputs?.image,
    api: ctx.conn.api,
    host: hostName,
    records: opts.state.imageAccess,
    lookLocal: opts.lookImage,
  });
  if (gate.action === 'refuse') return refuseImage({ ctx, refused: gate, found: opts.found, saved });
  return { situation: gate.action === 'pull' ? classify({ ...facts, imagePresent: false }) : firstLook };
}

/**
 * Observe: the container at the name, whose it is, what it should be created
 * from (after the observation: an existing container of ours does not wait
 * for a dependency that stopped being ready), the classifier's facts and the
 * image gate. An invalid name, a field the host's engine cannot honour or a
 * refused image ends the reconcile here.
 */
export async function observeContainer(
  state: ContainerKindState,
  ctx: HostContext<DockerContainer>,
  saved: Saved,
): Promise<Observed<ContainerWork, ContainerEvent> | Concluded> {
  const { obj, host } = ctx;
  const spec = obj.spec;
  const invalid = invalidNameOutcome(ctx, { explicit: spec.containerName, field: 'spec.containerName' });
  if (invalid) return { outcome: invalid };
  const unsupported = unsupportedByEngineOutcome(ctx);
  if (unsupported) return { outcome: unsupported };
  const hostPolicy = hostPolicyOf(host.spec);
  const violations = checkContainerPolicy(hostPolicy, spec);
  const name = containerNameOf(obj);
  const found = await lookAtName(state, ctx, name);
  const resolved: DesiredContainer =
    violations.length === 0
      ? await desiredContainer(state.deps, {
          container: obj,
          hostName: host.metadata.name,
          namespace: ctx.namespace,
          ...(ctx.clusterId ? { clusterId: ctx.clusterId } : {}),
          ...(found.ours && !found.claim?.adopting ? { running: found.ours } : {}),
          seccompProfiles: hostPolicy.settings.seccompProfiles,
        })
      : { missing: [] };
  const admitted = await admitContainerImage({ gate: state.deps.imagePolicy, ctx, resolved });
  if ('refused' in admitted) return refuseImage({ ctx, refused: admitted.refused, found, saved });
  const lookImage = imageLookOnce(ctx.conn.api, resolved.inputs?.image);
  const facts = await factsOf({
    ctx,
    found,
    resolved,
    policyViolation: violations.length > 0,
    saved,
    lookImage,
  });
  const gated = await passImageGate({ state, ctx, facts, resolved, found, saved, lookImage });
  if ('outcome' in gated) return gated;
  const work: ContainerWork = {
    name,
    hostName: host.metadata.name,
    spec,
    ...found,
    resolved,
    facts,
    situation: gated.situation,
    violations: describeViolations(host.metadata.name, hostPolicy.level, violations),
    heldOnBefore: saved?.context.heldOn,
    id: found.ours?.id,
    acted: false,
    nameTaken: false,
    ...(admitted.pin ? { imagePin: admitted.pin } : {}),
    background: undefined,
    stopStarted: false,
    ...(gated.situation.type === 'FAILED' && found.ours
      ? { lastLogLines: await failedLogTail(state, ctx, found.ours) }
      : {}),
  };
  return { work, event: gated.situation };
}

/**
 * After acting, one more look (unless the create lost the name: the create
 * looked already). What was just created or started is usually up already:
 * one more machine step on this fresh observation lets status say Running
 * now rather than one requeue later, behind everything else in the queue.
 */
export async function settleAfterActing(run: ContainerRun): Promise<ContainerEvent | undefined> {
  const { ctx, work } = run;
  if (work.nameTaken || !work.acted) return undefined;
  const looked = ctx.coverage?.beginLook();
  work.observed = await containerClient.observe(ctx.conn.api, work.name);
  const fresh =
    work.observed && ownership(work.observed.labels, ownerOf(ctx.obj)) === 'ours' ? work.observed : undefined;
  const { inputs, held } = work.resolved;
  const freshUpToDate = held !== undefined || (inputs && fresh && !needsRecreate(work.spec, inputs, fresh));
  if (!fresh || !inputs || !SETTLING_PHASES.has(run.step.saved.state) || !freshUpToDate) return undefined;
  const again = classify({
    ...work.facts,
    imagePresent: true,
    container: containerFacts(fresh, { ownership: 'ours', upToDate: true, now: ctx.now }),
    updateNeeded: false,
    networksDiffer: false,
    previousRestartCount: run.step.saved.context.lastRestartCount,
    inCrashLoop: false,
  });
  // Only record actions follow: a RUNNING observation never asks Docker for anything.
  if (again.type !== 'RUNNING') return undefined;
  // Status will say what this look saw: the create and start events of this reconcile wake nothing.
  looked?.();
  return again;
}
