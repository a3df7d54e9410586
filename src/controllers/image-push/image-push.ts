// Pushing an image on a host (built by a DockerBuild, pulled by a
// DockerImage) to spec.push, and signing it with spec.signing. What each
// destination holds is asked of the registry (through the host's daemon) at
// every look once the image is current, and whether it carries the key's
// signature is asked by the controller (as a host requiring signatures
// would), so nothing needs remembering across restarts and a destination
// that already holds the image's digest is never pushed again.
import type { CoreV1Api } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import { Reason } from '../../crds/reasons.js';
import { imageClient, type ObservedImage } from '../../docker/image-client.js';
import { parseImageReference } from '../../docker/image-reference.js';
import { readSigningKey, signDigest, signedBy, type SigningKey } from '../../docker/image-signing.js';
import { PushError, pushClient, type PushFailureReason } from '../../docker/push-client.js';
import type { RegistryAuth } from '../../docker/registry-auth.js';
import { RegistryClient } from '../../docker/registry-client.js';
import { credentialsFromSecrets, readPullSecrets, type ReadSecret } from '../dockerimage/pull-credentials.js';
import type { BackgroundJobs, JobRun } from './background-jobs.js';
import { pushMessages } from './push-machine.js';
import type { PushedImage, PushResult } from './push-result.js';

/** The push fields of a spec (DockerBuild, DockerImage). */
export interface PushSpec {
  push?: Array<{ image: string }>;
  pushSecrets?: Array<{ name: string }>;
  signing?: { keySecretRef: { name: string; key: string } };
}

/** What pushing needs from the kind: Secrets, its push jobs, a clock, a time limit, metrics. */
export interface PushDeps {
  core: Pick<CoreV1Api, 'readNamespacedSecret'>;
  pushes: BackgroundJobs<PushResult>;
  clock: () => number;
  timeoutMs: number;
  metrics: { pushed(host: string, outcome: string, seconds: number): void };
}

/** One owner on one host, as pushing sees it. */
export interface PushOwner {
  spec: PushSpec;
  namespace: string;
  api: Dockerode;
  hostName: string;
  /** The key of the owner's jobs on the host. */
  hostKey: string;
}

/** A destination to push to and/or sign at, with the credentials matched to its registry. */
export interface PushTarget {
  image: string;
  auth?: RegistryAuth;
  /** Problems with the listed push secrets (never their content), told with a failure. */
  notes: string[];
  /** The registry does not hold the image: push it. Otherwise its digest is held and only the signature lacks. */
  push: boolean;
  heldDigest?: string;
}

/** A destination holding the current image. */
export interface HeldImage extends PushedImage {
  /** The registry could not be asked: taken at the daemon's record. */
  verified: boolean;
  /** With spec.signing: whether its signature was found (undefined: the registry could not be asked). */
  signed?: boolean;
}

/** What the owner's pushes look like on the host this reconcile. */
export interface PushWork {
  held: HeldImage[];
  pending: PushTarget[];
  running: boolean;
  /** How the owner's push ended, when it ended since the last look. */
  finished: PushResult | undefined;
  /** spec.signing's key, or why it cannot be used (a push then fails with it). */
  key?: SigningKey | { problem: string };
}

export const NO_PUSH: PushWork = { held: [], pending: [], running: false, finished: undefined };

/** The credentials matched to a destination from the push secrets read once for this look. */
function credentialsFor(owner: PushOwner, secrets: readonly ReadSecret[], image: string) {
  const creds = credentialsFromSecrets(owner.namespace, secrets, image);
  return { ...(creds.auth ? { auth: creds.auth } : {}), notes: creds.notes };
}

/** spec.signing's key, read from its Secret at every look (a rotated key signs again). */
async function signingKeyOf(deps: PushDeps, owner: PushOwner): Promise<PushWork['key']> {
  const ref = owner.spec.signing?.keySecretRef;
  if (!ref) return undefined;
  const where = `spec.signing: key ${ref.key} of Secret ${ref.name}`;
  let secret;
  try {
    secret = await deps.core.readNamespacedSecret({ name: ref.name, namespace: owner.namespace });
  } catch {
    return { problem: `${where} cannot be read` };
  }
  const data = secret.data?.[ref.key];
  if (data === undefined) return { problem: `${where}: no such key` };
  try {
    return readSigningKey(Buffer.from(data, 'base64').toString('utf8'));
  } catch (err) {
    return { problem: `${where}: ${(err as Error).message}` };
  }
}

/** A client of the destination's repository, from the controller. */
export function registryClientFor(image: string, auth: RegistryAuth | undefined, access: 'pull' | 'push') {
  const ref = parseImageReference(image);
  return new RegistryClient({
    domain: ref.domain,
    repository: ref.path,
    access,
    ...(auth ? { credentials: { username: auth.username, password: auth.password } } : {}),
  });
}

/** Whether the held digest carries the key's signature; undefined when the registry cannot be asked. */
async function signatureOf(image: string, digest: string, auth: RegistryAuth | undefined, key: SigningKey) {
  try {
    return await signedBy(registryClientFor(image, auth, 'pull'), digest, key);
  } catch {
    return undefined;
  }
}

/**
 * The pushes of the current image `local` (built from `hash`): a push still
 * running for another hash is aborted (its image is stale), a running one
 * is left alone, otherwise each destination is asked whether it holds the
 * image and, with spec.signing, whether the image there is signed.
 */
export async function observePushes(opts: {
  deps: PushDeps;
  owner: PushOwner;
  hash: string;
  local: ObservedImage;
}): Promise<PushWork> {
  const { deps, owner, hash, local } = opts;
  const { pushes } = deps;
  let view = pushes.view(owner.hostKey);
  if (view?.state === 'running' && view.hash !== hash) {
    await pushes.release(owner.hostKey);
    view = undefined;
  }
  const finished = view?.state === 'done' && view.result.hash === hash ? view.result : undefined;
  if (view?.state === 'done' && !finished) pushes.take(owner.hostKey);
  if (view?.state === 'running') return { ...NO_PUSH, running: true };
  const key = await signingKeyOf(deps, owner);
  const work: PushWork = { held: [], pending: [], running: false, finished, ...(key ? { key } : {}) };
  const names = (owner.spec.pushSecrets ?? []).map((s) => s.name);
  const secrets = await readPullSecrets(deps.core, owner.namespace, names);
  for (const { image } of owner.spec.push ?? []) {
    const { auth, notes } = credentialsFor(owner, secrets, image);
    const holds = await pushClient.holds(owner.api, {
      destination: image,
      repoDigests: local.repoDigests,
      ...(auth ? { auth } : {}),
    });
    const target = { image, ...(auth ? { auth } : {}), notes };
    if (!holds) {
      work.pending.push({ ...target, push: true });
      continue;
    }
    const signed =
      key === undefined
        ? undefined
        : 'problem' in key
          ? false
          : await signatureOf(image, holds.digest, auth, key);
    work.held.push({ image, ...holds, ...(signed !== undefined ? { signed } : {}) });
    if (signed === false) work.pending.push({ ...target, push: false, heldDigest: holds.digest });
  }
  return work;
}

/** Pushes (unless held) and signs (with a key) one destination; returns its digest. */
async function pushOne(opts: {
  api: Dockerode;
  imageId: string;
  target: PushTarget;
  key: SigningKey | undefined;
  signal: AbortSignal;
}): Promise<string> {
  const { api, target } = opts;
  let digest = target.heldDigest;
  if (target.push || !digest) {
    await pushClient.tag(api, opts.imageId, target.image);
    digest = await pushClient.push(api, {
      destination: target.image,
      ...(target.auth ? { auth: target.auth } : {}),
      signal: opts.signal,
    });
  }
  if (opts.key) {
    const ref = parseImageReference(target.image);
    await signDigest({
      client: registryClientFor(target.image, target.auth, 'push'),
      repository: `${ref.domain}/${ref.path}`,
      digest,
      key: opts.key,
    }).catch((err: Error & { reason?: string }) => {
      const reason = err.reason === Reason.Unauthorized ? Reason.Unauthorized : Reason.PushFailed;
      throw new PushError(reason, `signing ${target.image}@${digest}: ${err.message}`);
    });
  }
  return digest;
}

/** The push itself, in the background: each pending destination in turn; never rejects. */
export function pushRun(opts: {
  deps: PushDeps;
  owner: PushOwner;
  hash: string;
  imageId: string;
  targets: readonly PushTarget[];
  key: PushWork['key'];
}): JobRun<PushResult> {
  const { deps, owner } = opts;
  return async (signal) => {
    const pushed: PushedImage[] = [];
    const started = deps.clock();
    const measured = (result: PushResult): PushResult => {
      const outcome = result.ok ? 'success' : result.reason;
      deps.metrics.pushed(owner.hostName, outcome, (deps.clock() - started) / 1000);
      return result;
    };
    const timeout = AbortSignal.timeout(deps.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    const failed = (reason: PushFailureReason, message: string): PushResult =>
      measured({ ok: false, hash: opts.hash, pushed, reason, message, finishedAt: deps.clock() });
    if (opts.key && 'problem' in opts.key) return failed(Reason.PushFailed, opts.key.problem);
    const key = opts.key;
    for (const target of opts.targets) {
      try {
        const digest = await pushOne({ api: owner.api, imageId: opts.imageId, target, key, signal: both });
        pushed.push({ image: target.image, digest });
      } catch (err) {
        const said =
          timeout.aborted && !signal.aborted
            ? `pushing ${target.image}: not finished after ${deps.timeoutMs / 1000}s`
            : err instanceof PushError
              ? err.message
              : `pushing ${target.image}: ${String(err)}`;
        const reason = err instanceof PushError ? err.reason : Reason.PushFailed;
        return failed(reason, [said, ...target.notes].join('; '));
      }
    }
    return measured({ ok: true, hash: opts.hash, pushed, finishedAt: deps.clock() });
  };
}

/** A status entry's `pushed` list: as looked at now, or (while pushing) as status said before. */
export function pushedStatus(
  push: PushWork,
  previous: unknown,
): Array<{ image: string; digest: string; signed?: boolean }> | undefined {
  // NO_PUSH itself: the image is not current, so no destination holds it.
  if (push.running)
    return Array.isArray(previous) ? (previous as Array<{ image: string; digest: string }>) : undefined;
  if (push === NO_PUSH) return undefined;
  return push.held.map(({ image, digest, signed }) => ({
    image,
    digest,
    ...(signed !== undefined ? { signed } : {}),
  }));
}

/** Starts pushing (and signing) `imageId` to the destinations that lack it, in the background. */
export function startPushJob(opts: {
  deps: PushDeps;
  owner: PushOwner;
  /** The owner's queue key, reconciled when the push settles. */
  ownerKey: string;
  hash: string;
  imageId: string;
  push: PushWork;
}): void {
  const { deps, owner, push } = opts;
  if (push.pending.length === 0) return;
  deps.pushes.start({
    key: owner.hostKey,
    ownerKey: opts.ownerKey,
    hash: opts.hash,
    run: pushRun({
      deps,
      owner,
      hash: opts.hash,
      imageId: opts.imageId,
      targets: push.pending,
      key: push.key,
    }),
  });
}

/** The push fields of a status entry: the destinations holding the image, and when it was last pushed. */
export function pushedFields(opts: {
  spec: PushSpec;
  push: PushWork;
  previous: unknown;
  pushedAt: string | undefined;
}): { pushed?: ReturnType<typeof pushedStatus>; pushedAt?: string } {
  if ((opts.spec.push ?? []).length === 0) return {};
  const pushed = pushedStatus(opts.push, opts.previous);
  return {
    ...(pushed && pushed.length > 0 ? { pushed } : {}),
    ...(opts.pushedAt ? { pushedAt: opts.pushedAt } : {}),
  };
}

/** The owner on the host, as pushing its image sees it (a DockerBuild or DockerImage context). */
export function pushOwnerOf(
  ctx: {
    obj: { spec: PushSpec };
    namespace: string;
    conn: { api: Dockerode };
    host: { metadata: { name: string } };
  },
  hostKey: string,
): PushOwner {
  return {
    spec: ctx.obj.spec,
    namespace: ctx.namespace,
    api: ctx.conn.api,
    hostName: ctx.host.metadata.name,
    hostKey,
  };
}

/** The `Pushed` Event's words for a push that ended since the last look. */
export function pushedEventMessage(
  ctx: { obj: { spec: PushSpec }; host: { metadata: { name: string } } },
  push: PushWork,
): string {
  return pushMessages.pushed({
    host: ctx.host.metadata.name,
    pushed: push.finished?.pushed ?? [],
    signed: ctx.obj.spec.signing !== undefined,
  });
}

/**
 * deletionPolicy Delete: the destination tags a push made on the host name
 * the owner's image too, and would keep it; each one still naming
 * `imageId` is removed (an untag: never forced, never another image).
 */
export async function removePushTags(api: Dockerode, spec: PushSpec, imageId: string): Promise<void> {
  for (const { image } of spec.push ?? []) {
    const local = await imageClient.inspect(api, image);
    if (local?.id === imageId) await imageClient.remove(api, image);
  }
}
