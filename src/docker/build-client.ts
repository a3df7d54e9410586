// Builds an image on a daemon with BuildKit (`POST /build?version=2`), the
// context sent as the request body, over a session of Dockyard's own
// (build-session.ts) for secret mounts and base-image credentials; the
// output is read by build-trace.ts. Only the
// parameters below reach the daemon: no network mode, extra hosts, shm size,
// ulimits, cgroup parent or entitlements, so a build gets the default bridge
// network and no more privilege than the daemon gives any build
// (policy/build-policy.ts decides who may build at all).
import type Dockerode from 'dockerode';
import { Reason } from '../crds/reasons.js';
import { openBuildSession, type RegistryCredentials } from './build-session.js';
import { BuildTrace } from './build-trace.js';
import { dockerErrorText } from './image-client.js';

export interface BuildRequest {
  /** A tar archive (plain or compressed) holding the context, sent as the body; or: */
  context: Buffer | undefined;
  /** A git repository the daemon clones as the context (`url#ref:directory`). */
  remote?: string;
  tag: string;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  target?: string;
  platform?: string;
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** Secret mounts by id. */
  secrets: ReadonlyMap<string, Buffer>;
  /** Base-image credentials by registry host. */
  credentials: ReadonlyMap<string, RegistryCredentials>;
  /** Values replaced by *** wherever the build's output is kept. */
  redact: readonly string[];
  /** How much of the end of the output to keep. */
  logChars: number;
  signal?: AbortSignal;
}

export interface BuildOutcome {
  imageId: string;
  log: string;
}

export type BuildFailureReason = typeof Reason.BuildFailed | typeof Reason.InvalidBuildContext;

export class BuildError extends Error {
  constructor(
    readonly reason: BuildFailureReason,
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** The values' every occurrence replaced by ***; the longest first, so a value inside another goes too. */
export function redact(text: string, values: readonly string[]): string {
  const ordered = [...new Set(values.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of ordered) out = out.split(v).join('***');
  return out;
}

/**
 * The end of a build's output: appended message by message, trimmed from
 * the front to a bound (a few times what is kept, so a value cut by the trim
 * is still whole when redacted), redacted and cut to `chars` when read.
 */
export class LogTail {
  private text = '';

  constructor(
    private readonly chars: number,
    private readonly secrets: readonly string[],
  ) {}

  add(line: string): void {
    this.text += line;
    const bound = this.chars * 4;
    if (this.text.length > bound * 2) this.text = this.text.slice(-bound);
  }

  read(): string {
    return redact(this.text, this.secrets).slice(-this.chars);
  }
}

/** The build request; the stream of its output. */
function startBuild(api: Dockerode, req: BuildRequest, session: string): Promise<NodeJS.ReadableStream> {
  const query = {
    version: '2',
    session,
    t: req.tag,
    dockerfile: req.dockerfile,
    ...(req.remote ? { remote: req.remote } : {}),
    ...(req.target ? { target: req.target } : {}),
    ...(req.platform ? { platform: req.platform } : {}),
    buildargs: { ...req.buildArgs },
    labels: { ...req.labels },
  };
  return new Promise((resolve, reject) => {
    api.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        // An empty body with a remote context: without a file, docker-modem would send the query as JSON.
        file: req.context ?? Buffer.alloc(0),
        options: query,
        isStream: true,
        ...(req.signal ? { abortSignal: req.signal } : {}),
        headers: { 'Content-Type': 'application/x-tar' },
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      },
      (err: unknown, stream: unknown) =>
        err ? reject(err as Error) : resolve(stream as NodeJS.ReadableStream),
    );
  });
}

/**
 * Follows the output into the tail: the first error the build reports and
 * the ID of the image it made.
 */
async function follow(
  stream: NodeJS.ReadableStream,
  tail: LogTail,
): Promise<{ failure?: string; imageId?: string }> {
  const trace = new BuildTrace();
  const seen: { failure?: string; imageId?: string } = {};
  const take = (line: string) => {
    const step = trace.line(line);
    tail.add(step.text);
    if (step.error !== undefined) seen.failure ??= step.error;
    if (step.imageId !== undefined) seen.imageId = step.imageId;
  };
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) take(line);
  }
  if (rest.trim()) take(rest);
  return seen;
}

export const buildClient = {
  /**
   * Builds and tags the image; resolves with its ID and the end of the
   * output, or rejects with a BuildError (the daemon's words, redacted).
   */
  async build(api: Dockerode, req: BuildRequest): Promise<BuildOutcome> {
    const tail = new LogTail(req.logChars, req.redact);
    const fail = (message: string) =>
      new BuildError(Reason.BuildFailed, redact(message, req.redact), tail.read());
    const session = await openBuildSession(api, { secrets: req.secrets, credentials: req.credentials });
    try {
      const stream = await startBuild(api, req, session.id);
      const { failure, imageId } = await follow(stream, tail);
      if (failure !== undefined) throw fail(failure);
      return { imageId: imageId ?? (await api.getImage(req.tag).inspect()).Id, log: tail.read() };
    } catch (err) {
      if (err instanceof BuildError) throw err;
      if (req.signal?.aborted) throw fail('canceled');
      throw fail(dockerErrorText(err));
    } finally {
      session.close();
    }
  },
};
