import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignSign,
  createCosignTrustedRoot,
  createTestPki,
  generateCosignKeyPair,
  TEST_WORKFLOW_ISSUER,
  type CosignKeyPair,
  type TestPki,
} from '../support/cosign.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { distinctImage, labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerHost.spec.imagePolicy on a real node and the real (htpasswd)
// registry, with signatures made by the real cosign CLI (built from its
// pinned Go module): the matrix of issue #19. Every refused case must
// create nothing and send no pull to the node (its own `docker events`).

let world: World;
let lab: Lab;
let kube: Kube;
let dir: string;
let keys: { right: CosignKeyPair; wrong: CosignKeyPair };
let pki: TestPki;
let address: string;
const NS = 'supply';
const startedAt = Math.floor(Date.now() / 1000);
/** repository → the digest its tag `1` named when pushed (the signed one for `signed/moved`). */
const pushed = new Map<string, string>();

beforeAll(async () => {
  world = await startWorld({
    // Anonymous: DockerContainers naming spec.image present no credentials (DockerImages still send theirs).
    lab: { nodes: [{ name: 'n1' }], registry: 'anonymous' },
    namespaces: [NS],
    dockyard: { syncPeriodMs: 3_000 },
  });
  ({ lab, kube } = world);
  dir = await mkdtemp(join(tmpdir(), 'dockyard-image-policy-'));
  const { registry } = labRegistry(lab);
  address = registry.address;
  keys = {
    right: await generateCosignKeyPair(join(dir, 'right')),
    wrong: await generateCosignKeyPair(join(dir, 'wrong')),
  };
  pki = await createTestPki(join(dir, 'pki'));
  await seedCases();
  await registrySecret(kube, { namespace: NS, name: 'regcred', registry });
  await kube.core.createNamespacedSecret({
    namespace: 'default',
    body: {
      metadata: { name: 'release-key' },
      stringData: { 'cosign.pub': await readFile(keys.right.publicKeyPath, 'utf8') },
    },
  });
  const root = await createCosignTrustedRoot({
    chainPath: pki.chainPath,
    out: join(dir, 'trusted_root.json'),
  });
  await kube.core.createNamespacedConfigMap({
    namespace: 'default',
    body: { metadata: { name: 'ci-root' }, data: { 'trusted_root.json': await readFile(root, 'utf8') } },
  });
  await kube.patch('DockerHost', undefined, 'n1', { spec: { imagePolicy: policy() } });
  // The controllers share the hosts' informer: the host controller's observedGeneration says it has the policy.
  await kube.waitFor('DockerHost', undefined, 'n1', isReady, 'Ready with the policy observed');
}, WORLD_START_TIMEOUT_MS + 240_000);

afterAll(async () => {
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function policy() {
  const at = (path: string) => `${address}/${path}`;
  return {
    rules: [
      { name: 'denied', images: [at('denied/*')], action: 'Deny' },
      { name: 'pinned', images: [at('pinned/*')], action: 'Allow', requireDigest: true },
      {
        name: 'release',
        images: [at('signed/*')],
        action: 'RequireSignature',
        signers: [
          {
            name: 'release-key',
            publicKey: { namespace: 'default', name: 'release-key', key: 'cosign.pub' },
          },
        ],
      },
      {
        name: 'ci',
        images: [at('keyless/*')],
        action: 'RequireSignature',
        signers: [
          {
            name: 'release-workflow',
            keyless: {
              issuer: TEST_WORKFLOW_ISSUER,
              subject: 'https://github.com/acme/app/.github/workflows/*',
              trustedRoot: { namespace: 'default', name: 'ci-root', key: 'trusted_root.json' },
            },
          },
        ],
      },
    ],
  };
}

/** A local image of its own content (its config names the case), so every case has its own digest. */
function variant(docker: Dockerode, source: string, name: string): Promise<string> {
  const tag = `case-${name.replace(/[^a-z0-9]/g, '-')}`;
  return distinctImage(docker, { source, repo: 'dockyard-image-policy', tag, env: `DOCKYARD_CASE=${name}` });
}

/** Pushes the case's image as `repo:1` and returns its digest. */
async function push(repo: string, content = repo): Promise<string> {
  const { registry } = labRegistry(lab);
  const local = await variant(lab.hostDocker, lab.workloadImage, content);
  const digest = await registry.pushImage(lab.hostDocker, local, repo, '1');
  await lab.hostDocker
    .getImage(local)
    .remove()
    .catch(() => {});
  return digest;
}

async function sign(
  repo: string,
  digest: string,
  how: { key: CosignKeyPair; format: 'legacy' | 'bundle'; certificatePath?: string },
) {
  const { registry } = labRegistry(lab);
  await cosignSign({
    ref: `${address}/${repo}@${digest}`,
    keyPath: how.key.keyPath,
    password: how.key.password,
    format: how.format,
    ...(how.certificatePath ? { certificatePath: how.certificatePath } : {}),
    registryAuth: { username: registry.username, password: registry.password, address },
  });
}

/** Every repository of the matrix, pushed and signed (or not) as its case says. */
async function seedCases(): Promise<void> {
  const certKey = pki.key;
  const cases: Array<[string, ((repo: string, digest: string) => Promise<void>) | undefined]> = [
    ['signed/unsigned', undefined],
    ['signed/wrong-key', (r, d) => sign(r, d, { key: keys.wrong, format: 'bundle' })],
    ['signed/legacy', (r, d) => sign(r, d, { key: keys.right, format: 'legacy' })],
    ['signed/bundle', (r, d) => sign(r, d, { key: keys.right, format: 'bundle' })],
    ['signed/fleet', (r, d) => sign(r, d, { key: keys.right, format: 'bundle' })],
    ['signed/moved', (r, d) => sign(r, d, { key: keys.right, format: 'bundle' })],
    [
      'keyless/workflow',
      (r, d) => sign(r, d, { key: certKey, format: 'bundle', certificatePath: pki.leaves.workflow }),
    ],
    [
      'keyless/legacy',
      (r, d) => sign(r, d, { key: certKey, format: 'legacy', certificatePath: pki.leaves.workflow }),
    ],
    [
      'keyless/email',
      (r, d) => sign(r, d, { key: certKey, format: 'bundle', certificatePath: pki.leaves.email }),
    ],
    [
      'keyless/expired',
      (r, d) => sign(r, d, { key: certKey, format: 'bundle', certificatePath: pki.leaves.expired }),
    ],
    ['pinned/app', undefined],
    ['pinned/gone', undefined],
    ['pinned/ctr', undefined],
    ['denied/app', undefined],
  ];
  for (const [repo, signIt] of cases) {
    const digest = await push(repo);
    pushed.set(repo, digest);
    await signIt?.(repo, digest);
  }
  // The tag moves after signing: `signed/moved:1` now names unsigned content.
  await push('signed/moved', 'signed/moved-later');
  pushed.set('signed/multi', await pushSignedIndex('signed/multi'));
}

/**
 * A multi-arch index (Docker manifest list: the node's own platform and
 * arm64) put by hand, since no tool here builds one offline; cosign signs
 * the index digest.
 */
async function pushSignedIndex(repo: string): Promise<string> {
  const { registry } = labRegistry(lab);
  const entries = [
    { digest: await push(`${repo}`, `${repo}-amd64`), platform: { architecture: 'amd64', os: 'linux' } },
    { digest: await push(`${repo}`, `${repo}-arm64`), platform: { architecture: 'arm64', os: 'linux' } },
  ];
  const auth = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
  const manifests = await Promise.all(
    entries.map(async (e) => {
      const res = await fetch(`http://${address}/v2/${repo}/manifests/${e.digest}`, {
        method: 'HEAD',
        headers: { authorization: auth, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      return {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: e.digest,
        size: Number(res.headers.get('content-length')),
        platform: e.platform,
      };
    }),
  );
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifests,
  });
  const res = await fetch(`http://${address}/v2/${repo}/manifests/1`, {
    method: 'PUT',
    headers: {
      authorization: auth,
      'content-type': 'application/vnd.docker.distribution.manifest.list.v2+json',
    },
    body,
  });
  if (res.status !== 201) throw new Error(`putting the index of ${repo}: ${res.status} ${await res.text()}`);
  const digest = res.headers.get('docker-content-digest');
  if (!digest) throw new Error(`putting the index of ${repo}: no digest`);
  await sign(repo, digest, { key: keys.right, format: 'bundle' });
  return digest;
}

/** `repo:1` in the lab registry, or a reference elsewhere as given. */
const refOf = (repo: string) => (repo.includes('.example.') ? repo : `${address}/${repo}:1`);

function image(name: string, repo: string) {
  return kube.create('DockerImage', NS, name, {
    hostName: 'n1',
    image: refOf(repo),
    pullSecrets: [{ name: 'regcred' }],
  });
}

/** What each case ended with, printed with DOCKYARD_TEST_VERBOSE for the issue's matrix. */
function note(what: string, obj: DockyardObject | undefined): void {
  if (!process.env.DOCKYARD_TEST_VERBOSE) return;
  const ready = condition(obj, 'Ready');
  console.log(`[matrix] ${what}: Ready=${ready?.status} ${ready?.reason}: ${ready?.message}`);
}

const readyFalseWith = (reason: string) => (obj: DockyardObject) => {
  const ready = condition(obj, 'Ready');
  return ready?.status === 'False' && ready.reason === reason;
};

/** Pull events the node saw since the file started, by the reference Docker names. */
async function nodePulls(): Promise<string[]> {
  const docker = lab.node('n1').client();
  const stream = (await docker.getEvents({
    since: startedAt,
    until: Math.floor(Date.now() / 1000) + 1,
    filters: JSON.stringify({ type: ['image'], event: ['pull'] }),
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { Actor?: { ID?: string }; id?: string }).Actor?.ID ?? '');
}

const REFUSED: Array<[string, string, string, string]> = [
  // [case, repository, reason, what the message must say]
  ['unsigned', 'signed/unsigned', 'SignatureInvalid', 'no signature found'],
  ['wrong key', 'signed/wrong-key', 'SignatureInvalid', 'signature verification failed'],
  ['tag moved after signing', 'signed/moved', 'SignatureInvalid', 'no signature found'],
  ['wrong keyless identity', 'keyless/email', 'SignatureInvalid', 'certificate identity error'],
  ['expired certificate', 'keyless/expired', 'SignatureInvalid', 'certificate'],
  ['denied repository', 'denied/app', 'ImagePolicyViolation', 'by imagePolicy rule denied'],
  ['disallowed registry', 'quay.example.com/acme/app:1', 'ImagePolicyViolation', 'matches no rule'],
];

const ADMITTED: Array<[string, string]> = [
  ['right key, v3 bundle', 'signed/bundle'],
  ['right key, legacy .sig', 'signed/legacy'],
  ['right keyless identity (private root)', 'keyless/workflow'],
  ['right keyless identity, legacy .sig', 'keyless/legacy'],
  ['a signed multi-arch index', 'signed/multi'],
  ['digest pinned by policy', 'pinned/app'],
];

describe('DockerHost imagePolicy', () => {
  it.each(REFUSED)('%s: refused (%s) with no pull', async (_case, repo, reason, says) => {
    const name = repo.replace(/[^a-z0-9]+/g, '-');
    await image(name, repo);
    const refused = await kube.waitFor(
      'DockerImage',
      NS,
      name,
      readyFalseWith(reason),
      `Ready=False ${reason}`,
      60_000,
    );
    note(_case, refused);
    const message = condition(refused, 'Ready')?.message ?? '';
    expect(message).toContain(refOf(repo));
    expect(message).toContain(says);
    if (reason === 'SignatureInvalid') expect(message).toMatch(/imagePolicy rule (release|ci)/);
  });

  it.each(ADMITTED)('%s: pulled by digest and Ready', async (_case, repo) => {
    const name = repo.replace('/', '-');
    await image(name, repo);
    const ready = await kube.waitFor('DockerImage', NS, name, isReady, 'Ready', 90_000);
    note(_case, ready);
    const host = (ready.status?.hosts as Array<{ repoDigest?: string }> | undefined)?.[0];
    expect(host?.repoDigest).toBe(`${address}/${repo}@${pushed.get(repo)}`);
    // Pulled by digest: the node has no tag for it.
    const docker = lab.node('n1').client();
    await expect(docker.getImage(`${address}/${repo}:1`).inspect()).rejects.toThrow(/no such image/i);
  });

  it('a container of an unmatched registry or a denied repository is refused, created nowhere', async () => {
    await kube.create('DockerContainer', NS, 'elsewhere', {
      hostName: 'n1',
      image: 'quay.example.com/acme/app:1',
    });
    await kube.create('DockerContainer', NS, 'denied', { hostName: 'n1', image: `${address}/denied/app:1` });
    const unmatched = await kube.waitFor(
      'DockerContainer',
      NS,
      'elsewhere',
      readyFalseWith('ImagePolicyViolation'),
      'refused',
    );
    expect(condition(unmatched, 'Ready')?.message).toContain('matches no rule');
    await kube.waitFor('DockerContainer', NS, 'denied', readyFalseWith('ImagePolicyViolation'), 'refused');
    const docker = lab.node('n1').client();
    const names = (await docker.listContainers({ all: true })).flatMap((c) => c.Names);
    expect(names).not.toContain(`/${NS}.elsewhere`);
    expect(names).not.toContain(`/${NS}.denied`);
  });

  it('a container of a refused DockerImage waits and is created nowhere; one of an admitted one runs its digest', async () => {
    await kube.create('DockerContainer', NS, 'from-unsigned', {
      hostName: 'n1',
      imageRef: { name: 'signed-unsigned' },
      command: ['sleep', '3600'],
    });
    await kube.create('DockerContainer', NS, 'from-signed', {
      hostName: 'n1',
      imageRef: { name: 'signed-bundle' },
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerContainer', NS, 'from-signed', isReady, 'Ready', 60_000);
    const docker = lab.node('n1').client();
    const running = await docker.getContainer(`${NS}.from-signed`).inspect();
    expect(running.Config.Image).toBe(`${address}/signed/bundle@${pushed.get('signed/bundle')}`);
    const waiting = await kube.get('DockerContainer', NS, 'from-unsigned');
    expect(condition(waiting, 'Ready')?.status).not.toBe('True');
    await expect(docker.getContainer(`${NS}.from-unsigned`).inspect()).rejects.toThrow(/no such container/i);
  });

  it('a pinned digest stays when the tag moves, across a controller restart', async () => {
    const first = pushed.get('pinned/app');
    const moved = await push('pinned/app', 'pinned/app-moved');
    expect(moved).not.toBe(first);
    await world.restartDockyard();
    await kube.patch('DockerImage', NS, 'pinned-app', {
      metadata: { annotations: { 'test/poke': 'after-move' } },
    });
    // Several resyncs (3 s) of a fresh controller, which restores the pin from status.
    await new Promise((r) => setTimeout(r, 10_000));
    const after = await kube.waitFor('DockerImage', NS, 'pinned-app', isReady, 'still Ready');
    const host = (after.status?.hosts as Array<{ repoDigest?: string }> | undefined)?.[0];
    expect(host?.repoDigest).toBe(`${address}/pinned/app@${first}`);
    const pulls = (await nodePulls()).filter((ref) => ref.includes('/pinned/app'));
    expect(pulls).toEqual([`${address}/pinned/app@${first}`]);
  });

  it('a container naming spec.image runs the pinned digest, and keeps it when the tag moves', async () => {
    const first = pushed.get('pinned/ctr');
    await kube.create('DockerContainer', NS, 'pinned-ctr', {
      hostName: 'n1',
      image: `${address}/pinned/ctr:1`,
      command: ['sleep', '3600'],
    });
    const ready = await kube.waitFor('DockerContainer', NS, 'pinned-ctr', isReady, 'Ready', 60_000);
    const host = (ready.status?.hosts as Array<{ imagePin?: unknown }> | undefined)?.[0];
    expect(host?.imagePin).toEqual({ image: `${address}/pinned/ctr:1`, digest: first });
    const docker = lab.node('n1').client();
    const created = await docker.getContainer(`${NS}.pinned-ctr`).inspect();
    expect(created.Config.Image).toBe(`${address}/pinned/ctr@${first}`);
    await push('pinned/ctr', 'pinned/ctr-moved');
    await world.restartDockyard();
    await kube.patch('DockerContainer', NS, 'pinned-ctr', {
      metadata: { annotations: { 'test/poke': 'moved' } },
    });
    await new Promise((r) => setTimeout(r, 10_000));
    await kube.waitFor('DockerContainer', NS, 'pinned-ctr', isReady, 'still Ready');
    const after = await docker.getContainer(`${NS}.pinned-ctr`).inspect();
    expect(after.Id).toBe(created.Id);
    expect(after.Config.Image).toBe(`${address}/pinned/ctr@${first}`);
  });

  it('a container naming a signed image runs its verified digest; an unsigned one is created nowhere', async () => {
    await kube.create('DockerContainer', NS, 'signed-ctr', {
      hostName: 'n1',
      image: `${address}/signed/legacy:1`,
      command: ['sleep', '3600'],
    });
    await kube.create('DockerContainer', NS, 'unsigned-ctr', {
      hostName: 'n1',
      image: `${address}/signed/unsigned:1`,
      command: ['sleep', '3600'],
    });
    await kube.waitFor('DockerContainer', NS, 'signed-ctr', isReady, 'Ready', 60_000);
    const refused = await kube.waitFor(
      'DockerContainer',
      NS,
      'unsigned-ctr',
      readyFalseWith('SignatureInvalid'),
      'refused',
    );
    note('container of an unsigned image', refused);
    const docker = lab.node('n1').client();
    const running = await docker.getContainer(`${NS}.signed-ctr`).inspect();
    expect(running.Config.Image).toBe(`${address}/signed/legacy@${pushed.get('signed/legacy')}`);
    await expect(docker.getContainer(`${NS}.unsigned-ctr`).inspect()).rejects.toThrow(/no such container/i);
  });

  it('deletionPolicy Delete removes an image pulled by digest', async () => {
    await kube.create('DockerImage', NS, 'pinned-gone', {
      hostName: 'n1',
      image: `${address}/pinned/gone:1`,
      pullSecrets: [{ name: 'regcred' }],
      deletionPolicy: 'Delete',
    });
    await kube.waitFor('DockerImage', NS, 'pinned-gone', isReady, 'Ready', 60_000);
    const docker = lab.node('n1').client();
    const byDigest = `${address}/pinned/gone@${pushed.get('pinned/gone')}`;
    await docker.getImage(byDigest).inspect();
    await kube.delete('DockerImage', NS, 'pinned-gone');
    await kube.waitForGone('DockerImage', NS, 'pinned-gone');
    await expect(docker.getImage(byDigest).inspect()).rejects.toThrow(/no such image/i);
  });

  it('no refused image ever reached the node as a pull', async () => {
    const pulls = await nodePulls();
    // The admitted ones did arrive (the check can see pulls at all).
    for (const [, repo] of ADMITTED) expect(pulls.some((ref) => ref.includes(`/${repo}@`))).toBe(true);
    for (const [, repo] of REFUSED)
      expect(pulls.filter((ref) => ref.includes(repo.split(':')[0]!))).toEqual([]);
  });

  it('verifies a digest once: six owners at once (images and containers) share one verification, and later reconciles hit the cache', async () => {
    const registry = world.dockyard.manager.metrics.registry;
    const count = async () => {
      const metric = (await registry.getMetricsAsJSON()).find(
        (m) => m.name === 'dockyard_image_signature_verification_seconds',
      );
      const values = (metric?.values ?? []) as Array<{
        metricName?: string;
        value: number;
        labels: Record<string, unknown>;
      }>;
      return values
        .filter(
          (v) =>
            v.metricName === 'dockyard_image_signature_verification_seconds_count' &&
            v.labels.result === 'valid',
        )
        .reduce((n, v) => n + v.value, 0);
    };
    const before = await count();
    for (const n of [1, 2, 3]) await image(`signed-fleet-${n}`, 'signed/fleet');
    for (const n of [1, 2, 3])
      await kube.create('DockerContainer', NS, `signed-fleet-ctr-${n}`, {
        hostName: 'n1',
        image: `${address}/signed/fleet:1`,
        command: ['sleep', '3600'],
      });
    for (const n of [1, 2, 3]) {
      await kube.waitFor('DockerImage', NS, `signed-fleet-${n}`, isReady, 'Ready', 60_000);
      await kube.waitFor('DockerContainer', NS, `signed-fleet-ctr-${n}`, isReady, 'Ready', 60_000);
    }
    expect(await count()).toBe(before + 1);
    // Several resyncs (3 s) later, still the one.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(await count()).toBe(before + 1);
  });
});
