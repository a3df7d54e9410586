// The few OCI Distribution API calls the image policy and image signing need
// from the controller itself (no Docker daemon in between: the daemon has no
// API for a signature's manifest or blob): resolve a tag to a digest, read a
// manifest, list an artifact's referrers (with the referrers tag schema
// fallback of registries without the API), read a small blob, and write a
// small blob and a manifest (a signature).
// Written by hand: no maintained npm library reads referrers from a
// registry. Every answer addressed by digest is checked against it, so a
// registry (or anyone between) cannot substitute content.

import { createHash } from 'node:crypto';
import { Reason, type PullFailureReason } from '../crds/reasons.js';
import { ImagePullError } from './image-client.js';
import { DOCKER_HUB } from './image-reference.js';
import type { RegistryCredentials } from './registry-auth.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');
/** Manifests and signature blobs are small; anything bigger is refused, not buffered. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/** An OCI descriptor, as manifests and referrer indexes list them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A manifest or index as read, with its digest and raw bytes. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: {
    mediaType?: string;
    artifactType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
    subject?: Descriptor;
    annotations?: Record<string, string>;
  };
}

/**
 * Docker's rule for plain HTTP without configuration: registries on the
 * loopback interface. Anything else is HTTPS.
 */
export function registryBaseUrl(domain: string): string {
  const host = domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
  const name = host.replace(/:\d+$/, '');
  const loopback = name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** sha256:<hex> of the bytes. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function refused(reason: PullFailureReason, message: string, status?: number): ImagePullError {
  return new ImagePullError(reason, message, status);
}

/** The parameters of a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g))
    params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

/**
 * One registry, one repository, one set of credentials (or anonymous). Keeps
 * the authorization a challenge asked for, so later requests go straight.
 */
export class RegistryClient {
  private readonly base: string;
  private authorization: string | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly opts: {
      domain: string;
      repository: string;
      credentials?: RegistryCredentials;
      timeoutMs?: number;
      /** `push` asks a token service for write access too (signing writes a signature). Default `pull`. */
      access?: 'pull' | 'push';
    },
  ) {
    this.base = registryBaseUrl(opts.domain);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private get where(): string {
    return `${this.opts.domain}/${this.opts.repository}`;
  }

  /** The manifest a tag or digest names; `undefined` when the registry has none. */
  async manifest(reference: string): Promise<FetchedManifest | undefined> {
    const path = `/v2/${this.opts.repository}/manifests/${reference}`;
    const res = await this.request(path, MANIFEST_ACCEPT);
    if (res.status === 404) return undefined;
    await this.expectOk(res, `reading manifest ${this.where}:${reference}`);
    const bytes = await readBounded(res, MAX_MANIFEST_BYTES, `manifest ${this.where}:${reference}`);
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference)
      throw refused(
        Reason.PullError,
        `manifest ${this.where}@${reference}: the registry sent content of ${digest}`,
      );
    const json = JSON.parse(bytes.toString('utf8')) as FetchedManifest['json'];
    const mediaType = json.mediaType ?? res.headers.get('content-type') ?? '';
    return { digest, mediaType, bytes, json };
  }

  /**
   * What a tag names now, by digest: computed from the manifest's bytes
   * (never taken from a header alone).
   */
  async resolve(tag: string): Promise<FetchedManifest> {
    const found = await this.manifest(tag);
    if (!found) throw refused(Reason.NotFound, `${this.where}:${tag}: the registry has no such manifest`);
    return found;
  }

  /**
   * The artifacts that name `digest` as their subject: the OCI referrers
   * API, or, on a registry without it (distribution 2.x answers 404), the
   * referrers tag schema (`sha256-<hex>` tagging an index) that cosign and
   * oras write there instead.
   */
  async referrers(digest: string): Promise<Descriptor[]> {
    const res = await this.request(`/v2/${this.opts.repository}/referrers/${digest}`, MEDIA_TYPES.ociIndex);
    if (res.ok) {
      const bytes = await readBounded(res, MAX_MANIFEST_BYTES, `referrers of ${this.where}@${digest}`);
      const index = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] };
      return index.manifests ?? [];
    }
    if (res.status !== 404) await this.expectOk(res, `listing referrers of ${this.where}@${digest}`);
    await res.body?.cancel();
    const fallback = await this.manifest(digest.replace(':', '-'));
    return fallback?.json.manifests ?? [];
  }

  /** A blob of at most `maxBytes`, checked against its digest. */
  async blob(digest: string, maxBytes: number): Promise<Buffer> {
    const res = await this.request(`/v2/${this.opts.repository}/blobs/${digest}`, '*/*');
    await this.expectOk(res, `reading blob ${this.where}@${digest}`);
    const bytes = await readBounded(res, maxBytes, `blob ${this.where}@${digest}`);
    if (sha256Digest(bytes) !== digest)
      throw refused(Reason.PullError, `blob ${this.where}@${digest}: the registry sent other content`);
    return bytes;
  }

  /** Uploads a small blob unless the registry has it (monolithic upload); returns its descriptor. */
  async putBlob(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const descriptor = { mediaType, digest, size: bytes.length };
    const path = `/v2/${this.opts.repository}/blobs/${digest}`;
    const head = await this.request(path, '*/*', { method: 'HEAD' });
    if (head.ok) return descriptor;
    const start = await this.request(`/v2/${this.opts.repository}/blobs/uploads/`, '*/*', { method: 'POST' });
    await this.expectOk(start, `starting an upload to ${this.where}`);
    await start.body?.cancel();
    const location = new URL(start.headers.get('location') ?? '', `${this.base}/`);
    location.searchParams.set('digest', digest);
    const put = await this.request(location.pathname + location.search, '*/*', {
      method: 'PUT',
      body: bytes,
      contentType: 'application/octet-stream',
    });
    await this.expectOk(put, `uploading blob ${digest} to ${this.where}`);
    await put.body?.cancel();
    return descriptor;
  }

  /** Writes a manifest under `tag`; returns its digest. */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request(`/v2/${this.opts.repository}/manifests/${tag}`, '*/*', {
      method: 'PUT',
      body: bytes,
      contentType: mediaType,
    });
    await this.expectOk(res, `writing manifest ${this.where}:${tag}`);
    await res.body?.cancel();
    return sha256Digest(bytes);
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403)
      throw refused(Reason.Unauthorized, `${what}: the registry answered ${res.status}`, res.status);
    if (res.status === 404) throw refused(Reason.NotFound, `${what}: not found`, 404);
    throw refused(Reason.PullError, `${what}: the registry answered ${res.status}`, res.status);
  }

  /** A request (GET unless told), answering one authentication challenge (Basic or a Bearer token) and retrying once. */
  private async request(path: string, accept: string, write?: WriteRequest): Promise<Response> {
    const first = await this.send(path, accept, write);
    if (first.status !== 401) return first;
    const challenge = first.headers.get('www-authenticate');
    await first.body?.cancel();
    if (!challenge) return first;
    this.authorization = await this.authorize(parseChallenge(challenge));
    return this.send(path, accept, write);
  }

  private async send(path: string, accept: string, write?: WriteRequest): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.authorization) headers.authorization = this.authorization;
    if (write?.contentType) headers['content-type'] = write.contentType;
    try {
      return await fetch(`${this.base}${path}`, {
        method: write?.method ?? 'GET',
        headers,
        ...(write?.body ? { body: write.body } : {}),
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw refused(
        Reason.RegistryUnreachable,
        `${this.where}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
  }

  private basic(): string | undefined {
    const c = this.opts.credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  private async authorize(challenge: ReturnType<typeof parseChallenge>): Promise<string | undefined> {
    if (challenge.scheme === 'basic') return this.basic();
    const realm = challenge.params.realm;
    if (challenge.scheme !== 'bearer' || !realm) return undefined;
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const actions = this.opts.access === 'push' ? 'pull,push' : 'pull';
    url.searchParams.set('scope', challenge.params.scope ?? `repository:${this.opts.repository}:${actions}`);
    const basic = this.basic();
    let res: Response;
    try {
      res = await fetch(url, {
        headers: basic ? { authorization: basic } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw refused(Reason.RegistryUnreachable, `${this.where}: token service: ${(err as Error).message}`);
    }
    await this.expectOk(res, `${this.where}: token service`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}

/** A write: its method, and the body with its type. */
interface WriteRequest {
  method: 'HEAD' | 'POST' | 'PUT';
  body?: Buffer;
  contentType?: string;
}

/** The body, refused past `maxBytes` (a Content-Length that says so, or the bytes as they come). */
async function readBounded(res: Response, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw refused(Reason.PullError, `${what}: ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += (chunk as Uint8Array).length;
    if (total > maxBytes) throw refused(Reason.PullError, `${what}: more than the ${maxBytes} bytes allowed`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}
