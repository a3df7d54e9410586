import { CoreV1Api } from '@kubernetes/client-node';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import {
  ImagePullError,
  imageClient,
  type ObservedImage,
  type PullProgress,
} from '../../docker/image-client.js';
import { digestMoved, repoDigestFor } from '../../docker/image-reference.js';
import { machineEntry, savedFromEntry } from '../../managed/machine-state.js';
import { registerManagedController, type ManagedControllerHandle } from '../../managed/register.js';
import type {
  DeletionPolicy,
  FinalizeOutcome,
  HostContext,
  HostOutcome,
  HostStatusEntry,
  ManagedKind,
} from '../../managed/types.js';
import type { Informer } from '../../runtime/informer.js';
import type { HostRuntime } from '../../docker/host-runtime.js';
import type { ControllerDeps } from '../index.js';
import { stepMachine, type SavedMachineState } from '../../managed/machine-step.js';
import {
  IMAGE_MACHINE_VERSION,
  INITIAL_IMAGE_CONTEXT,
  imageMachine,
  requeueAfterMs,
  type ImageEvent,
  type ImageMachineContext,
} from './image-machine.js';
import {
  credentialIdentity,
  decideAccess,
  fromRegistry,
  IMAGE_PULL_CREDENTIALS_REJECTED,
  imageAccessRecordsFor,
  ImageAccessRecords,
  judgeVerification,
  type CredentialIdentity,
} from './image-access.js';
import { createImageMetrics, noopImageMetrics, type ImageMetrics } from './image-metrics.js';
import {
  describeProgress,
  formatBytes,
  imageRefOf,
  isPinned,
  pullPolicyOf,
  refreshIntervalMs,
  retryDelayMs,
} from './image-spec.js';
import { resolvePullCredentials, type PullCredentials } from './pull-credentials.js';
import { PullJobs, type PullResult } from './pull-jobs.js';

const OWNER_KIND = 'DockerImage';
/** A pull that has not finished after this long is abandoned and retried. */
const DEFAULT_PULL_TIMEOUT_MS = 15 * 60_000;
const PROGRESS_REQUEUE_MS = 2_000;
const NO_PROGRESS: PullProgress = { currentBytes: 0, totalBytes: 0, percent: 0 };

export interface DockerImageKindDeps {
  /** Reads pull Secrets by name (never lists or watches them). */
  core: Pick<CoreV1Api, 'readNamespacedSecret'>;
  metrics?: ImageMetrics;
  /** The DockerImages in the cache, for the shared-image check before a delete. */
  objects?: () => readonly DockerImage[];
  /** Reconcile `namespace/name` soon: its background pull settled. */
  trigger?: (key: string) => void;
  now?: () => number;
  pullTimeoutMs?: number;
  /** Which credentials each image on each host was pulled or verified with (shared with DockerContainer). */
  access?: ImageAccessRecords;
}

function ownerId(image: DockerImage): string {
  return image.metadata.uid ?? `${image.metadata.namespace ?? ''}/${image.metadata.name}`;
}

/** One pull per host, image, platform and credentials: owners with other credentials never share a pull. */
function pullKey(
  host: string,
  ref: string,
  platform: string | undefined,
  identity: CredentialIdentity,
): string {
  return [host, ref, platform ?? '', identity].join('\u0000');
}

/** Whose credentials a message is about: only the owner's own Secret is named. */
function whose(creds: PullCredentials): string {
  return creds.source ? `the credentials of pull secret ${creds.source}` : 'anonymous access';
}

function withNotes(message: string, notes: readonly string[]): string {
  return notes.length > 0 ? `${message} (${notes.join('; ')})` : message;
}

/**
 * Where to resume: this process's own last decision for the object on the
 * host when it has one (always at least as new as the informer's copy of
 * status), otherwise what status saved (after a restart). Another image
 * reference than the saved one starts over.
 */
function restore(
  memo: SavedMachineState<ImageMachineContext> | undefined,
  previous: HostStatusEntry | undefined,
  ref: string,
): SavedMachineState<ImageMachineContext> | undefined {
  const saved = memo ?? savedFromEntry<ImageMachineContext>(previous, INITIAL_IMAGE_CONTEXT);
  return saved && saved.context.image === ref ? saved : undefined;
}

/**
 * What re-resolving the tag with the owner's credentials says. When it is an
 * access check (`checking`: the image is present but not proven for this
 * owner), a refusal is ImagePullCredentialsRejected, and under Never another
 * digest cannot be pulled instead, so it refuses as well. Messages name only
 * this owner's own Secrets.
 */
async function resolveEvent(opts: {
  api: Parameters<typeof imageClient.remoteDigest>[0];
  ref: string;
  local: ObservedImage | undefined;
  creds: PullCredentials;
  checking: boolean;
  policy: string;
  now: number;
}): Promise<ImageEvent> {
  const { ref, local, creds, now } = opts;
  let digest: string;
  try {
    digest = await imageClient.remoteDigest(opts.api, ref, creds.auth);
  } catch (err) {
    const e = ImagePullError.from(err, `resolving ${ref}`);
    const v = opts.checking && local ? judgeVerification({ error: e }, local, ref) : undefined;
    if (v?.outcome === 'rejected')
      return {
        type: 'RESOLVE_FAILED',
        now,
        reason: v.reason,
        message: withNotes(
          `the registry did not accept ${whose(creds)} for ${ref}: ${v.detail}`,
          creds.notes,
        ),
      };
    return { type: 'RESOLVE_FAILED', now, reason: e.reason, message: withNotes(e.message, creds.notes) };
  }
  const moved = digestMoved(local?.repoDigests ?? [], ref, digest);
  if (moved && opts.checking && opts.policy === 'Never')
    return {
      type: 'RESOLVE_FAILED',
      now,
      reason: IMAGE_PULL_CREDENTIALS_REJECTED,
      message: withNotes(
        `the registry resolves ${ref} to ${digest} for ${whose(creds)}, not to the image on the host, ` +
          'and pullPolicy Never does not pull',
        creds.notes,
      ),
    };
  return { type: 'RESOLVED', now, digest, moved };
}

/**
 * The DockerImage kind. Pulls run in the background (one per host, image
 * and credentials, see PullJobs) so each reconcile reports progress and the
 * work queue never waits on a registry. An image already on the host that
 * came from the registry with someone else's credentials is used only after
 * this owner's credentials are accepted for it (image-access.ts). Images are
 * shared: they carry no owner labels, so the default is Orphan, and Delete
 * removes an image only when no container uses it and no other DockerImage
 * wants it on that host.
 */
export function dockerImageKind(deps: DockerImageKindDeps): ManagedKind<DockerImage> {
  const metrics = deps.metrics ?? noopImageMetrics;
  const clock = deps.now ?? Date.now;
  const jobs = new PullJobs({ ...(deps.trigger ? { onSettled: deps.trigger } : {}), now: clock });
  /** Last machine state per owner and host: status may not carry it (or lag behind the informer). */
  const memo = new Map<string, SavedMachineState<ImageMachineContext>>();
  const memoKey = (image: DockerImage, host: string) => `${ownerId(image)}\u0000${host}`;
  const access = deps.access ?? new ImageAccessRecords();
  /** The pull each owner started or joined on a host, and the credential identity it runs with. */
  const jobKeys = new Map<string, { key: string; identity: CredentialIdentity }>();

  function startPull(ctx: HostContext<DockerImage>, ref: string, creds: PullCredentials): void {
    const hostName = ctx.host.metadata.name;
    const identity = credentialIdentity(creds.auth);
    const key = pullKey(hostName, ref, ctx.obj.spec.platform, identity);
    jobKeys.set(memoKey(ctx.obj, hostName), { key, identity });
    const platform = ctx.obj.spec.platform;
    const stream = ctx.conn.stream;
    const timeoutMs = deps.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
    ctx.logger.info({ image: ref, credentialsFrom: creds.source ?? null }, 'pulling image');
    jobs.start(
      key,
      ownerId(ctx.obj),
      `${ctx.namespace}/${ctx.obj.metadata.name}`,
      async (signal, onProgress): Promise<PullResult> => {
        const started = clock();
        const timeout = AbortSignal.timeout(timeoutMs);
        try {
          const out = await imageClient.pull(stream, ref, {
            ...(creds.auth ? { auth: creds.auth } : {}),
            ...(platform ? { platform } : {}),
            signal: AbortSignal.any([signal, timeout]),
            onProgress,
          });
          const durationMs = clock() - started;
          metrics.pulled(hostName, 'success', durationMs / 1000, out.bytes);
          return {
            ok: true,
            ...(out.digest ? { digest: out.digest } : {}),
            bytes: out.bytes,
            durationMs,
            finishedAt: clock(),
          };
        } catch (err) {
          const durationMs = clock() - started;
          const e =
            timeout.aborted && !signal.aborted
              ? new ImagePullError('PullError', `pulling ${ref}: not finished after ${timeoutMs / 1000}s`)
              : ImagePullError.from(err, `pulling ${ref}`);
          metrics.pulled(hostName, e.reason, durationMs / 1000, 0);
          // No notes here: they name the starter's Secrets, and each owner adds its own.
          return {
            ok: false,
            reason: e.reason,
            message: e.message,
            durationMs,
            finishedAt: clock(),
          };
        }
      },
    );
  }

  const kind: ManagedKind<DockerImage> = {
    kind: OWNER_KIND,
    resource: { group: GROUP, version: VERSION, plural: 'dockerimages' },
    dockerEventType: 'image',
    defaultDeletionPolicy: 'Orphan',
    // Docker names a pulled image by its familiar reference in image events (`id` of a pull).
    dockerNameOf: imageRefOf,

    async reconcileHost(ctx: HostContext<DockerImage>): Promise<HostOutcome> {
      const { obj, conn, namespace } = ctx;
      const hostName = ctx.host.metadata.name;
      const ref = imageRefOf(obj);
      const owner = ownerId(obj);
      const ownerKey = `${namespace}/${obj.metadata.name}`;
      const mk = memoKey(obj, hostName);
      const job = jobKeys.get(mk);
      const policy = pullPolicyOf(obj);
      const pinned = isPinned(ref);
      const intervalMs = refreshIntervalMs(obj);
      const now = ctx.now.getTime();
      let saved = restore(memo.get(mk), ctx.previous, ref);

      let creds: PullCredentials | undefined;
      const credentials = async () =>
        (creds ??= await resolvePullCredentials(
          deps.core,
          namespace,
          (obj.spec.pullSecrets ?? []).map((s) => s.name),
          ref,
        ));

      const queue: ImageEvent[] = [];
      // Only the pull this owner started or joined: another owner's (other credentials) is not ours to see.
      const view = job ? jobs.observe(job.key, owner, ownerKey) : undefined;
      const finished = view?.state === 'done' ? view.result : undefined;
      if (finished)
        queue.push(
          finished.ok
            ? {
                type: 'PULL_SUCCEEDED',
                now: finished.finishedAt,
                ...(finished.digest ? { digest: finished.digest } : {}),
              }
            : {
                type: 'PULL_FAILED',
                now: finished.finishedAt,
                reason: finished.reason,
                message: withNotes(finished.message, (await credentials()).notes),
              },
        );
      // After looking at the pull: a pull that just finished is seen here.
      const local = await imageClient.inspect(conn.api, ref);
      let verifiedId = saved?.context.verifiedImageId;
      if (finished?.ok && job && access.recordPull(hostName, local, ref, job.identity, finished.digest))
        verifiedId = local?.id;
      const verified = async (image: NonNullable<typeof local>): Promise<boolean> => {
        if (!fromRegistry(image, ref) || verifiedId === image.id) return true;
        const identity = credentialIdentity((await credentials()).auth);
        const decision = decideAccess({
          fromRegistry: true,
          recorded: access.recorded(hostName, image.id),
          identity,
        });
        if (decision === 'verify') return false;
        verifiedId = image.id;
        return true;
      };
      const usable = local !== undefined && (await verified(local));
      queue.push({
        type: 'OBSERVED',
        now,
        image: ref,
        policy,
        present: local !== undefined,
        verified: local === undefined || usable,
        pulling: view?.state === 'running',
        pinned,
        refreshIntervalMs: intervalMs,
        paused: ctx.paused,
      });

      for (let event = queue.shift(); event; event = queue.shift()) {
        const before = saved?.state;
        const step = stepMachine(imageMachine, IMAGE_MACHINE_VERSION, saved, event);
        saved = step.saved;
        for (const action of step.actions) {
          switch (action) {
            case 'startPull':
              // Ready, then found missing: removed outside Dockyard.
              if (before === 'Ready' && event.type === 'OBSERVED') ctx.metrics.driftRepaired(OWNER_KIND);
              startPull(ctx, ref, await credentials());
              break;
            case 'resolve': {
              const c = await credentials();
              // A present image not yet proven for this owner: this resolve is its access check.
              const checking = local !== undefined && !usable;
              const next = await resolveEvent({ api: conn.api, ref, local, creds: c, checking, policy, now });
              if (next.type === 'RESOLVED' && !next.moved && local) {
                access.record(hostName, local.id, credentialIdentity(c.auth));
                verifiedId = local.id;
              }
              queue.push(next);
              break;
            }
            case 'recordPulled': {
              const r = finished?.ok ? finished : undefined;
              const took = r ? ` in ${(r.durationMs / 1000).toFixed(1)}s` : '';
              const what = r
                ? ` (${r.digest ?? 'digest not reported'}, ${formatBytes(r.bytes)} downloaded)`
                : '';
              ctx.events.event(obj, 'Normal', 'Pulled', 'Pull', `pulled ${ref} on ${hostName}${took}${what}`);
              break;
            }
            case 'recordPullFailed':
              if (event.type === 'PULL_FAILED' || event.type === 'RESOLVE_FAILED')
                ctx.events.event(
                  obj,
                  'Warning',
                  event.reason === IMAGE_PULL_CREDENTIALS_REJECTED
                    ? IMAGE_PULL_CREDENTIALS_REJECTED
                    : 'PullFailed',
                  'Pull',
                  `on ${hostName}: ${event.reason}: ${event.message}`,
                );
              break;
            case 'recordNotPresent':
              ctx.events.event(
                obj,
                'Warning',
                'ImageNotPresent',
                'Check',
                `${ref} is not present on ${hostName} and pullPolicy is Never`,
              );
              break;
          }
        }
      }
      if (finished && job) jobs.take(job.key, owner);
      // The queue always held an observation, so the machine has stepped.
      if (!saved) throw new Error(`DockerImage ${ownerKey} on ${hostName}: no machine step`);
      if (local && verifiedId === local.id && saved.context.verifiedImageId !== verifiedId)
        saved = { ...saved, context: { ...saved.context, verifiedImageId: verifiedId } };
      memo.set(mk, saved);

      const state = saved.state;
      const c = saved.context;
      // An image this owner has not been granted is not described to it (its digest is the registry's to tell).
      const mine = local && (local.id === verifiedId || !fromRegistry(local, ref)) ? local : undefined;
      const repoDigest = mine ? repoDigestFor(mine.repoDigests, ref, c.digest) : undefined;
      // After a restart status may be all there is to say when the image was pulled.
      const pulledAt =
        c.pulledAt ??
        (repoDigest && ctx.previous?.repoDigest === repoDigest && typeof ctx.previous.pulledAt === 'string'
          ? ctx.previous.pulledAt
          : undefined);
      const current = jobKeys.get(mk);
      const running = state === 'Pulling' && current ? jobs.observe(current.key, owner, ownerKey) : undefined;
      const progress = running?.state === 'running' ? running.progress : NO_PROGRESS;
      const entry: HostStatusEntry = {
        name: hostName,
        phase: state,
        ...(mine ? { id: mine.id, imageId: mine.id, sizeBytes: mine.sizeBytes } : {}),
        ...(repoDigest ? { repoDigest } : {}),
        ...(pulledAt ? { pulledAt } : {}),
        ...(state === 'Pulling' ? { progress } : {}),
        machine: machineEntry(saved),
      };
      const requeue = requeueAfterMs(
        state,
        c,
        now,
        { always: policy === 'Always', pinned, intervalMs },
        PROGRESS_REQUEUE_MS,
      );
      const later = requeue !== undefined ? { requeueAfterMs: requeue } : {};

      switch (state) {
        case 'Ready':
          return { entry, ready: true, ...later };
        case 'Pulling':
          return { entry: { ...entry, message: describeProgress(ref, progress) }, ready: false, ...later };
        case 'Failed': {
          const reason = c.lastError?.reason ?? 'PullError';
          const at = c.lastAttemptAt ? Date.parse(c.lastAttemptAt) : now;
          const next = new Date(at + retryDelayMs(c.failures)).toISOString();
          const message = `${c.lastError?.message ?? `pulling ${ref} failed`}; attempt ${c.failures}, next at ${next}`;
          return { entry: { ...entry, message }, ready: false, failure: { reason, message }, ...later };
        }
        case 'NotPresent': {
          const message =
            `${ref} is not present on ${hostName}, and pullPolicy Never only checks for it: ` +
            'load or pull it onto the host, or change spec.pullPolicy';
          return {
            entry: { ...entry, message },
            ready: false,
            failure: { reason: 'ImageNotPresent', message },
          };
        }
        case 'Paused':
          return {
            entry: { ...entry, message: 'paused (dockyard.io/paused): observing only' },
            ready: mine !== undefined,
          };
        default:
          return { entry, ready: false, ...later };
      }
    },

    async finalizeHost(ctx: HostContext<DockerImage>, policy: DeletionPolicy): Promise<FinalizeOutcome> {
      const { obj, conn } = ctx;
      const hostName = ctx.host.metadata.name;
      const ref = imageRefOf(obj);
      const mk = memoKey(obj, hostName);
      // Not wanted here any more: leave a pull in flight (it stops when nobody else waits for it).
      const job = jobKeys.get(mk);
      const settling = job ? jobs.release(job.key, ownerId(obj)) : undefined;
      const done = (): FinalizeOutcome => {
        memo.delete(mk);
        jobKeys.delete(mk);
        return { done: true };
      };
      if (policy === 'Orphan') return done();
      if (settling)
        return { done: false, message: `waiting for the pull of ${ref} in progress on ${hostName} to stop` };
      const peers = (deps.objects?.() ?? []).filter(
        (o) =>
          ownerId(o) !== ownerId(obj) &&
          !o.metadata.deletionTimestamp &&
          imageRefOf(o) === ref &&
          (o.status?.hosts ?? []).some((h) => h.name === hostName),
      );
      if (peers.length > 0) {
        // Another namespace's objects are counted, never named.
        const mine = peers.filter((p) => p.metadata.namespace === ctx.namespace).map((p) => p.metadata.name);
        const others = peers.length - mine.length;
        const who = [
          ...(mine.length > 0 ? [`DockerImage ${mine.join(', ')}`] : []),
          ...(others > 0 ? [`${others} DockerImage(s) in other namespaces`] : []),
        ].join(' and ');
        ctx.events.event(
          obj,
          'Normal',
          'Kept',
          'Delete',
          `${ref} kept on ${hostName}: ${who} still wants it`,
        );
        return done();
      }
      if (!(await imageClient.inspect(conn.api, ref))) return done();
      const users = await imageClient.containersUsing(conn.api, ref);
      const inUse = (who: string) => ({
        done: false,
        message:
          `${ref} is in use by ${who} on ${hostName}: not removed (an image is never forced out); ` +
          'remove the container(s), or set deletionPolicy Orphan',
      });
      if (users.length > 0)
        return inUse(
          users.length > 5
            ? `${users.slice(0, 5).join(', ')} and ${users.length - 5} more`
            : users.join(', '),
        );
      if ((await imageClient.remove(conn.api, ref)) === 'inUse') return inUse('a container');
      return done();
    },
  };
  return kind;
}

/**
 * Wires the DockerImage kind with what it needs from the process: a Secrets
 * reader, pull metrics on the manager's registry, and its own informer (for
 * the shared-image check) and trigger (a settled background pull).
 */
export function registerDockerImageController(
  deps: ControllerDeps,
  hostRuntime: HostRuntime,
  hosts: Informer<DockerHost>,
): ManagedControllerHandle<DockerImage> {
  // The kind calls these only while reconciling, after registration has returned.
  const late: { handle?: ManagedControllerHandle<DockerImage> } = {};
  const kind = dockerImageKind({
    core: deps.kc.makeApiClient(CoreV1Api),
    metrics: createImageMetrics(deps.manager.metrics.registry),
    objects: () => late.handle?.objects.list() ?? [],
    trigger: (key) => late.handle?.trigger(key),
    // The DockerContainer kind reads the same records (registered with the same HostRuntime).
    access: imageAccessRecordsFor(hostRuntime),
  });
  late.handle = registerManagedController(deps, hostRuntime, hosts, kind);
  return late.handle;
}
