// Private images stay private (KEP-2535 "Ensure secret pulled images" for
// Docker hosts). An image pulled onto a host with one owner's credentials is
// on the host for everyone; an owner with other credentials (or none) may use
// it only once the registry has accepted its own credentials, or anonymous
// access, for that image.
//
// What is recorded, and where: per host, in this process's memory, which
// credential identities each local image (by image ID, i.e. its content) was
// pulled or verified with. An identity is a keyed hash (HMAC with a key made
// at process start) of registry, username and password: never the Secret,
// its name or its content, and useless outside this process. Kubelet keeps
// the same record on disk; ours is lost on restart on purpose, and each
// owner re-verifies once (a manifest request through the daemon's
// `GET /distribution/{name}/json`, no pull) the next time it needs an image
// it has not proven access to. Owners already running are not touched: a
// DockerImage remembers the image ID it was verified for in its own machine
// context (status), and a running container needs no image.
//
// Images that did not come from the reference's registry (built, loaded or
// imported on the host: no repository digest for the reference) are not
// verified, as kubelet's default NeverVerifyPreloadedImages: there is no
// registry to ask, and no tenant pulled them.

import { createHmac, randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { Reason } from '../../crds/reasons.js';
import {
  imageClient,
  ImagePullError,
  type ObservedImage,
  type PullFailureReason,
} from '../../docker/image-client.js';
import { digestMoved, digestOf, repoDigestsFor } from '../../docker/image-reference.js';
import { registryHostOfKey, type RegistryAuth } from '../../docker/registry-auth.js';

/** The identity of an owner that presents no credentials. */
export const ANONYMOUS = 'anonymous';

/** Opaque: `anonymous` or a keyed hash of registry, username and password. */
export type CredentialIdentity = string;

const PROCESS_KEY = randomBytes(32);

/**
 * Who is asking the registry, as an opaque value: equal for equal registry,
 * username and password; the key is per process so the value means nothing
 * anywhere else (and cannot be brute-forced from a log line).
 */
export function credentialIdentity(
  auth: RegistryAuth | undefined,
  key: Buffer = PROCESS_KEY,
): CredentialIdentity {
  if (!auth) return ANONYMOUS;
  const registry = registryHostOfKey(auth.serveraddress);
  const mac = createHmac('sha256', key).update(JSON.stringify([registry, auth.username, auth.password]));
  return `cred:${mac.digest('hex').slice(0, 32)}`;
}

/** Whether the local image came from the reference's registry (it carries a repository digest of it). */
export function fromRegistry(local: Pick<ObservedImage, 'repoDigests'>, ref: string): boolean {
  return repoDigestsFor(local.repoDigests, ref).length > 0;
}

/** Before a registry round trip: may the owner use the present image as it is? */
export type AccessDecision = 'preloaded' | 'granted' | 'verify';

/**
 * Pure: an image not from the registry needs no verification; an image
 * recorded for the owner's identity, or as pulled or verified anonymously
 * (then it is public), is used; anything else is verified first.
 */
export function decideAccess(opts: {
  fromRegistry: boolean;
  recorded: ReadonlySet<CredentialIdentity> | undefined;
  identity: CredentialIdentity;
}): AccessDecision {
  if (!opts.fromRegistry) return 'preloaded';
  if (opts.recorded?.has(opts.identity) || opts.recorded?.has(ANONYMOUS)) return 'granted';
  return 'verify';
}

/** How a verification ended. */
export type Verification =
  | { outcome: 'granted' }
  /** The registry accepted the credentials but names another digest: the local image is not proven; pull it. */
  | { outcome: 'moved'; digest: string }
  /** The registry refused (or hides) the image for these credentials. */
  | { outcome: 'rejected'; reason: typeof Reason.ImagePullCredentialsRejected; detail: string }
  /** The registry could not be asked: nothing is proven either way. */
  | { outcome: 'unverified'; reason: PullFailureReason; detail: string };

/**
 * Pure: what the registry's answer to "resolve `ref` with my credentials"
 * means for the local image. A refusal or a "not found" both reject
 * (registries answer unauthorised requests for private repositories with
 * either); only the digest of the local image grants.
 */
export function judgeVerification(
  answer: { digest: string } | { error: ImagePullError },
  local: Pick<ObservedImage, 'repoDigests'>,
  ref: string,
): Verification {
  if ('error' in answer) {
    const { reason, message } = answer.error;
    if (reason === Reason.Unauthorized || reason === Reason.NotFound)
      return { outcome: 'rejected', reason: Reason.ImagePullCredentialsRejected, detail: message };
    return { outcome: 'unverified', reason, detail: message };
  }
  return digestMoved(local.repoDigests, ref, answer.digest)
    ? { outcome: 'moved', digest: answer.digest }
    : { outcome: 'granted' };
}

/**
 * Per host: image ID → the credential identities it was pulled or verified
 * with. In memory only (see the top of this file).
 */
export class ImageAccessRecords {
  private readonly hosts = new Map<string, Map<string, Set<CredentialIdentity>>>();

  recorded(host: string, imageId: string): ReadonlySet<CredentialIdentity> | undefined {
    return this.hosts.get(host)?.get(imageId);
  }

  record(host: string, imageId: string, identity: CredentialIdentity): void {
    let images = this.hosts.get(host);
    if (!images) this.hosts.set(host, (images = new Map()));
    let ids = images.get(imageId);
    if (!ids) images.set(imageId, (ids = new Set()));
    ids.add(identity);
  }

  /**
   * After a pull with `identity`: records the local image when it is the
   * digest the pull reported (another pull may have moved the tag since).
   */
  recordPull(
    host: string,
    local: ObservedImage | undefined,
    ref: string,
    identity: CredentialIdentity,
    digest?: string,
  ): boolean {
    if (!local || !digest) return false;
    if (!repoDigestsFor(local.repoDigests, ref).some((rd) => digestOf(rd) === digest)) return false;
    this.record(host, local.id, identity);
    return true;
  }
}

const perScope = new WeakMap<object, ImageAccessRecords>();

/**
 * The records shared by the controllers of one process (the DockerImage and
 * DockerContainer kinds), keyed by an object they share (the HostRuntime).
 */
export function imageAccessRecordsFor(scope: object): ImageAccessRecords {
  let records = perScope.get(scope);
  if (!records) perScope.set(scope, (records = new ImageAccessRecords()));
  return records;
}

/** Asks the registry through the daemon, without pulling. */
export async function verifyAccess(opts: {
  api: Dockerode;
  ref: string;
  local: ObservedImage;
  auth?: RegistryAuth;
}): Promise<Verification> {
  try {
    const digest = await imageClient.remoteDigest(opts.api, opts.ref, opts.auth);
    return judgeVerification({ digest }, opts.local, opts.ref);
  } catch (err) {
    return judgeVerification(
      { error: ImagePullError.from(err, `resolving ${opts.ref}`) },
      opts.local,
      opts.ref,
    );
  }
}

/** What a container may do with its image on a host. */
export type ContainerImageAccess =
  { present: boolean } | { present: true; refused: { reason: Reason; message: string } };

/**
 * Whether a container that names its image directly (no DockerImage, so no
 * credentials: anonymous) may be created from the image on the host. Not
 * present: the container pulls it anonymously. Present and not proven
 * public: verified anonymously; refused when the registry does not agree.
 */
export async function containerImageAccess(opts: {
  api: Dockerode;
  host: string;
  ref: string;
  records: ImageAccessRecords;
  /** The image on the host, when the caller looked already this reconcile (absent: inspected here). */
  lookLocal?: () => Promise<ObservedImage | undefined>;
}): Promise<ContainerImageAccess> {
  const { api, host, ref, records } = opts;
  const local = await (opts.lookLocal ? opts.lookLocal() : imageClient.inspect(api, ref));
  if (!local) return { present: false };
  const decision = decideAccess({
    fromRegistry: fromRegistry(local, ref),
    recorded: records.recorded(host, local.id),
    identity: ANONYMOUS,
  });
  if (decision !== 'verify') return { present: true };
  const v = await verifyAccess({ api, ref, local });
  switch (v.outcome) {
    case 'granted':
      records.record(host, local.id, ANONYMOUS);
      return { present: true };
    case 'moved':
      // Public, but the tag names other content now: pull it (anonymously) like a missing image.
      return { present: false };
    case 'rejected':
      return {
        present: true,
        refused: {
          reason: v.reason,
          message:
            `the registry does not grant anonymous access to ${ref}, and a container naming ` +
            `spec.image presents no credentials (${v.detail}); use spec.imageRef with a DockerImage ` +
            'that has pull secrets',
        },
      };
    case 'unverified':
      return {
        present: true,
        refused: {
          reason: v.reason,
          message: `access to ${ref} could not be verified with the registry (${v.detail})`,
        },
      };
  }
}
