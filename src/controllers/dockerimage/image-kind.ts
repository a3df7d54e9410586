import { CoreV1Api } from '@kubernetes/client-node';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { ImagePullError, imageClient, type PullProgress } from '../../docker/image-client.js';
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
import type { HostRuntime } from '../host-runtime.js';
import type { ControllerDeps } from '../index.js';
import { stepMachine, type SavedMachineState } from '../machine-step.js';
import {
  IMAGE_MACHINE_VERSION,
  INITIAL_IMAGE_CONTEXT,
  imageMachine,
  requeueAfterMs,
  type ImageEvent,
  type ImageMachineContext,
} from './image-machine.js';
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
}

function ownerId(image: DockerImage): string {
  return image.metadata.uid ?? `${image.metadata.namespace ?? ''}/${image.metadata.name}`;
}

function pullKey(host: string, ref: string, platform: string | undefined): string {
  return [host, ref, platform ?? ''].join('\u0000');
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
 * The DockerImage kind. Pulls run in the background (one per host and
 * image, see PullJobs) so each reconcile reports progress and the work
 * queue never waits on a registry. Images are shared: they carry no owner
 * labels, so the default is Orphan, and Delete removes an image only when no
 * container uses it and no other DockerImage wants it on that host.
 */
export function dockerImageKind(deps: DockerImageKindDeps): ManagedKind<DockerImage> {
  const metrics = deps.metrics ?? noopImageMetrics;
  const clock = deps.now ?? Date.now;
  const jobs = new PullJobs({ ...(deps.trigger ? { onSettled: deps.trigger } : {}), now: clock });
  /** Last machine state per owner and host: status may not carry it (or lag behind the informer). */
  const memo = new Map<string, SavedMachineState<ImageMachineContext>>();
  const memoKey = (image: DockerImage, host: string) => `${ownerId(image)}\u0000${host}`;

  function startPull(ctx: HostContext<DockerImage>, ref: string, key: string, creds: PullCredentials): void {
    const hostName = ctx.host.metadata.name;
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
          return {
            ok: false,
            reason: e.reason,
            message: withNotes(e.message, creds.notes),
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
      const key = pullKey(hostName, ref, obj.spec.platform);
      const policy = pullPolicyOf(obj);
      const pinned = isPinned(ref);
      const intervalMs = refreshIntervalMs(obj);
      const now = ctx.now.getTime();
      let saved = restore(memo.get(memoKey(obj, hostName)), ctx.previous, ref);

      const queue: ImageEvent[] = [];
      const view = jobs.observe(key, owner, ownerKey);
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
                message: finished.message,
              },
        );
      // After looking at the pull: a pull that just finished is seen here.
      const local = await imageClient.inspect(conn.api, ref);
      queue.push({
        type: 'OBSERVED',
        now,
        image: ref,
        policy,
        present: local !== undefined,
        pulling: view?.state === 'running',
        pinned,
        refreshIntervalMs: intervalMs,
        paused: ctx.paused,
      });

      let creds: PullCredentials | undefined;
      const credentials = async () =>
        (creds ??= await resolvePullCredentials(
          deps.core,
          namespace,
          (obj.spec.pullSecrets ?? []).map((s) => s.name),
          ref,
        ));

      for (let event = queue.shift(); event; event = queue.shift()) {
        const before = saved?.state;
        const step = stepMachine(imageMachine, IMAGE_MACHINE_VERSION, saved, event);
        saved = step.saved;
        for (const action of step.actions) {
          switch (action) {
            case 'startPull':
              // Ready, then found missing: removed outside Dockyard.
              if (before === 'Ready' && event.type === 'OBSERVED') ctx.metrics.driftRepaired(OWNER_KIND);
              startPull(ctx, ref, key, await credentials());
              break;
            case 'resolve': {
              const c = await credentials();
              try {
                const digest = await imageClient.remoteDigest(conn.api, ref, c.auth);
                queue.push({
                  type: 'RESOLVED',
                  now,
                  digest,
                  moved: digestMoved(local?.repoDigests ?? [], ref, digest),
                });
              } catch (err) {
                const e = ImagePullError.from(err, `resolving ${ref}`);
                queue.push({
                  type: 'RESOLVE_FAILED',
                  now,
                  reason: e.reason,
                  message: withNotes(e.message, c.notes),
                });
              }
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
                  'PullFailed',
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
      if (finished) jobs.take(key, owner);
      // The queue always held an observation, so the machine has stepped.
      if (!saved) throw new Error(`DockerImage ${ownerKey} on ${hostName}: no machine step`);
      memo.set(memoKey(obj, hostName), saved);

      const state = saved.state;
      const c = saved.context;
      const repoDigest = local ? repoDigestFor(local.repoDigests, ref, c.digest) : undefined;
      // After a restart status may be all there is to say when the image was pulled.
      const pulledAt =
        c.pulledAt ??
        (repoDigest && ctx.previous?.repoDigest === repoDigest && typeof ctx.previous.pulledAt === 'string'
          ? ctx.previous.pulledAt
          : undefined);
      const running = state === 'Pulling' ? jobs.observe(key, owner, ownerKey) : undefined;
      const progress = running?.state === 'running' ? running.progress : NO_PROGRESS;
      const entry: HostStatusEntry = {
        name: hostName,
        phase: state,
        ...(local ? { id: local.id, imageId: local.id, sizeBytes: local.sizeBytes } : {}),
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
            ready: local !== undefined,
          };
        default:
          return { entry, ready: false, ...later };
      }
    },

    async finalizeHost(ctx: HostContext<DockerImage>, policy: DeletionPolicy): Promise<FinalizeOutcome> {
      const { obj, conn } = ctx;
      const hostName = ctx.host.metadata.name;
      const ref = imageRefOf(obj);
      // Not wanted here any more: leave a pull in flight (it stops when nobody else waits for it).
      const settling = jobs.release(pullKey(hostName, ref, obj.spec.platform), ownerId(obj));
      const done = (): FinalizeOutcome => {
        memo.delete(memoKey(obj, hostName));
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
        const names = peers.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ');
        ctx.events.event(
          obj,
          'Normal',
          'Kept',
          'Delete',
          `${ref} kept on ${hostName}: DockerImage ${names} still wants it`,
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
  });
  late.handle = registerManagedController(deps, hostRuntime, hosts, kind);
  return late.handle;
}
