import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import {
  MAX_REPORTED_LAYERS,
  classifyPullError,
  dockerErrorText,
  imageClient,
  ImagePullError,
  parseProgressLines,
  PullProgressTracker,
  type PullFailureReason,
  type PullProgress,
} from './image-client.js';

describe('classifyPullError', () => {
  // Messages as Docker Engine 20.10 reports them (HTTP error body or progress-stream error).
  it.each<[string, string, number | undefined, PullFailureReason]>([
    [
      'no credentials',
      'Head "http://127.0.0.1:5000/v2/dockyard/busybox/manifests/1.36": no basic auth credentials',
      500,
      'Unauthorized',
    ],
    [
      'wrong password',
      'Head "https://reg.example/v2/app/manifests/1": unauthorized: incorrect username or password',
      500,
      'Unauthorized',
    ],
    ['token realm refuses', 'unauthorized: authentication required', undefined, 'Unauthorized'],
    [
      'Docker Hub: denied (unknown or private repository)',
      "pull access denied for nosuch/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      404,
      'Unauthorized',
    ],
    ['scope', 'errors: insufficient_scope: authorization failed', 500, 'Unauthorized'],
    ['bare 401', 'something the daemon said', 401, 'Unauthorized'],
    [
      'unknown tag',
      'manifest for 127.0.0.1:5000/dockyard/busybox:nope not found: manifest unknown: manifest unknown',
      404,
      'NotFound',
    ],
    ['unknown manifest (stream)', 'manifest unknown', undefined, 'NotFound'],
    [
      'unknown repository',
      'repository 127.0.0.1:5000/nope not found: name unknown: repository name not known to registry',
      500,
      'NotFound',
    ],
    [
      'no such platform',
      'no matching manifest for linux/arm64/v8 in the manifest list entries',
      500,
      'NotFound',
    ],
    ['bare 404', 'something the daemon said', 404, 'NotFound'],
    [
      'nothing listens',
      'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
      500,
      'RegistryUnreachable',
    ],
    [
      'DNS',
      'Get "https://reg.invalid/v2/": dial tcp: lookup reg.invalid on 10.0.0.2:53: no such host',
      500,
      'RegistryUnreachable',
    ],
    [
      'DNS, temporary',
      'dial tcp: lookup reg.example: Temporary failure in name resolution',
      500,
      'RegistryUnreachable',
    ],
    [
      'connect timeout',
      'Get "https://10.255.255.1/v2/": dial tcp 10.255.255.1:443: i/o timeout',
      500,
      'RegistryUnreachable',
    ],
    [
      'client timeout',
      'Get "https://reg.example/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
      500,
      'RegistryUnreachable',
    ],
    ['context deadline', 'context deadline exceeded', 500, 'RegistryUnreachable'],
    [
      'untrusted certificate',
      'Get "https://reg.example/v2/": x509: certificate signed by unknown authority',
      500,
      'RegistryUnreachable',
    ],
    [
      'plain HTTP registry',
      'Get "https://reg:5000/v2/": http: server gave HTTP response to HTTPS client',
      500,
      'RegistryUnreachable',
    ],
    ['connection dropped mid-download', 'unexpected EOF', undefined, 'RegistryUnreachable'],
    [
      'disk full',
      'failed to register layer: write /usr/bin/x: no space left on device',
      undefined,
      'PullError',
    ],
    ['rate limited', 'toomanyrequests: You have reached your pull rate limit.', 500, 'PullError'],
    ['bad reference', 'invalid reference format', 400, 'PullError'],
  ])('%s', (_name, message, statusCode, reason) => {
    expect(classifyPullError({ message, ...(statusCode !== undefined ? { statusCode } : {}) })).toBe(reason);
  });
});

describe('dockerErrorText', () => {
  it('prefers the daemon’s own message over dockerode’s wrapper', () => {
    const err = Object.assign(new Error('(HTTP code 401) no such image - x '), {
      statusCode: 401,
      json: { message: 'Head "http://r/v2/a/manifests/1": no basic auth credentials' },
    });
    expect(dockerErrorText(err)).toBe('Head "http://r/v2/a/manifests/1": no basic auth credentials');
  });
  it('unwraps dockerode’s prefix when the daemon’s message came in a stream body', () => {
    const err = Object.assign(
      new Error('(HTTP code 500) server error - Get "http://127.0.0.1:1/v2/": connection refused '),
      { statusCode: 500, json: null },
    );
    expect(dockerErrorText(err)).toBe('Get "http://127.0.0.1:1/v2/": connection refused');
  });
  it('falls back to the error’s first line', () => {
    expect(dockerErrorText(new Error('one\ntwo'))).toBe('one');
  });
});

describe('PullProgressTracker', () => {
  it('adds up download bytes across layers; existing layers count for nothing', () => {
    const t = new PullProgressTracker();
    const feed = [
      { status: 'Pulling from dockyard/busybox', id: '1.36' },
      { status: 'Already exists', id: 'base' },
      { status: 'Pulling fs layer', id: 'a' },
      { status: 'Pulling fs layer', id: 'b' },
      { status: 'Downloading', id: 'a', progressDetail: { current: 500, total: 1000 } },
      { status: 'Downloading', id: 'b', progressDetail: { current: 0, total: 3000 } },
    ];
    feed.forEach((m) => t.add(m));
    const layer = (id: string, status: string, currentBytes: number, totalBytes: number) => ({
      id,
      status,
      currentBytes,
      totalBytes,
    });
    expect(t.snapshot()).toEqual<PullProgress>({
      currentBytes: 500,
      totalBytes: 4000,
      percent: 12,
      layers: [
        layer('base', 'Already exists', 0, 0),
        layer('a', 'Downloading', 500, 1000),
        layer('b', 'Downloading', 0, 3000),
      ],
    });
    t.add({ status: 'Download complete', id: 'a' });
    t.add({ status: 'Downloading', id: 'b', progressDetail: { current: 1500, total: 3000 } });
    expect(t.snapshot()).toMatchObject<PullProgress>({ currentBytes: 2500, totalBytes: 4000, percent: 62 });
    expect(t.snapshot().layers?.[1]).toEqual(layer('a', 'Download complete', 1000, 1000));
    t.add({ status: 'Extracting', id: 'b', progressDetail: { current: 10, total: 9000 } });
    t.add({ status: 'Pull complete', id: 'a' });
    t.add({ status: `Digest: sha256:${'a'.repeat(64)}` });
    expect(t.snapshot()).toMatchObject<PullProgress>({ currentBytes: 4000, totalBytes: 4000, percent: 100 });
    expect(t.snapshot().layers?.map((l) => l.status)).toEqual([
      'Already exists',
      'Pull complete',
      'Extracting',
    ]);
    expect(t.digest).toBe(`sha256:${'a'.repeat(64)}`);
  });

  it('reports nothing before sizes are known', () => {
    const t = new PullProgressTracker();
    t.add({ status: 'Pulling fs layer', id: 'a' });
    expect(t.snapshot()).toEqual({
      currentBytes: 0,
      totalBytes: 0,
      percent: 0,
      layers: [{ id: 'a', status: 'Pulling fs layer', currentBytes: 0, totalBytes: 0 }],
    });
  });

  it(`lists at most ${MAX_REPORTED_LAYERS} layers, and counts every one`, () => {
    const t = new PullProgressTracker();
    for (let i = 0; i < MAX_REPORTED_LAYERS + 6; i++)
      t.add({ status: 'Downloading', id: `l${i}`, progressDetail: { current: 1, total: 2 } });
    const snap = t.snapshot();
    expect(snap.layers).toHaveLength(MAX_REPORTED_LAYERS);
    expect(snap.totalBytes).toBe(2 * (MAX_REPORTED_LAYERS + 6));
  });
});

describe('parseProgressLines', () => {
  it('splits JSON lines and keeps a partial line for later', () => {
    const { messages, rest } = parseProgressLines('{"status":"a"}\nplain text\n\n{"status":"b"');
    expect(messages).toEqual([{ status: 'a' }, { status: 'plain text' }]);
    expect(rest).toBe('{"status":"b"');
  });
});

const AUTH = { username: 'u', password: 'secret-pw', serveraddress: 'reg:5000' };
const lines = (...msgs: object[]) => Readable.from(msgs.map((m) => `${JSON.stringify(m)}\n`));

function fakeDocker(createImage: (...args: unknown[]) => Promise<unknown>): Dockerode {
  return { createImage } as unknown as Dockerode;
}

describe('imageClient.pull', () => {
  it('sends credentials only as the separate auth argument, reports progress and the digest', async () => {
    const calls: unknown[][] = [];
    const docker = fakeDocker(async (...args) => {
      calls.push(args);
      return lines(
        { status: 'Pulling fs layer', id: 'a' },
        { status: 'Downloading', id: 'a', progressDetail: { current: 10, total: 20 } },
        { status: 'Pull complete', id: 'a' },
        { status: `Digest: sha256:${'b'.repeat(64)}` },
        { status: 'Status: Downloaded newer image for reg:5000/app:1' },
      );
    });
    const seen: PullProgress[] = [];
    const out = await imageClient.pull(docker, 'reg:5000/app:1', {
      auth: AUTH,
      platform: 'linux/amd64',
      onProgress: (p) => seen.push(p),
    });
    expect(out).toEqual({ digest: `sha256:${'b'.repeat(64)}`, bytes: 20 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBe(AUTH);
    expect(calls[0]?.[1]).toEqual({ fromImage: 'reg:5000/app', tag: '1', platform: 'linux/amd64' });
    expect(JSON.stringify(calls[0]?.[1])).not.toContain('secret-pw');
    expect(seen.at(-1)).toEqual({
      currentBytes: 20,
      totalBytes: 20,
      percent: 100,
      layers: [{ id: 'a', status: 'Pull complete', currentBytes: 20, totalBytes: 20 }],
    });
  });

  it('pulls anonymously without an auth argument', async () => {
    const calls: unknown[][] = [];
    await imageClient.pull(
      fakeDocker(async (...args) => (calls.push(args), lines({ status: 'Status: Image is up to date' }))),
      'busybox',
    );
    expect(calls[0]).toEqual([{ fromImage: 'busybox', tag: 'latest' }]);
  });

  it('turns an error inside the progress stream into a classified ImagePullError', async () => {
    const docker = fakeDocker(async () =>
      lines(
        { status: 'Pulling fs layer', id: 'a' },
        { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' },
      ),
    );
    const err = await imageClient.pull(docker, 'reg:5000/app:nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect(err).toMatchObject({ reason: 'NotFound', message: 'pulling reg:5000/app:nope: manifest unknown' });
  });

  it('turns an HTTP error into a classified ImagePullError with the daemon’s words', async () => {
    const docker = fakeDocker(async () => {
      throw Object.assign(new Error('(HTTP code 500) server error - x '), {
        statusCode: 500,
        json: { message: 'Head "http://reg:5000/v2/app/manifests/1": no basic auth credentials' },
      });
    });
    const err = await imageClient.pull(docker, 'reg:5000/app:1', { auth: AUTH }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      reason: 'Unauthorized',
      message: 'pulling reg:5000/app:1: Head "http://reg:5000/v2/app/manifests/1": no basic auth credentials',
    });
    expect((err as Error).message).not.toContain('secret-pw');
  });
});

describe('imageClient.remoteDigest', () => {
  it('asks the daemon for the distribution descriptor with the auth header', async () => {
    const asked: unknown[] = [];
    const docker = {
      getImage: (name: string) => ({
        distribution: async (opts: unknown) => {
          asked.push(name, opts);
          return { Descriptor: { digest: 'sha256:abc' } };
        },
      }),
    } as unknown as Dockerode;
    expect(await imageClient.remoteDigest(docker, 'reg:5000/app:1', AUTH)).toBe('sha256:abc');
    expect(asked).toEqual(['reg:5000/app:1', { authconfig: AUTH }]);
  });

  it('classifies a refusal', async () => {
    const docker = {
      getImage: () => ({
        distribution: async () => {
          throw Object.assign(new Error('(HTTP code 401) no such image - x'), {
            statusCode: 401,
            json: { message: 'unauthorized: authentication required' },
          });
        },
      }),
    } as unknown as Dockerode;
    await expect(imageClient.remoteDigest(docker, 'reg:5000/app:1')).rejects.toMatchObject({
      reason: 'Unauthorized',
      message: 'resolving reg:5000/app:1: unauthorized: authentication required',
    });
  });
});
