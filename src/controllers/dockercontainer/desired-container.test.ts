import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerImage } from '../../crds/dockerimage.js';
import type { DockerNetwork } from '../../crds/dockernetwork.js';
import type { DockerVolume } from '../../crds/dockervolume.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import { groupHashes, SPEC_GROUPS_LABEL } from '../../docker/container-spec.js';
import type { HostStatusEntry } from '../../managed/types.js';
import { desiredContainer, type DockerContainerKindDeps } from './container-kind.js';
import { observedContainer } from '../../docker/test-support.js';
import { BASE_IMAGE_LABEL } from '../../docker/files-image.js';
import { imageOfRunning } from './dependencies.js';

// desiredContainer with the dependency caches in every state that matters:
// a container waits for its dependencies before it is created or when it
// must be recreated, and an existing one of ours is held as it is while a
// dependency stops being ready later (a failed re-pull, a paused or deleted
// volume), with the spec hash it carries, so nothing recreates it.

const NS = 'team';
const HOST = 'n1';
const DIGEST = 'sha256:' + 'a'.repeat(64);
const REPO_DIGEST = `reg.local/app@${DIGEST}`;

type Hosts = HostStatusEntry[];
const meta = (name: string) => ({ name, namespace: NS, uid: `u-${name}` });
const image = (hosts: Hosts, ref = 'reg.local/app:1') =>
  ({ metadata: meta('app'), spec: { image: ref }, status: { hosts } }) as unknown as DockerImage;
const volume = (hosts: Hosts) =>
  ({ metadata: meta('data'), spec: {}, status: { hosts } }) as unknown as DockerVolume;
const network = (hosts: Hosts) =>
  ({ metadata: meta('backend'), spec: {}, status: { hosts } }) as unknown as DockerNetwork;

const ready: Hosts = [{ name: HOST, phase: 'Ready' }];
const imageReady: Hosts = [{ name: HOST, phase: 'Ready', repoDigest: REPO_DIGEST }];
/** A re-pull of the same reference failed: the image is still there, its digest in the entry. */
const repullFailed: Hosts = [{ name: HOST, phase: 'Failed', repoDigest: REPO_DIGEST }];
/** spec.image changed to something whose pull fails: nothing of it on the host. */
const newRefFailed: Hosts = [{ name: HOST, phase: 'Failed' }];
const paused: Hosts = [{ name: HOST, phase: 'Paused' }];

interface World {
  containers?: DockerContainer[];
  images?: DockerImage[];
  volumes?: DockerVolume[];
  networks?: DockerNetwork[];
}
const healthy: Required<Omit<World, 'containers'>> = {
  images: [image(imageReady)],
  volumes: [volume(ready)],
  networks: [network(ready)],
};

function cacheOf<T extends { metadata: { name: string; namespace?: string } }>(items: readonly T[]) {
  return {
    getByName: (name: string, ns?: string) =>
      items.find((i) => i.metadata.name === name && i.metadata.namespace === ns),
  };
}

function depsOf(w: World): DockerContainerKindDeps {
  return {
    images: cacheOf(w.images ?? []),
    volumes: cacheOf(w.volumes ?? []),
    networks: cacheOf(w.networks ?? []),
    containers: cacheOf(w.containers ?? []),
    volumeNameOf: (v) => `${NS}.${v.metadata.name}`,
    networkNameOf: (n) => `${NS}.${n.metadata.name}`,
    refs: () => ({ secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined) }),
  };
}

const container = (spec: Partial<DockerContainer['spec']> = {}) =>
  ({
    metadata: meta('web'),
    spec: {
      hostName: HOST,
      imageRef: { name: 'app' },
      command: ['sleep', '3600'],
      mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
      networks: [{ name: 'backend' }],
      ...spec,
    },
  }) as unknown as DockerContainer;

/** Our container as the controller created it with every dependency ready. */
async function created(): Promise<ObservedContainer> {
  const c = container();
  const d = await desiredContainer(depsOf(healthy), { container: c, hostName: HOST, namespace: NS });
  if (!d.inputs || !d.hash) throw new Error('fixture: not created');
  return observedContainer({
    labels: { 'dockyard.io/spec-hash': d.hash, [SPEC_GROUPS_LABEL]: groupHashes(c.spec, d.inputs) },
    image: d.inputs.image,
    networks: { 'team.backend': { aliases: [] } } as unknown as ObservedContainer['networks'],
    mounts: [{ type: 'volume', name: 'team.data', destination: '/data', readOnly: false }],
  });
}

type Expect =
  | { held: string[] }
  | { missing: string[] }
  /** All ready: a hash of its own, other than the one the container carries (a roll). */
  | { rolls: true };

describe('desiredContainer: waiting only before create or recreate', () => {
  it.each<[string, World, { running: boolean; spec?: Partial<DockerContainer['spec']> }, Expect]>([
    [
      'a re-pull of the same image failed: held',
      { ...healthy, images: [image(repullFailed)] },
      { running: true },
      { held: ['DockerImage/app'] },
    ],
    [
      'the DockerImage now names an image whose pull fails: held, not recreated',
      { ...healthy, images: [image(newRefFailed, 'reg.local/app:broken')] },
      { running: true },
      { held: ['DockerImage/app'] },
    ],
    [
      'its DockerVolume paused: held',
      { ...healthy, volumes: [volume(paused)] },
      { running: true },
      { held: ['DockerVolume/data'] },
    ],
    [
      'its DockerVolume deleted: held (the mounted volume stays)',
      { ...healthy, volumes: [] },
      { running: true },
      { held: ['DockerVolume/data'] },
    ],
    [
      'its DockerNetwork and DockerImage deleted: held',
      { volumes: healthy.volumes },
      { running: true },
      { held: ['DockerNetwork/backend', 'DockerImage/app'] },
    ],
    [
      'not created yet, image not ready: waits',
      { ...healthy, images: [image(newRefFailed)] },
      { running: false },
      { missing: ['DockerImage/app'] },
    ],
    [
      'own spec changed while the image is not ready: the recreate waits',
      { ...healthy, images: [image(newRefFailed, 'reg.local/app:broken')] },
      { running: true, spec: { command: ['sleep', '60'] } },
      { missing: ['DockerImage/app'] },
    ],
    [
      'a new mount of a deleted DockerVolume: waits',
      { ...healthy, volumes: [] },
      { running: true, spec: { mounts: [{ type: 'volume', volume: 'data', target: '/elsewhere' }] } },
      { missing: ['DockerVolume/data'] },
    ],
    [
      'the image ready again with a new digest: rolls',
      {
        ...healthy,
        images: [
          image([{ name: HOST, phase: 'Ready', repoDigest: `reg.local/app@sha256:${'b'.repeat(64)}` }]),
        ],
      },
      { running: true },
      { rolls: true },
    ],
  ])('%s', async (_name, world, situation, expected) => {
    const running = situation.running ? await created() : undefined;
    const d = await desiredContainer(depsOf(world), {
      container: container(situation.spec),
      hostName: HOST,
      namespace: NS,
      ...(running ? { running } : {}),
    });
    if ('held' in expected) {
      expect(d.missing).toEqual([]);
      expect(d.held?.map((h) => h.ref)).toEqual(expected.held);
      // The hash it carries: nothing computed from a stand-in can recreate it.
      expect(d.hash).toBe(running?.labels['dockyard.io/spec-hash']);
    } else if ('missing' in expected) {
      expect(d.missing).toEqual(expected.missing);
      expect(d.held).toBeUndefined();
      expect(d.inputs).toBeUndefined();
    } else {
      expect(d.missing).toEqual([]);
      expect(d.held).toBeUndefined();
      expect(d.hash).toBeDefined();
      expect(d.hash).not.toBe(running?.labels['dockyard.io/spec-hash']);
    }
  });

  it('all ready: the same hash with or without the running container (the fault suite computes it without)', async () => {
    const running = await created();
    const at = { hostName: HOST, namespace: NS };
    const withRunning = await desiredContainer(depsOf(healthy), { container: container(), ...at, running });
    const without = await desiredContainer(depsOf(healthy), { container: container(), ...at });
    expect(withRunning.hash).toBe(running.labels['dockyard.io/spec-hash']);
    expect(without.hash).toBe(withRunning.hash);
    expect(withRunning.held).toBeUndefined();
  });

  it('owner labels in the inputs carry the owner and cluster but no spec hash (create adds the recreate hash)', async () => {
    const d = await desiredContainer(depsOf(healthy), {
      container: container(),
      hostName: HOST,
      namespace: NS,
      clusterId: 'c-1',
    });
    expect(d.inputs?.ownerLabels).toMatchObject({ 'dockyard.io/uid': 'u-web', 'dockyard.io/cluster': 'c-1' });
    expect(d.inputs?.ownerLabels).not.toHaveProperty(['dockyard.io/spec-hash']);
  });
});

describe('desiredContainer: spec.dependsOn', () => {
  /** Another DockerContainer of the namespace, with its entry on HOST (or none: not placed there). */
  const other = (
    name: string,
    entry: { phase: string; state?: string; exitCode?: number } | undefined,
    dependsOn: string[] = [],
  ) =>
    ({
      metadata: meta(name),
      spec: { hostName: HOST, image: 'x', dependsOn: dependsOn.map((n) => ({ name: n })) },
      status: { hosts: entry ? [{ name: HOST, ...entry }] : [] },
    }) as unknown as DockerContainer;
  const migrate = (entry: { phase: string; state?: string; exitCode?: number } | undefined) =>
    other('migrate', entry);
  const onMigrate = { dependsOn: [{ name: 'migrate', condition: 'Completed' as const }] };

  it.each<[string, DockerContainer[], { running: boolean; spec: Partial<DockerContainer['spec']> }, Expect]>([
    [
      'the migration still runs: the app waits',
      [migrate({ phase: 'Running', state: 'running' })],
      { running: false, spec: onMigrate },
      { missing: ['DockerContainer/migrate (Completed; now Running)'] },
    ],
    [
      'the migration failed: the app waits and says so',
      [migrate({ phase: 'Failed', state: 'exited', exitCode: 3 })],
      { running: false, spec: onMigrate },
      { missing: ['DockerContainer/migrate (Completed; now Failed, exit code 3)'] },
    ],
    [
      'the migration is not placed on this host: waits, naming it',
      [migrate(undefined)],
      { running: false, spec: onMigrate },
      { missing: ['DockerContainer/migrate (Completed; not placed on this host)'] },
    ],
    [
      'the migration completed: created',
      [migrate({ phase: 'Completed', state: 'exited', exitCode: 0 })],
      { running: false, spec: onMigrate },
      { rolls: true },
    ],
    [
      'a running app whose migration is rerun: held, not stopped or recreated',
      [migrate({ phase: 'Running', state: 'running' })],
      { running: true, spec: onMigrate },
      { held: ['DockerContainer/migrate'] },
    ],
  ])('%s', async (_name, containers, situation, expected) => {
    const running = situation.running ? await created() : undefined;
    const d = await desiredContainer(depsOf({ ...healthy, containers }), {
      container: container(situation.spec),
      hostName: HOST,
      namespace: NS,
      ...(running ? { running } : {}),
    });
    if ('held' in expected) {
      expect(d.held?.map((h) => h.ref)).toEqual(expected.held);
      expect(d.hash).toBe(running?.labels['dockyard.io/spec-hash']);
    } else if ('missing' in expected) {
      expect(d.missing).toEqual(expected.missing);
      expect(d.inputs).toBeUndefined();
      expect(d.cycle).toBeUndefined();
    } else {
      expect(d.missing).toEqual([]);
      expect(d.hash).toBeDefined();
    }
  });

  it('dependsOn is not part of the recreate hash: adding it recreates nothing', async () => {
    const at = { hostName: HOST, namespace: NS };
    const done = [migrate({ phase: 'Completed', state: 'exited', exitCode: 0 })];
    const before = await desiredContainer(depsOf(healthy), { container: container(), ...at });
    const after = await desiredContainer(depsOf({ ...healthy, containers: done }), {
      container: container(onMigrate),
      ...at,
    });
    expect(after.hash).toBe(before.hash);
  });

  it.each<[string, DockerContainer[], Partial<DockerContainer['spec']>, string[]]>([
    ['itself', [], { dependsOn: [{ name: 'web' }] }, ['web', 'web']],
    [
      'through another container',
      [other('db', { phase: 'Pending' }, ['web'])],
      { dependsOn: [{ name: 'db', condition: 'Ready' }] },
      ['web', 'db', 'web'],
    ],
  ])('a dependsOn cycle through %s: waits with the cycle named', async (_name, containers, spec, cycle) => {
    const d = await desiredContainer(depsOf({ ...healthy, containers }), {
      container: container(spec),
      hostName: HOST,
      namespace: NS,
    });
    expect(d.cycle).toEqual(cycle);
    expect(d.missing.length).toBeGreaterThan(0);
  });
});

describe('desiredContainer: spec.files', () => {
  const withSecret = (value: string | undefined): DockerContainerKindDeps => ({
    ...depsOf(healthy),
    refs: () => ({
      secret: (name) => Promise.resolve(name === 'tls' && value !== undefined ? { key: value } : undefined),
      configMap: () => Promise.resolve(undefined),
    }),
  });
  const files = container({
    files: [
      { path: '/etc/tls/key.pem', secretKeyRef: { name: 'tls', key: 'key' }, mode: '0400' },
      { path: '/etc/motd', content: 'hello' },
    ],
  });
  const at = { hostName: HOST, namespace: NS };

  it('resolves the files for the create and rolls the container when the Secret changes', async () => {
    const first = await desiredContainer(withSecret('one'), { container: files, ...at });
    const second = await desiredContainer(withSecret('two'), { container: files, ...at });
    expect(first.files?.map((f) => [f.path, f.content.toString(), f.mode])).toEqual([
      ['/etc/motd', 'hello', 0o644],
      ['/etc/tls/key.pem', 'one', 0o400],
    ]);
    expect(first.inputs?.filesHash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.inputs?.filesHash).not.toBe(first.inputs?.filesHash);
    expect(second.hash).not.toBe(first.hash);
    // The inputs (hashed, labelled, shown) never hold the content.
    expect(JSON.stringify(first.inputs)).not.toContain('hello');
  });

  it('without files: no files hash, the same hash as before files existed', async () => {
    const d = await desiredContainer(withSecret('one'), { container: container(), ...at });
    const empty = await desiredContainer(withSecret('one'), { container: container({ files: [] }), ...at });
    expect(d.inputs).not.toHaveProperty('filesHash');
    expect(empty.hash).toBe(d.hash);
  });

  it('a missing Secret makes it wait with SecretNotFound, naming the file', async () => {
    const d = await desiredContainer(withSecret(undefined), { container: files, ...at });
    expect(d.inputs).toBeUndefined();
    expect(d.env).toEqual({
      ok: false,
      reason: 'SecretNotFound',
      message: 'files /etc/tls/key.pem: Secret tls not found',
    });
  });

  it('a container created from a files image stands in with its base image, not the files image', () => {
    const running = observedContainer({
      image: 'dockyard-files/team.web:0123456789abcdef',
      labels: { [BASE_IMAGE_LABEL]: REPO_DIGEST },
    });
    expect(imageOfRunning(running)).toEqual({ image: REPO_DIGEST, imageDigest: DIGEST });
  });
});

describe('desiredContainer: seccompProfile Localhost', () => {
  /** The host's profile ConfigMap in the administrator's namespace `ops`, with `text` (or none). */
  const withProfile = (text: string | undefined): DockerContainerKindDeps => ({
    ...depsOf(healthy),
    refs: (namespace) => ({
      secret: () => Promise.resolve(undefined),
      configMap: (name) =>
        Promise.resolve(
          namespace === 'ops' && name === 'seccomp' && text !== undefined ? { 'p.json': text } : undefined,
        ),
    }),
  });
  const at = {
    hostName: HOST,
    namespace: NS,
    seccompProfiles: [
      { name: 'no-chmod', configMapRef: { namespace: 'ops', name: 'seccomp', key: 'p.json' } },
    ],
  };
  const confined = container({
    security: { seccompProfile: { type: 'Localhost', localhostProfile: 'no-chmod' } },
  });

  it("resolves the host's profile into the inputs, and a profile change rolls the container", async () => {
    const first = await desiredContainer(withProfile('{ "defaultAction": "SCMP_ACT_ALLOW" }'), {
      container: confined,
      ...at,
    });
    expect(first.inputs?.seccompProfile?.json).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}');
    const changed = await desiredContainer(withProfile('{"defaultAction":"SCMP_ACT_LOG"}'), {
      container: confined,
      ...at,
    });
    expect(changed.hash).not.toBe(first.hash);
  });

  it('a missing profile ConfigMap makes it wait with SeccompProfileUnavailable: nothing to create', async () => {
    const d = await desiredContainer(withProfile(undefined), { container: confined, ...at });
    expect(d.inputs).toBeUndefined();
    expect(d.env).toEqual({
      ok: false,
      reason: 'SeccompProfileUnavailable',
      message: 'seccomp profile no-chmod of DockerHost n1: ConfigMap ops/seccomp not found',
    });
  });

  it("a container without it reads nothing and hashes as before, whatever the host's list", async () => {
    const plain = await desiredContainer(withProfile(undefined), { container: container(), ...at });
    const noList = await desiredContainer(depsOf(healthy), {
      container: container(),
      hostName: HOST,
      namespace: NS,
    });
    expect(plain.inputs).not.toHaveProperty('seccompProfile');
    expect(plain.hash).toBe(noList.hash);
  });
});
