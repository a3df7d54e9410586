import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTar } from '../../src/docker/tar.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import { cosignVerify } from '../support/cosign.js';
import { labGateway } from '../support/edge-agent.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import type { Lab } from '../support/lab.js';
import { labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerBuild on two real nodes (#20): n1 allows builds (baseline with
// securityPolicySettings.allowBuilds), n2 does not. Builds run with BuildKit
// through the Engine API on the node's own daemon, FROM the lab's workload
// image loaded there (no registry needed), a context from an inline
// Dockerfile or a ConfigMap tarball, secret mounts and arguments from Secrets.

let world: World;
let lab: Lab;
let kube: Kube;
let events: EventsV1Api;
let gitServer: GitServer;
const NS = 'team-a';
const POLL_MS = 4_000;
const MOUNTED = 'mounted-value-7f3a';
const ARG_SECRET = 'arg-value-91c2';

const tagOn = async (node: string, tag: string) => {
  try {
    return await lab.node(node).client().getImage(tag).inspect();
  } catch {
    return undefined;
  }
};

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  return gzipSync(
    await packTar(
      Object.entries(files).map(([name, content]) => ({ header: { name }, content: Buffer.from(content) })),
    ),
  );
}

/** What a container of the image prints, run on the node by hand. */
async function runOn(node: string, image: string, script: string): Promise<string> {
  const { output } = await lab.node(node).exec(['docker', 'run', '--rm', image, 'sh', '-c', script]);
  return output.trim();
}

/** The digest the lab registry serves for `repo:tag`, asked over HTTP (not through Docker). */
async function registryDigest(repo: string, tag: string): Promise<string | undefined> {
  const { registry } = labRegistry(lab);
  const basic = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  const res = await fetch(`http://${registry.address}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${basic}`,
      accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

async function eventsOf(name: string, reason: string): Promise<string[]> {
  const list = await events.listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.reason === reason)
    .map((e) => `${e.note ?? ''} (x${e.series?.count ?? 1})`);
}

async function warnings(name: string): Promise<Array<{ reason: string; note: string }>> {
  const list = await events.listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.type === 'Warning')
    .map((e) => ({ reason: e.reason ?? '', note: e.note ?? '' }));
}

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }, { name: 'n2' }], registry: true },
    loadWorkloadImage: true,
    namespaces: [NS],
    dockyard: { syncPeriodMs: POLL_MS },
  });
  ({ lab, kube } = world);
  events = world.cp.kubeConfig().makeApiClient(EventsV1Api);
  gitServer = await startGitServer({ host: await labGateway(lab.hostDocker, lab.network) });
  await kube.patch('DockerHost', undefined, 'n1', {
    spec: { securityPolicySettings: { allowBuilds: true } },
  });
  await kube.core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: 'build-secrets' }, stringData: { mounted: MOUNTED, arg: ARG_SECRET } },
  });
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await gitServer?.stop();
  await world?.stop();
});

const inlineBuild = () => ({
  hostName: 'n1',
  image: 'team-a/inline:1',
  dockerfileInline: [
    `FROM ${world.image}`,
    'ARG VERSION',
    'RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = "' +
      MOUNTED +
      '" && echo mounted-ok > /mounted',
    'RUN echo "$VERSION" > /version',
    'FROM ' + world.image + ' AS final',
    'COPY --from=0 /version /mounted /',
    'ARG TOKEN',
    'RUN echo "token is $TOKEN"',
  ].join('\n'),
  args: [
    { name: 'VERSION', value: '1.2.3' },
    { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'build-secrets', key: 'arg' } } },
  ],
  secrets: [{ id: 'token', secretKeyRef: { name: 'build-secrets', key: 'mounted' } }],
  labels: { team: 'a' },
  deletionPolicy: 'Delete',
});

describe('DockerBuild', () => {
  it('builds an inline Dockerfile with a secret mount: labelled image, status, no Secret value in status or history', async () => {
    const created = await kube.create('DockerBuild', NS, 'inline', inlineBuild());
    const ready = await kube.waitFor('DockerBuild', NS, 'inline', isReady, 'Ready', 180_000);
    const host = ready.status?.hosts?.[0] as Record<string, unknown> | undefined;
    expect(host).toMatchObject({ name: 'n1', phase: 'Ready' });
    const image = await tagOn('n1', 'team-a/inline:1');
    expect(image?.Id).toBe(host?.imageId);
    expect(image?.Config?.Labels).toMatchObject({
      team: 'a',
      'dockyard.io/uid': created.metadata.uid,
      'dockyard.io/kind': 'DockerBuild',
      'dockyard.io/name': 'inline',
      'dockyard.io/spec-hash': host?.buildHash,
    });
    expect(await runOn('n1', 'team-a/inline:1', 'cat /version /mounted')).toBe('1.2.3\nmounted-ok');
    // The mount's value is in no layer's history; the log shows the argument's only as ***.
    const history = await lab.node('n1').client().getImage('team-a/inline:1').history();
    expect(JSON.stringify(history)).not.toContain(MOUNTED);
    expect(String(host?.log)).toContain('token is ***');
    const status = JSON.stringify(ready.status);
    for (const value of [MOUNTED, ARG_SECRET]) expect(status).not.toContain(value);
    const built = (await events.listNamespacedEvent({ namespace: NS })).items.filter(
      (e) => e.regarding?.name === 'inline' && e.reason === 'Built',
    );
    expect(built[0]?.note).toMatch(/^built team-a\/inline:1 on n1 in [0-9.]+s \(sha256:/);
    expect(await tagOn('n2', 'team-a/inline:1')).toBeUndefined();
  });

  it('a DockerContainer runs the built image', async () => {
    await kube.create('DockerContainer', NS, 'runs-built', {
      hostName: 'n1',
      image: 'team-a/inline:1',
      command: ['sh', '-c', 'cat /version; sleep 3600'],
    });
    await kube.waitFor('DockerContainer', NS, 'runs-built', isReady, 'Ready', 60_000);
    const logs = await lab.node('n1').client().getContainer(`${NS}.runs-built`).logs({ stdout: true });
    expect(logs.toString()).toContain('1.2.3');
    await kube.delete('DockerContainer', NS, 'runs-built');
    await kube.waitForGone('DockerContainer', NS, 'runs-built');
  });

  it('builds again when the image is removed outside Dockyard (drift)', async () => {
    const before = (await tagOn('n1', 'team-a/inline:1'))?.Id;
    await lab.node('n1').client().getImage('team-a/inline:1').remove({ force: true });
    await waitFor(async () => (await tagOn('n1', 'team-a/inline:1')) !== undefined, {
      timeoutMs: 60_000,
      what: 'the image built again on n1',
    });
    // Built from the same inputs (BuildKit's cache): the same image again.
    expect((await tagOn('n1', 'team-a/inline:1'))?.Id).toBe(before);
    await waitFor(
      async () =>
        (await events.listNamespacedEvent({ namespace: NS })).items.some(
          (e) => e.regarding?.name === 'inline' && e.reason === 'DriftRepaired',
        ),
      { timeoutMs: 10_000, what: 'a DriftRepaired Event' },
    );
  });

  it('builds from a ConfigMap tarball, and again when the ConfigMap changes', async () => {
    const context = async (greeting: string) =>
      (
        await tarGz({
          Dockerfile: `FROM ${world.image}\nCOPY greeting.txt /greeting.txt\n`,
          'greeting.txt': greeting,
        })
      ).toString('base64');
    await kube.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'app-src' }, binaryData: { 'context.tar.gz': await context('hello') } },
    });
    await kube.create('DockerBuild', NS, 'from-cm', {
      hostName: 'n1',
      image: 'team-a/from-cm:1',
      context: { configMap: { name: 'app-src', key: 'context.tar.gz' } },
    });
    const first = await kube.waitFor('DockerBuild', NS, 'from-cm', isReady, 'Ready', 120_000);
    expect(await runOn('n1', 'team-a/from-cm:1', 'cat /greeting.txt')).toBe('hello');
    const firstHash = (first.status?.hosts?.[0] as { buildHash?: string }).buildHash;
    await kube.core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'app-src',
      body: { metadata: { name: 'app-src' }, binaryData: { 'context.tar.gz': await context('bonjour') } },
    });
    await waitFor(async () => (await runOn('n1', 'team-a/from-cm:1', 'cat /greeting.txt')) === 'bonjour', {
      timeoutMs: 90_000,
      what: 'the image rebuilt from the changed ConfigMap',
    });
    const again = await kube.waitFor(
      'DockerBuild',
      NS,
      'from-cm',
      (o: DockyardObject) =>
        isReady(o) && (o.status?.hosts?.[0] as { buildHash?: string }).buildHash !== firstHash,
      'Ready with a new build hash',
      60_000,
    );
    expect((again.status?.hosts?.[0] as { buildHash?: string }).buildHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('builds from a Git repository the node clones, and again when the branch moves; an unknown ref is named', async () => {
    const dockerfile = `FROM ${world.image}\nCOPY app/msg.txt /msg.txt\n`;
    await gitServer.commit('app', 'main', { 'app/Dockerfile': dockerfile, 'app/msg.txt': 'one' });
    await kube.create('DockerBuild', NS, 'from-git', {
      hostName: 'n1',
      image: 'team-a/from-git:1',
      context: { git: { url: gitServer.url('app'), ref: 'main' } },
      dockerfile: 'app/Dockerfile',
    });
    await kube.waitFor('DockerBuild', NS, 'from-git', isReady, 'Ready', 120_000);
    expect(await runOn('n1', 'team-a/from-git:1', 'cat /msg.txt')).toBe('one');
    await gitServer.commit('app', 'main', { 'app/msg.txt': 'two' });
    await waitFor(async () => (await runOn('n1', 'team-a/from-git:1', 'cat /msg.txt')) === 'two', {
      timeoutMs: 90_000,
      what: 'the image rebuilt from the moved branch',
    });
    await kube.create('DockerBuild', NS, 'no-such-ref', {
      hostName: 'n1',
      image: 'team-a/no-such-ref:1',
      context: { git: { url: gitServer.url('app'), ref: 'release-9' } },
    });
    const refused = await kube.waitFor(
      'DockerBuild',
      NS,
      'no-such-ref',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'InvalidBuildContext',
      'Ready=False InvalidBuildContext',
      60_000,
    );
    expect(condition(refused, 'Ready')?.message).toContain('release-9 is not a branch or tag');
  });

  it('refuses to build on a host that does not allow builds: PolicyViolation naming the field, nothing built', async () => {
    await kube.create('DockerBuild', NS, 'refused', {
      ...inlineBuild(),
      hostName: 'n2',
      image: 'team-a/refused:1',
    });
    const refused = await kube.waitFor(
      'DockerBuild',
      NS,
      'refused',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'PolicyViolation',
      'Ready=False PolicyViolation',
      60_000,
    );
    expect(condition(refused, 'Stalled')).toMatchObject({ status: 'True', reason: 'PolicyViolation' });
    expect(condition(refused, 'Ready')?.message).toContain('spec.dockerfileInline');
    expect(condition(refused, 'Ready')?.message).toContain('allowBuilds');
    await waitFor(
      async () =>
        (await warnings('refused')).some(
          (w) => w.reason === 'PolicyViolation' && w.note.includes('allowBuilds'),
        ),
      { timeoutMs: 20_000, what: 'a PolicyViolation Warning Event' },
    );
    await new Promise((r) => setTimeout(r, POLL_MS));
    expect(await tagOn('n2', 'team-a/refused:1')).toBeUndefined();
  });

  it('a failing step: Ready=False BuildFailed with the log tail, and a fixed spec builds', async () => {
    await kube.create('DockerBuild', NS, 'failing', {
      hostName: 'n1',
      image: 'team-a/failing:1',
      dockerfileInline: `FROM ${world.image}\nRUN echo about to fail && exit 3\n`,
    });
    const failed = await kube.waitFor(
      'DockerBuild',
      NS,
      'failing',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'BuildFailed',
      'Ready=False BuildFailed',
      120_000,
    );
    expect(condition(failed, 'Ready')?.message).toMatch(/exit code: 3/);
    const log = String((failed.status?.hosts?.[0] as { log?: string }).log);
    expect(log).toContain('about to fail');
    expect(log).toMatch(/ERROR: .*exit code: 3/);
    expect((await warnings('failing')).some((w) => w.reason === 'BuildFailed')).toBe(true);
    await kube.patch('DockerBuild', NS, 'failing', {
      spec: { dockerfileInline: `FROM ${world.image}\nRUN echo fixed > /fixed\n` },
    });
    await kube.waitFor('DockerBuild', NS, 'failing', isReady, 'Ready after the fix', 120_000);
    expect(await runOn('n1', 'team-a/failing:1', 'cat /fixed')).toBe('fixed');
  });

  it('deletionPolicy Delete removes the built image; a tag it did not build is never touched', async () => {
    await kube.delete('DockerBuild', NS, 'inline');
    await kube.waitForGone('DockerBuild', NS, 'inline');
    expect(await tagOn('n1', 'team-a/inline:1')).toBeUndefined();
    // A tag someone else made: NameConflict, and it stays.
    await lab.node('n1').exec(['docker', 'tag', world.image, 'team-a/theirs:1']);
    await kube.create('DockerBuild', NS, 'theirs', { ...inlineBuild(), image: 'team-a/theirs:1' });
    await kube.waitFor(
      'DockerBuild',
      NS,
      'theirs',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'NameConflict',
      'Ready=False NameConflict',
      60_000,
    );
    await kube.delete('DockerBuild', NS, 'theirs');
    await kube.waitForGone('DockerBuild', NS, 'theirs');
    expect((await tagOn('n1', 'team-a/theirs:1'))?.Id).toBe((await tagOn('n1', world.image))?.Id);
  });

  it('pushes the built image to listed registries only, records the digest, never pushes a held digest again', async () => {
    const { registry } = labRegistry(lab);
    await registrySecret(kube, { registry, namespace: NS, name: 'push-creds' });
    const destinations = [`${registry.address}/team-a/pushed:1`, `${registry.address}/team-a/pushed:stable`];
    await kube.create('DockerBuild', NS, 'pushed', {
      hostName: 'n1',
      image: 'team-a/pushed:1',
      dockerfileInline: `FROM ${world.image}\nRUN echo pushed > /pushed\n`,
      push: destinations.map((image) => ({ image })),
      pushSecrets: [{ name: 'push-creds' }],
      deletionPolicy: 'Delete',
    });
    // n1 allows builds but lists no push registry yet: refused, naming the destination.
    const refused = await kube.waitFor(
      'DockerBuild',
      NS,
      'pushed',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'PolicyViolation',
      'Ready=False PolicyViolation',
      60_000,
    );
    expect(condition(refused, 'Ready')?.message).toContain('spec.push[0].image');
    expect(condition(refused, 'Ready')?.message).toContain('allowedPushRegistries');
    expect(await tagOn('n1', 'team-a/pushed:1')).toBeUndefined();
    await kube.patch('DockerHost', undefined, 'n1', {
      spec: { securityPolicySettings: { allowedPushRegistries: [registry.address] } },
    });
    const ready = await kube.waitFor('DockerBuild', NS, 'pushed', isReady, 'Ready, pushed', 180_000);
    const host = ready.status?.hosts?.[0] as { pushed?: Array<{ image: string; digest: string }> };
    expect(host.pushed?.map((p) => p.image).sort()).toEqual([...destinations].sort());
    const digest = await registryDigest('team-a/pushed', '1');
    expect(digest).toMatch(/^sha256:/);
    for (const p of host.pushed ?? []) expect(p.digest).toBe(digest);
    expect(await registryDigest('team-a/pushed', 'stable')).toBe(digest);
    expect(await eventsOf('pushed', 'Pushed')).toHaveLength(1);
    // Several resyncs later (POLL_MS): the registry holds the digest, nothing is pushed again.
    await new Promise((r) => setTimeout(r, 3 * POLL_MS));
    expect(await eventsOf('pushed', 'Pushed')).toEqual([expect.stringMatching(/\(x1\)$/)]);
    // The tag overwritten in the registry by someone else: pushed again, the registry holds our digest.
    const hostDocker = lab.hostDocker;
    await hostDocker.getImage(world.image).tag({ repo: `${registry.address}/team-a/pushed`, tag: '1' });
    const stream = await hostDocker.getImage(destinations[0] ?? '').push({ authconfig: registry.auth });
    await new Promise((resolve, reject) =>
      hostDocker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve(e))),
    );
    expect(await registryDigest('team-a/pushed', '1')).not.toBe(digest);
    await waitFor(async () => (await registryDigest('team-a/pushed', '1')) === digest, {
      timeoutMs: 60_000,
      what: 'the registry tag pushed back to the built image',
    });
    // Deleted with deletionPolicy Delete: the image goes from n1, with the tags its pushes made; the registry keeps it.
    const built = (await tagOn('n1', 'team-a/pushed:1'))?.Id;
    await kube.delete('DockerBuild', NS, 'pushed');
    await kube.waitForGone('DockerBuild', NS, 'pushed');
    for (const tag of ['team-a/pushed:1', ...destinations]) expect(await tagOn('n1', tag)).toBeUndefined();
    await expect(
      lab
        .node('n1')
        .client()
        .getImage(built ?? '')
        .inspect(),
    ).rejects.toThrow(/no such image/i);
    expect(await registryDigest('team-a/pushed', '1')).toBe(digest);
  });

  it('a push the registry refuses: PushFailed phase, Ready=False Unauthorized, retried with backoff until the Secret is fixed', async () => {
    const { registry } = labRegistry(lab);
    await registrySecret(kube, { registry, namespace: NS, name: 'bad-creds', password: 'not-the-password' });
    await kube.create('DockerBuild', NS, 'push-denied', {
      hostName: 'n1',
      image: 'team-a/push-denied:1',
      dockerfileInline: `FROM ${world.image}\nRUN echo denied > /denied\n`,
      push: [{ image: `${registry.address}/team-a/denied:1` }],
      pushSecrets: [{ name: 'bad-creds' }],
    });
    const denied = await kube.waitFor(
      'DockerBuild',
      NS,
      'push-denied',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'Unauthorized',
      'Ready=False Unauthorized',
      180_000,
    );
    expect((denied.status?.hosts?.[0] as { phase?: string }).phase).toBe('PushFailed');
    expect(condition(denied, 'Ready')?.message).toMatch(
      /pushing .*team-a\/denied:1: .*(unauthorized|authentication)/i,
    );
    expect(condition(denied, 'Ready')?.message).not.toContain(registry.password);
    expect((await warnings('push-denied')).some((w) => w.reason === 'Unauthorized')).toBe(true);
    // The image was built once: a failed push never rebuilds.
    expect(await eventsOf('push-denied', 'Built')).toHaveLength(1);
    await kube.core.deleteNamespacedSecret({ namespace: NS, name: 'bad-creds' });
    await registrySecret(kube, { registry, namespace: NS, name: 'bad-creds' });
    await kube.waitFor('DockerBuild', NS, 'push-denied', isReady, 'Ready once the Secret is fixed', 120_000);
    expect(await registryDigest('team-a/denied', '1')).toMatch(/^sha256:/);
  });

  it('signs what it pushes: cosign verifies it, and a host requiring the key’s signature pulls it, not an unsigned one', async () => {
    const { registry } = labRegistry(lab);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await registrySecret(kube, { registry, namespace: NS, name: 'sign-creds' });
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'signing-key' },
        stringData: { 'cosign.key': privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() },
      },
    });
    const destination = `${registry.address}/team-a/signed:1`;
    await kube.create('DockerBuild', NS, 'signed', {
      hostName: 'n1',
      image: 'team-a/signed:1',
      dockerfileInline: `FROM ${world.image}\nRUN echo signed > /signed\n`,
      push: [{ image: destination }],
      pushSecrets: [{ name: 'sign-creds' }],
      signing: { keySecretRef: { name: 'signing-key', key: 'cosign.key' } },
    });
    const ready = await kube.waitFor(
      'DockerBuild',
      NS,
      'signed',
      (o: DockyardObject) =>
        isReady(o) &&
        (o.status?.hosts?.[0] as { pushed?: Array<{ signed?: boolean }> }).pushed?.[0]?.signed === true,
      'Ready, pushed and signed',
      180_000,
    );
    const host = ready.status?.hosts?.[0] as { pushed?: Array<{ digest: string }> } | undefined;
    const digest = host?.pushed?.[0]?.digest ?? '';
    expect(digest).toBe(await registryDigest('team-a/signed', '1'));
    expect((await eventsOf('signed', 'Pushed'))[0]).toMatch(/^pushed and signed the image on n1/);
    // cosign itself accepts the signature (an independent verifier).
    const dir = await mkdtemp(join(tmpdir(), 'dockyard-build-sign-'));
    try {
      await writeFile(join(dir, 'cosign.pub'), publicPem);
      const verified = await cosignVerify({
        ref: destination,
        publicKeyPath: join(dir, 'cosign.pub'),
        format: 'legacy',
        registryAuth: { username: registry.username, password: registry.password, address: registry.address },
      });
      expect(JSON.stringify(verified)).toContain(digest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // n2 requires the key's signature for team-a's repositories.
    await kube.core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'build-signing-pub' }, stringData: { 'cosign.pub': publicPem } },
    });
    await kube.patch('DockerHost', undefined, 'n2', {
      spec: {
        imagePolicy: {
          rules: [
            {
              name: 'team-a-signed',
              images: [`${registry.address}/team-a/*`],
              action: 'RequireSignature',
              signers: [
                {
                  name: 'build-key',
                  publicKey: { namespace: 'default', name: 'build-signing-pub', key: 'cosign.pub' },
                },
              ],
            },
            { name: 'rest', images: ['**'], action: 'Allow' },
          ],
        },
      },
    });
    await kube.waitFor('DockerHost', undefined, 'n2', isReady, 'n2 Ready with the policy observed');
    const pull = (name: string, image: string) =>
      kube.create('DockerImage', NS, name, { hostName: 'n2', image, pullSecrets: [{ name: 'sign-creds' }] });
    await pull('signed-on-n2', destination);
    await pull('unsigned-on-n2', `${registry.address}/team-a/pushed:1`);
    const admitted = await kube.waitFor('DockerImage', NS, 'signed-on-n2', isReady, 'Ready on n2', 90_000);
    expect((admitted.status?.hosts?.[0] as { repoDigest?: string }).repoDigest).toBe(
      `${registry.address}/team-a/signed@${digest}`,
    );
    const refused = await kube.waitFor(
      'DockerImage',
      NS,
      'unsigned-on-n2',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'SignatureInvalid',
      'Ready=False SignatureInvalid',
      60_000,
    );
    expect(condition(refused, 'Ready')?.message).toContain('no signature found');
  });

  it('a DockerImage mirrors a local image to a listed registry, and is refused where the registry is not listed', async () => {
    const { registry } = labRegistry(lab);
    await registrySecret(kube, { registry, namespace: NS, name: 'mirror-creds' });
    await kube.patch('DockerHost', undefined, 'n1', {
      spec: { securityPolicySettings: { allowedPushRegistries: [registry.address] } },
    });
    // The lab's workload image, loaded on the nodes (no registry has it): pullPolicy Never only looks.
    const mirrorSpec = (host: string, destination: string) => ({
      hostName: host,
      image: world.image,
      pullPolicy: 'Never',
      push: [{ image: `${registry.address}/${destination}` }],
      pushSecrets: [{ name: 'mirror-creds' }],
    });
    await kube.create('DockerImage', NS, 'mirrored', mirrorSpec('n1', 'mirror/workload:1'));
    const ready = await kube.waitFor(
      'DockerImage',
      NS,
      'mirrored',
      (o: DockyardObject) =>
        isReady(o) && (o.status?.hosts?.[0] as { pushed?: unknown[] }).pushed?.length === 1,
      'Ready and mirrored',
      120_000,
    );
    const host = ready.status?.hosts?.[0] as { pushed?: Array<{ image: string; digest: string }> };
    const digest = await registryDigest('mirror/workload', '1');
    expect(digest).toMatch(/^sha256:/);
    expect(host.pushed).toEqual([{ image: `${registry.address}/mirror/workload:1`, digest }]);
    expect(await eventsOf('mirrored', 'Pushed')).toHaveLength(1);
    // n2 lists no push registry: refused, nothing pushed.
    await kube.create('DockerImage', NS, 'mirror-refused', mirrorSpec('n2', 'mirror/refused:1'));
    const refused = await kube.waitFor(
      'DockerImage',
      NS,
      'mirror-refused',
      (o: DockyardObject) => condition(o, 'Ready')?.reason === 'PolicyViolation',
      'Ready=False PolicyViolation',
      60_000,
    );
    expect(condition(refused, 'Stalled')).toMatchObject({ status: 'True', reason: 'PolicyViolation' });
    expect(condition(refused, 'Ready')?.message).toContain('spec.push[0].image');
    expect((refused.status?.hosts?.[0] as { phase?: string }).phase).toBe('PolicyViolation');
    expect(await registryDigest('mirror/refused', '1')).toBeUndefined();
  });
});
