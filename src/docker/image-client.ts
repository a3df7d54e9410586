import type Dockerode from 'dockerode';
import { Reason, type PullFailureReason } from '../crds/reasons.js';
import { errorMessage } from './errors.js';
import { familiarString, pullTarget } from './image-reference.js';
import type { RegistryAuth } from './registry-auth.js';
import { statusOf } from './status-code.js';

// ---------------------------------------------------------------------------
// Pure parts: failure classification and pull progress.

/** Why a pull (or a tag re-resolution) failed, as a condition reason. */
export type { PullFailureReason };

// Checked in this order: network failures are unambiguous, and a registry
// that refuses access often also says the repository "does not exist".
const PATTERNS: ReadonlyArray<[PullFailureReason, RegExp]> = [
  [
    Reason.RegistryUnreachable,
    /connection refused|no such host|dial tcp|i\/o timeout|timed? ?out|deadline exceeded|network is unreachable|no route to host|connection reset|name resolution|server misbehaving|tls handshake|x509:|certificate|server gave http response to https client|request canceled while waiting for connection|unexpected eof/i,
  ],
  [
    Reason.Unauthorized,
    /no basic auth credentials|unauthorized|authentication required|incorrect username or password|pull access denied|requested access to the resource is denied|insufficient_scope|\b401\b|\b403\b|forbidden/i,
  ],
  [
    Reason.NotFound,
    /manifest unknown|name unknown|not found|no such image|repository does not exist|no matching manifest|\b404\b/i,
  ],
];

/**
 * Maps what the daemon said about a failed pull (an HTTP error or an error
 * message in the progress stream) to a reason. Pure and table-tested; the
 * message is matched first because the daemon answers most registry
 * failures with a plain 500.
 */
export function classifyPullError(failure: { statusCode?: number; message: string }): PullFailureReason {
  for (const [reason, pattern] of PATTERNS) if (pattern.test(failure.message)) return reason;
  if (failure.statusCode === 401 || failure.statusCode === 403) return Reason.Unauthorized;
  if (failure.statusCode === 404) return Reason.NotFound;
  return Reason.PullError;
}

/**
 * The daemon's own words for a failed request (dockerode wraps them as
 * "(HTTP code 404) unexpected - …"), one line. Docker's messages never carry
 * the X-Registry-Auth header, and neither do dockerode's errors.
 */
export function dockerErrorText(err: unknown): string {
  const json = (err as { json?: unknown } | null)?.json;
  const daemon =
    typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string'
      ? (json as { message: string }).message
      : undefined;
  // Stream requests carry the daemon's words only inside dockerode's wrapper.
  const text = (daemon ?? errorMessage(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '');
  return (text.split('\n')[0] ?? text).trim();
}

/** A pull or re-resolution failure with its reason; the message is the daemon's, prefixed with the image. */
export class ImagePullError extends Error {
  constructor(
    readonly reason: PullFailureReason,
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'ImagePullError';
  }

  static from(err: unknown, what: string): ImagePullError {
    if (err instanceof ImagePullError) return err;
    const message = dockerErrorText(err);
    const statusCode = statusOf(err);
    return new ImagePullError(
      classifyPullError({ message, ...(statusCode !== undefined ? { statusCode } : {}) }),
      `${what}: ${message}`,
      statusCode,
    );
  }
}

/** One line of Docker's pull progress stream. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

/** One layer of a pull, as Docker's progress messages last described it. */
export interface LayerProgress {
  /** The short layer id Docker prints. */
  id: string;
  /** Docker's last status for it: Waiting, Downloading, Extracting, Pull complete, Already exists… */
  status: string;
  currentBytes: number;
  totalBytes: number;
}

/** Layers a snapshot lists at most (an image with more shows its first ones; the totals count all). */
export const MAX_REPORTED_LAYERS = 64;

export interface PullProgress {
  currentBytes: number;
  totalBytes: number;
  percent: number;
  /** Per layer, in the order Docker first named them. */
  layers?: LayerProgress[];
}

const LAYER_DONE = new Set(['Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);

/**
 * Download progress across layers from Docker's progress messages: bytes
 * downloaded and to download (layers that already exist locally count for
 * neither), and a percentage. Pure apart from its own state.
 */
export class PullProgressTracker {
  private readonly layers = new Map<string, { current: number; total: number; status: string }>();
  /** The digest the daemon reported for the pulled reference, if any. */
  digest: string | undefined;

  add(m: ProgressMessage): void {
    const digest = /^Digest: (\S+)/.exec(m.status ?? '')?.[1] ?? m.aux?.Digest;
    if (digest) this.digest = digest;
    const id = m.id;
    if (!id || !m.status) return;
    if (m.status === 'Already exists') {
      // On the host already: listed, but no bytes to download.
      this.layers.set(id, { current: 0, total: 0, status: m.status });
      return;
    }
    const layer = this.layers.get(id) ?? { current: 0, total: 0, status: m.status };
    if (m.status === 'Downloading') {
      const total = m.progressDetail?.total;
      const current = m.progressDetail?.current;
      if (typeof total === 'number' && total > 0) layer.total = total;
      if (typeof current === 'number') layer.current = Math.min(current, layer.total || current);
      layer.status = m.status;
      this.layers.set(id, layer);
    } else if (LAYER_DONE.has(m.status)) {
      if (this.layers.has(id)) {
        layer.current = layer.total || layer.current;
        layer.status = m.status;
      }
    } else if (m.status === 'Pulling fs layer' || m.status === 'Waiting') {
      layer.status = m.status;
      this.layers.set(id, layer);
    }
  }

  snapshot(): PullProgress {
    let currentBytes = 0;
    let totalBytes = 0;
    const layers: LayerProgress[] = [];
    for (const [id, l] of this.layers) {
      currentBytes += l.current;
      totalBytes += l.total;
      if (layers.length < MAX_REPORTED_LAYERS)
        layers.push({ id, status: l.status, currentBytes: l.current, totalBytes: l.total });
    }
    const percent = totalBytes > 0 ? Math.min(100, Math.floor((currentBytes * 100) / totalBytes)) : 0;
    return { currentBytes, totalBytes, percent, ...(layers.length > 0 ? { layers } : {}) };
  }
}

/** Splits a byte stream of newline-separated JSON into messages (non-JSON lines become statuses). */
export function parseProgressLines(buffered: string): { messages: ProgressMessage[]; rest: string } {
  const lines = buffered.split('\n');
  const rest = lines.pop() ?? '';
  const messages: ProgressMessage[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    try {
      messages.push(JSON.parse(trimmed) as ProgressMessage);
    } catch {
      messages.push({ status: trimmed });
    }
  }
  return { messages, rest };
}

// ---------------------------------------------------------------------------
// The external client for images.

export interface ObservedImage {
  id: string;
  repoDigests: string[];
  repoTags: string[];
  sizeBytes: number;
  /** The image config's labels (a built image's owner labels). */
  labels?: Record<string, string>;
}

export interface PullOptions {
  auth?: RegistryAuth;
  platform?: string;
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
}

export interface PullOutcome {
  digest?: string;
  /** Bytes downloaded (layers already present are not counted). */
  bytes: number;
}

/**
 * Observe / pull / resolve / delete images. Credentials go only into the
 * X-Registry-Auth header: they are passed to dockerode as its separate auth
 * argument (never as an `authconfig` field of the query options, which older
 * dockerode versions serialised into the URL), and no error carries them.
 */
export const imageClient = {
  async inspect(api: Dockerode, ref: string): Promise<ObservedImage | undefined> {
    try {
      const info = await api.getImage(familiarString(ref)).inspect();
      return {
        id: info.Id,
        repoDigests: info.RepoDigests ?? [],
        repoTags: info.RepoTags ?? [],
        sizeBytes: info.Size ?? 0,
        labels: info.Config?.Labels ?? {},
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  },

  /**
   * The digest the registry resolves the reference to now, without pulling:
   * `GET /distribution/{name}/json` (the daemon asks the registry for the
   * manifest's descriptor only).
   */
  async remoteDigest(api: Dockerode, ref: string, auth?: RegistryAuth): Promise<string> {
    const name = familiarString(ref);
    try {
      const info = await api.getImage(name).distribution(auth ? { authconfig: auth } : {});
      const digest = (info as { Descriptor?: { digest?: string } }).Descriptor?.digest;
      if (!digest)
        throw new ImagePullError(Reason.PullError, `resolving ${name}: the daemon reported no digest`);
      return digest;
    } catch (err) {
      throw ImagePullError.from(err, `resolving ${name}`);
    }
  },

  /**
   * Pulls the reference; resolves when the daemon is done, rejects with an
   * ImagePullError (errors arrive either as an HTTP error or inside the
   * progress stream).
   */
  async pull(api: Dockerode, ref: string, opts: PullOptions = {}): Promise<PullOutcome> {
    const name = familiarString(ref);
    const { fromImage, tag } = pullTarget(ref);
    const query = {
      fromImage,
      tag,
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.signal ? { abortSignal: opts.signal } : {}),
    };
    const tracker = new PullProgressTracker();
    try {
      const stream = (
        opts.auth ? await api.createImage(opts.auth, query) : await api.createImage(query)
      ) as NodeJS.ReadableStream;
      let buffered = '';
      let failure: string | undefined;
      const take = (messages: ProgressMessage[]) => {
        for (const m of messages) {
          const error = m.errorDetail?.message ?? m.error;
          if (error) failure ??= error;
          tracker.add(m);
        }
        opts.onProgress?.(tracker.snapshot());
      };
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        const parsed = parseProgressLines(buffered + chunk.toString());
        buffered = parsed.rest;
        take(parsed.messages);
      }
      take(parseProgressLines(`${buffered}\n`).messages);
      if (failure !== undefined)
        throw new ImagePullError(classifyPullError({ message: failure }), `pulling ${name}: ${failure}`);
    } catch (err) {
      if (opts.signal?.aborted) throw new ImagePullError(Reason.PullError, `pulling ${name}: canceled`);
      throw ImagePullError.from(err, `pulling ${name}`);
    }
    const { currentBytes } = tracker.snapshot();
    return { ...(tracker.digest ? { digest: tracker.digest } : {}), bytes: currentBytes };
  },

  /** Names of containers (running or not) created from the image or an image built on it. */
  async containersUsing(api: Dockerode, ref: string): Promise<string[]> {
    const containers = await api.listContainers({ all: true, filters: { ancestor: [familiarString(ref)] } });
    return containers.map((c) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''));
  },

  /**
   * Removes the reference (never forced): the image goes once no other tag
   * names it. Gone already counts as done; 'inUse' when a container uses it.
   */
  async remove(api: Dockerode, ref: string): Promise<'deleted' | 'inUse'> {
    try {
      await api.getImage(familiarString(ref)).remove();
      return 'deleted';
    } catch (err) {
      const code = statusOf(err);
      if (code === 404) return 'deleted';
      if (code === 409) return 'inUse';
      throw err;
    }
  },
};
