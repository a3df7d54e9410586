import { PassThrough } from 'node:stream';
import type { CoreV1Api } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { HostConnection } from '../../docker/connection-pool.js';
import { managedMetricsNoop } from '../../managed/managed-metrics.js';
import type { HostContext, HostOutcome } from '../../managed/types.js';
import type { EventRecorder } from '../../runtime/events.js';
import { dockerImageKind } from './image-kind.js';
import type { ImageMetrics } from './image-metrics.js';

// The kind against a fake daemon: background pulls with progress, results,
// failures with backoff, Never, and deletion rules. The daemon and its
// registry are real in test/integration/dockerimage.test.ts.

const REF = 'reg:5000/app:1';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const PASSWORD = 'fake-Sentinel-pw';

class FakeDaemon {
  images = new Map<string, { Id: string; RepoDigests: string[]; Size: number }>();
  containers: string[] = [];
  pulls: Array<{ auth: unknown; query: Record<string, unknown>; stream: PassThrough }> = [];
  removed: string[] = [];
  /** Registry answers to `GET /distribution/…/json`: which credentials it accepts, and the auth it was asked with. */
  accepts: (auth: { username?: string; password?: string } | undefined) => boolean = () => true;
  resolves: unknown[] = [];
  api = {
    getImage: (name: string) => ({
      inspect: async () => {
        const img = this.images.get(name);
        if (!img) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { ...img, RepoTags: [name] };
      },
      remove: async () => {
        if (this.containers.length > 0) throw Object.assign(new Error('conflict'), { statusCode: 409 });
        this.removed.push(name);
        this.images.delete(name);
      },
      distribution: async (opts?: { authconfig?: { username?: string; password?: string } }) => {
        this.resolves.push(opts?.authconfig);
        if (!this.accepts(opts?.authconfig))
          throw Object.assign(new Error('unauthorized: authentication required'), {
            statusCode: 500,
            json: { message: 'unauthorized: authentication required' },
          });
        return { Descriptor: { digest: DIGEST } };
      },
    }),
    createImage: async (auth: unknown, query: Record<string, unknown>) => {
      const stream = new PassThrough();
      this.pulls.push({ auth, query, stream });
      return stream;
    },
    listContainers: async () => this.containers.map((n) => ({ Id: n, Names: [`/${n}`] })),
  } as unknown as Dockerode;
}

const host: DockerHost = {
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerHost',
  metadata: { name: 'h1' },
  spec: { endpoint: 'tcp://h1:2375', insecure: true },
} as DockerHost;

function image(spec: Partial<DockerImage['spec']> = {}, uid = 'uid-1', name = 'app'): DockerImage {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerImage',
    metadata: { name, namespace: 'ns', uid },
    spec: { image: REF, hostName: 'h1', pullSecrets: [{ name: 'regcred' }], ...spec },
  };
}

const core = {
  readNamespacedSecret: async () => ({
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      '.dockerconfigjson': Buffer.from(
        JSON.stringify({ auths: { 'reg:5000': { username: 'u', password: PASSWORD } } }),
      ).toString('base64'),
    },
  }),
} as unknown as Pick<CoreV1Api, 'readNamespacedSecret'>;

function harness(opts: { objects?: () => DockerImage[] } = {}) {
  const daemon = new FakeDaemon();
  const events: Array<{ type: string; reason: string; note: string }> = [];
  const recorder: EventRecorder = {
    event: (_o, type, reason, _a, note) => events.push({ type, reason, note }),
  };
  const triggered: string[] = [];
  const pulls: Array<{ host: string; outcome: string; bytes: number }> = [];
  const metrics: ImageMetrics = {
    pulled: (h, outcome, _s, bytes) => pulls.push({ host: h, outcome, bytes }),
    pushed: () => {},
  };
  let now = Date.parse('2026-01-01T00:00:00Z');
  const kind = dockerImageKind({
    core,
    metrics,
    trigger: (k) => triggered.push(k),
    now: () => now,
    ...(opts.objects ? { objects: opts.objects } : {}),
  });
  const conn = {
    host: 'h1',
    endpoint: 'x',
    fingerprint: 'f',
    api: daemon.api,
    stream: daemon.api,
  } as HostConnection;
  let last: HostOutcome | undefined;
  const ctx = (obj: DockerImage): HostContext<DockerImage> => ({
    obj,
    namespace: 'ns',
    host,
    conn,
    previous: last?.entry,
    paused: false,
    logger: pino({ level: 'silent' }),
    events: recorder,
    metrics: managedMetricsNoop,
    now: new Date(now),
    signal: new AbortController().signal,
  });
  return {
    daemon,
    events,
    triggered,
    pulls,
    kind,
    advance: (ms: number) => (now += ms),
    reconcile: async (obj = image()) => (last = await kind.reconcileHost(ctx(obj))),
    finalize: (obj: DockerImage, policy: 'Delete' | 'Orphan') => kind.finalizeHost(ctx(obj), policy),
  };
}

const send = (stream: PassThrough, ...msgs: object[]) =>
  msgs.forEach((m) => stream.write(`${JSON.stringify(m)}\n`));
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('DockerImage kind', () => {
  it('pulls in the background with the matching credentials, shows progress, then reports Ready with the digest', async () => {
    const h = harness();
    const first = await h.reconcile();
    expect(first).toMatchObject({ ready: false, requeueAfterMs: 2_000, entry: { phase: 'Pulling' } });
    expect(h.daemon.pulls).toHaveLength(1);
    const pull = h.daemon.pulls[0]!;
    expect(pull.auth).toEqual({ username: 'u', password: PASSWORD, serveraddress: 'reg:5000' });
    expect(pull.query).toMatchObject({ fromImage: 'reg:5000/app', tag: '1' });

    send(
      pull.stream,
      { status: 'Pulling fs layer', id: 'l1' },
      { status: 'Downloading', id: 'l1', progressDetail: { current: 256, total: 1024 } },
    );
    await settle();
    h.advance(2_000);
    const during = await h.reconcile();
    expect(during.entry).toMatchObject({
      phase: 'Pulling',
      progress: { currentBytes: 256, totalBytes: 1024, percent: 25 },
    });
    expect(during.entry.message).toBe('pulling reg:5000/app:1: 25% (256 B of 1.0 KiB)');
    expect(h.daemon.pulls).toHaveLength(1); // no second pull while one is in flight

    send(pull.stream, { status: 'Pull complete', id: 'l1' }, { status: `Digest: ${DIGEST}` });
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [`reg:5000/app@${DIGEST}`], Size: 1024 });
    pull.stream.end();
    await settle();
    expect(h.triggered).toEqual(['ns/app']);
    expect(h.pulls).toEqual([{ host: 'h1', outcome: 'success', bytes: 1024 }]);

    const done = await h.reconcile();
    expect(done).toMatchObject({
      ready: true,
      entry: {
        phase: 'Ready',
        imageId: 'sha256:img',
        id: 'sha256:img',
        repoDigest: `reg:5000/app@${DIGEST}`,
        sizeBytes: 1024,
      },
    });
    expect(done.entry.pulledAt).toBeDefined();
    expect(done.entry.progress).toBeUndefined();
    expect(h.events).toEqual([
      {
        type: 'Normal',
        reason: 'Pulled',
        note: expect.stringMatching(
          new RegExp(`^pulled reg:5000/app:1 on h1 in [0-9.]+s \\(${DIGEST}, 1.0 KiB downloaded\\)$`),
        ),
      },
    ]);
    expect(JSON.stringify([first, during, done, h.events])).not.toContain(PASSWORD);
  });

  it('a failed pull is reported with its reason and retried only after the backoff', async () => {
    const h = harness();
    await h.reconcile();
    const pull = h.daemon.pulls[0]!;
    send(pull.stream, {
      error: 'x',
      errorDetail: { message: 'Head "http://reg:5000/v2/app/manifests/1": no basic auth credentials' },
    });
    pull.stream.end();
    await settle();
    const failed = await h.reconcile();
    expect(failed).toMatchObject({
      ready: false,
      failure: { reason: 'Unauthorized' },
      entry: { phase: 'Failed' },
    });
    expect(failed.failure?.message).toContain(
      'no basic auth credentials; attempt 1, next at 2026-01-01T00:00:05.000Z',
    );
    expect(failed.requeueAfterMs).toBe(5_000);
    expect(h.events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning PullFailed']);
    expect(h.pulls).toEqual([{ host: 'h1', outcome: 'Unauthorized', bytes: 0 }]);

    h.advance(3_000);
    await h.reconcile();
    expect(h.daemon.pulls).toHaveLength(1); // still backing off
    h.advance(2_000);
    expect((await h.reconcile()).entry.phase).toBe('Pulling');
    expect(h.daemon.pulls).toHaveLength(2);
  });

  it('Never only looks: missing is ImageNotPresent, and nothing is pulled', async () => {
    const h = harness();
    const out = await h.reconcile(image({ pullPolicy: 'Never' }));
    expect(out).toMatchObject({
      ready: false,
      failure: { reason: 'ImageNotPresent' },
      entry: { phase: 'NotPresent' },
    });
    expect(h.daemon.pulls).toHaveLength(0);
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [], Size: 1 });
    expect(await h.reconcile(image({ pullPolicy: 'Never' }))).toMatchObject({
      ready: true,
      entry: { phase: 'Ready' },
    });
  });

  it('Always re-resolves the tag when due and pulls only when the digest moved', async () => {
    const h = harness();
    const always = image({ pullPolicy: 'Always', refreshInterval: '5s' });
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [`reg:5000/app@${DIGEST}`], Size: 1 });
    const fresh = await h.reconcile(always);
    expect(fresh).toMatchObject({ ready: true, requeueAfterMs: 5_000 });
    expect(h.daemon.pulls).toHaveLength(0);
    h.advance(5_000);
    h.daemon.images.set(REF, {
      Id: 'sha256:img',
      RepoDigests: [`reg:5000/app@sha256:${'0'.repeat(64)}`],
      Size: 1,
    });
    expect((await h.reconcile(always)).entry.phase).toBe('Pulling');
    expect(h.daemon.pulls).toHaveLength(1);
  });

  it('Delete never forces: an image in use stays, with the containers named', async () => {
    const h = harness();
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [], Size: 1 });
    h.daemon.containers = ['web-1'];
    expect(await h.finalize(image(), 'Delete')).toEqual({
      done: false,
      message: expect.stringContaining('reg:5000/app:1 is in use by web-1 on h1: not removed'),
    });
    h.daemon.containers = [];
    expect(await h.finalize(image(), 'Delete')).toEqual({ done: true });
    expect(h.daemon.removed).toEqual([REF]);
  });

  it('Orphan leaves the image; Delete leaves it too while another DockerImage wants it on the host', async () => {
    const other = image({}, 'uid-2', 'other');
    other.status = { hosts: [{ name: 'h1', phase: 'Ready' }] };
    const h = harness({ objects: () => [other] });
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [], Size: 1 });
    expect(await h.finalize(image(), 'Orphan')).toEqual({ done: true });
    expect(await h.finalize(image(), 'Delete')).toEqual({ done: true });
    expect(h.daemon.removed).toEqual([]);
    expect(h.events.map((e) => e.reason)).toEqual(['Kept']);
  });

  it('deleting while pulling stops the pull first', async () => {
    const h = harness();
    await h.reconcile();
    const pull = h.daemon.pulls[0]!;
    const waiting = await h.finalize(image(), 'Delete');
    expect(waiting).toMatchObject({
      done: false,
      message: expect.stringContaining('pull of reg:5000/app:1 in progress'),
    });
    pull.stream.destroy(new Error('aborted'));
    await settle();
    expect(await h.finalize(image(), 'Delete')).toEqual({ done: true });
  });

  it('a Delete retried while the pull has not stopped yet keeps waiting for it', async () => {
    const h = harness();
    await h.reconcile();
    const pull = h.daemon.pulls[0]!;
    h.daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [], Size: 1 });
    const waiting = {
      done: false,
      message: 'waiting for the pull of reg:5000/app:1 in progress on h1 to stop',
    };
    expect(await h.finalize(image(), 'Delete')).toEqual(waiting);
    expect(await h.finalize(image(), 'Delete')).toEqual(waiting);
    expect(h.daemon.removed).toEqual([]);
    pull.stream.destroy(new Error('aborted'));
    await settle();
    expect(await h.finalize(image(), 'Delete')).toEqual({ done: true });
    expect(h.daemon.removed).toEqual([REF]);
  });

  it('leaving under Orphan stops a pull nobody else waits for, and forgets the owner on the host', async () => {
    const h = harness();
    await h.reconcile();
    const pull = h.daemon.pulls[0]!;
    expect(await h.finalize(image(), 'Orphan')).toEqual({ done: true });
    expect((pull.query.abortSignal as AbortSignal).aborted).toBe(true);
    // The daemon ends an aborted pull.
    pull.stream.destroy(new Error('aborted'));
    await settle();
    // Placed there again: a fresh pull, and the abandoned one's end is not reported to it.
    const again = await h.reconcile();
    expect(again.entry.phase).toBe('Pulling');
    expect(h.daemon.pulls).toHaveLength(2);
    expect(h.events.map((e) => e.reason)).not.toContain('PullFailed');
  });
});

// Private images stay private (KEP-2535): several owners in several
// namespaces, each with its own pull Secret, on one host.
describe("DockerImage kind: an image pulled with one owner's credentials", () => {
  type Owner = { ns: string; name: string; secret?: string; user?: string; password?: string };
  const A: Owner = { ns: 'ns-a', name: 'app', secret: 'a-cred', user: 'alice', password: 'pw-a' };

  function tenants(owners: Owner[]) {
    const daemon = new FakeDaemon();
    daemon.accepts = (auth) =>
      (auth?.username === 'alice' && auth.password === 'pw-a') ||
      (auth?.username === 'bob' && auth.password === 'pw-b');
    const bySecret = new Map(owners.filter((o) => o.secret).map((o) => [`${o.ns}/${o.secret}`, o]));
    const core = {
      readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
        const o = bySecret.get(`${namespace}/${name}`);
        if (!o) throw Object.assign(new Error('not found'), { code: 404 });
        return {
          type: 'kubernetes.io/dockerconfigjson',
          data: {
            '.dockerconfigjson': Buffer.from(
              JSON.stringify({ auths: { 'reg:5000': { username: o.user, password: o.password } } }),
            ).toString('base64'),
          },
        };
      },
    } as unknown as Pick<CoreV1Api, 'readNamespacedSecret'>;
    const events: Array<{ ns: string; type: string; reason: string; note: string }> = [];
    const last = new Map<string, HostOutcome>();
    const conn = {
      host: 'h1',
      endpoint: 'x',
      fingerprint: 'f',
      api: daemon.api,
      stream: daemon.api,
    } as HostConnection;
    const now = Date.parse('2026-01-01T00:00:00Z');
    const make = () => dockerImageKind({ core, now: () => now });
    let kind = make();
    const obj = (o: Owner): DockerImage => ({
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerImage',
      metadata: { name: o.name, namespace: o.ns, uid: `${o.ns}-${o.name}` },
      spec: { image: REF, hostName: 'h1', ...(o.secret ? { pullSecrets: [{ name: o.secret }] } : {}) },
    });
    const reconcile = async (o: Owner) => {
      const out = await kind.reconcileHost({
        obj: obj(o),
        namespace: o.ns,
        host,
        conn,
        previous: last.get(`${o.ns}/${o.name}`)?.entry,
        paused: false,
        logger: pino({ level: 'silent' }),
        events: { event: (_o, type, reason, _a, note) => events.push({ ns: o.ns, type, reason, note }) },
        metrics: managedMetricsNoop,
        now: new Date(now),
        signal: new AbortController().signal,
      });
      last.set(`${o.ns}/${o.name}`, out);
      return out;
    };
    /** A pulls the image with its Secret, to Ready. */
    const pulledByA = async () => {
      await reconcile(A);
      const pull = daemon.pulls.at(-1)!;
      send(pull.stream, { status: `Digest: ${DIGEST}` });
      daemon.images.set(REF, { Id: 'sha256:img', RepoDigests: [`reg:5000/app@${DIGEST}`], Size: 1 });
      pull.stream.end();
      await settle();
      expect(await reconcile(A)).toMatchObject({ ready: true, entry: { phase: 'Ready' } });
    };
    return { daemon, events, reconcile, pulledByA, restart: () => (kind = make()) };
  }

  const visibleTo = (ns: string, t: ReturnType<typeof tenants>, outs: HostOutcome[]) =>
    JSON.stringify([outs, t.events.filter((e) => e.ns === ns)]);

  it('is refused to another namespace whose credentials the registry rejects, naming only its own Secret', async () => {
    const B: Owner = { ns: 'ns-b', name: 'app', secret: 'b-cred', user: 'alice', password: 'wrong' };
    const t = tenants([A, B]);
    await t.pulledByA();
    const out = await t.reconcile(B);
    expect(out).toMatchObject({
      ready: false,
      failure: { reason: 'ImagePullCredentialsRejected' },
      entry: { phase: 'Failed' },
    });
    expect(out.failure?.message).toContain('the credentials of pull secret b-cred');
    // Nothing about the image it was not granted: no ID, no digest.
    expect(out.entry.imageId).toBeUndefined();
    expect(out.entry.repoDigest).toBeUndefined();
    expect(t.daemon.resolves).toEqual([{ username: 'alice', password: 'wrong', serveraddress: 'reg:5000' }]);
    expect(t.daemon.pulls).toHaveLength(1); // B never pulls nor joins A's pull
    expect(t.events.filter((e) => e.ns === 'ns-b')).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'ImagePullCredentialsRejected' }),
    ]);
    const seenByB = visibleTo('ns-b', t, [out]);
    for (const leak of ['a-cred', 'ns-a', 'pw-a']) expect(seenByB).not.toContain(leak);
  });

  it('is refused to an owner without credentials unless the registry grants anonymous access', async () => {
    const anon: Owner = { ns: 'ns-c', name: 'app' };
    const t = tenants([A]);
    await t.pulledByA();
    expect((await t.reconcile(anon)).failure?.reason).toBe('ImagePullCredentialsRejected');
    expect(t.daemon.resolves).toEqual([undefined]);
  });

  it('is used at once by another owner with the same credentials (another Secret name): no registry call', async () => {
    const same: Owner = { ns: 'ns-b', name: 'mirror', secret: 'b-cred', user: 'alice', password: 'pw-a' };
    const t = tenants([A, same]);
    await t.pulledByA();
    expect(await t.reconcile(same)).toMatchObject({ ready: true, entry: { phase: 'Ready' } });
    expect(t.daemon.resolves).toEqual([]);
    expect(t.daemon.pulls).toHaveLength(1);
  });

  it('is used by another owner whose own credentials the registry accepts for the same digest (one check)', async () => {
    const bob: Owner = { ns: 'ns-b', name: 'app', secret: 'b-cred', user: 'bob', password: 'pw-b' };
    const t = tenants([A, bob]);
    await t.pulledByA();
    expect(await t.reconcile(bob)).toMatchObject({ ready: true, entry: { phase: 'Ready' } });
    expect(await t.reconcile(bob)).toMatchObject({ ready: true });
    expect(t.daemon.resolves).toHaveLength(1);
    expect(t.daemon.pulls).toHaveLength(1);
  });

  it('once verified anonymously (public), is used by everyone without further checks', async () => {
    const anon: Owner = { ns: 'ns-c', name: 'app' };
    const other: Owner = { ns: 'ns-d', name: 'app', secret: 'd-cred', user: 'dave', password: 'x' };
    const t = tenants([A, other]);
    await t.pulledByA();
    t.daemon.accepts = () => true;
    expect((await t.reconcile(anon)).ready).toBe(true);
    expect((await t.reconcile(other)).ready).toBe(true);
    expect(t.daemon.resolves).toEqual([undefined]);
  });

  it('never shares a pull between owners with different credentials', async () => {
    const bob: Owner = { ns: 'ns-b', name: 'app', secret: 'b-cred', user: 'bob', password: 'pw-b' };
    const same: Owner = { ns: 'ns-c', name: 'app', secret: 'c-cred', user: 'alice', password: 'pw-a' };
    const t = tenants([A, bob, same]);
    await t.reconcile(A);
    await t.reconcile(same);
    expect(t.daemon.pulls).toHaveLength(1); // same credentials: joined
    await t.reconcile(bob);
    expect(t.daemon.pulls).toHaveLength(2);
    expect(t.daemon.pulls.map((p) => (p.auth as { username: string }).username)).toEqual(['alice', 'bob']);
    // A's pull fails: B's status carries neither A's Secret nor its notes.
    send(t.daemon.pulls[0]!.stream, {
      error: 'x',
      errorDetail: { message: 'unauthorized: authentication required' },
    });
    t.daemon.pulls[0]!.stream.end();
    await settle();
    const failed = await t.reconcile(same);
    expect(failed.failure?.reason).toBe('Unauthorized');
    expect(JSON.stringify(failed)).not.toContain('a-cred');
  });

  it('after a restart, an owner Ready before keeps the image it was verified for without a check', async () => {
    const t = tenants([A]);
    await t.pulledByA();
    t.restart();
    expect(await t.reconcile(A)).toMatchObject({ ready: true, entry: { phase: 'Ready' } });
    expect(t.daemon.resolves).toEqual([]);
  });
});
