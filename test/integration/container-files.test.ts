import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/localenv/process.js';
import { isReady, type Kube } from '../support/kube.js';
import { startSingleNodeWorld, WORLD_NODE, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// spec.files on a real Docker node (Engine 20.10): a file from a Secret, one
// from a ConfigMap and an inline one, read back inside the container with
// their modes and owners, also with a read-only root file system (the files
// are built into a per-container files image, since Docker refuses archive
// uploads into a read-only root). A Secret change rolls the container; the
// old files image goes after the roll and the last one with the resource.
// Under deletionPolicy Orphan the files image stays while the orphaned
// container uses it, and the orphan sweep takes it once that container is
// removed by hand; an image that merely carries the same labels stays.

let world: World;
let kube: Kube;
let docker: Dockerode;
const NS = 'files';
/** Past ustar's uid field: written as a PAX record. */
const BIG_ID = 3000000;
/** The orphan sweep's interval here: short, so a test can wait out a few passes. */
const SWEEP_MS = 1_500;

beforeAll(async () => {
  world = await startSingleNodeWorld({
    namespaces: [NS],
    dockyard: { syncPeriodMs: 3_000, orphanSweepIntervalMs: SWEEP_MS },
  });
  ({ kube } = world);
  docker = world.lab.node(WORLD_NODE).client();
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

/** Runs a command in the container (busybox), returning what it printed. */
async function execIn(name: string, script: string): Promise<{ exitCode: number; output: string }> {
  return world.lab.node(WORLD_NODE).exec(['docker', 'exec', `${NS}.${name}`, 'sh', '-c', script]);
}

const container = (security?: Record<string, unknown>) => ({
  hostName: WORLD_NODE,
  image: world.image,
  command: ['sleep', '3600'],
  stopGracePeriod: '1s',
  ...(security ? { security } : {}),
  files: [
    {
      path: '/run/secrets/token',
      secretKeyRef: { name: 'app-secret', key: 'token' },
      mode: '0400',
      uid: 1000,
      gid: 2000,
    },
    {
      path: '/etc/app/conf.d/app.conf',
      configMapKeyRef: { name: 'app-config', key: 'app.conf' },
      mode: '0640',
      uid: BIG_ID,
      gid: BIG_ID,
    },
    { path: '/etc/motd', content: 'hello from spec\n' },
    { path: '/run/secrets/absent', secretKeyRef: { name: 'no-such-secret', key: 'k', optional: true } },
  ],
});

const filesImages = async () =>
  (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith('dockyard-files/'));

describe('spec.files', () => {
  it('writes files from a Secret, a ConfigMap and inline text, also on a read-only root file system', async () => {
    await kube.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'app-secret' }, stringData: { token: 'token-one' } },
    });
    await kube.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'app-config' }, data: { 'app.conf': 'port=8080\n' } },
    });
    await kube.create('DockerContainer', NS, 'web', container());
    await kube.create('DockerContainer', NS, 'ro', container({ readOnlyRootFilesystem: true }));
    await kube.waitFor('DockerContainer', NS, 'web', isReady, 'Ready', 60_000);
    await kube.waitFor('DockerContainer', NS, 'ro', isReady, 'Ready', 60_000);

    for (const name of ['web', 'ro']) {
      const read = await execIn(
        name,
        'cat /run/secrets/token; echo; cat /etc/app/conf.d/app.conf /etc/motd; ' +
          "stat -c '%a %u %g %n' /run/secrets/token /etc/app/conf.d/app.conf /etc/motd /etc/app/conf.d /tmp; " +
          'test -e /run/secrets/absent || echo absent left out',
      );
      expect(read.exitCode, read.output).toBe(0);
      expect(read.output.split('\n').filter(Boolean)).toEqual([
        'token-one',
        'port=8080',
        'hello from spec',
        '400 1000 2000 /run/secrets/token',
        `640 ${BIG_ID} ${BIG_ID} /etc/app/conf.d/app.conf`,
        '644 0 0 /etc/motd',
        // Made for the file; an existing directory keeps its mode.
        '755 0 0 /etc/app/conf.d',
        '1777 0 0 /tmp',
        'absent left out',
      ]);
    }
    // The root really is read-only there.
    expect((await execIn('ro', 'touch /x')).exitCode).not.toBe(0);

    // Created from its files image, standing for the base image; nothing else changes.
    const web = await docker.getContainer(`${NS}.web`).inspect();
    expect(web.Config.Image).toMatch(/^dockyard-files\/files\.web:[0-9a-f]{16}$/);
    expect(web.Config.Labels?.['dockyard.io/base-image']).toBe(world.image);
    expect(web.Config.Hostname).toBe(web.Id.slice(0, 12));
    const base = await docker.getImage(world.image).inspect();
    const filesImage = await docker.getImage(web.Config.Image).inspect();
    expect(filesImage.Config.Cmd).toEqual(base.Config.Cmd);
    expect(filesImage.Config.Env).toEqual(base.Config.Env);
    expect(filesImage.Config.Labels).toMatchObject({ 'dockyard.io/uid': expect.any(String) });
    const history = await docker.getImage(web.Config.Image).history();
    expect(JSON.stringify([filesImage.Config, filesImage.Comment, history])).not.toContain('token-one');
    // No temporary container is left.
    const all = await docker.listContainers({ all: true });
    expect(all.flatMap((c) => c.Names).filter((n) => n.includes('.files-'))).toEqual([]);
  });

  it('rolls on a Secret change, removes the old files image, and the last one with the resource', async () => {
    const before = await docker.getContainer(`${NS}.web`).inspect();
    await kube.core.replaceNamespacedSecret({
      name: 'app-secret',
      namespace: NS,
      body: { metadata: { name: 'app-secret' }, stringData: { token: 'token-two' } },
    });
    const rolled = await waitFor(
      async () => {
        const c = await docker
          .getContainer(`${NS}.web`)
          .inspect()
          .catch(() => undefined);
        return c && c.Id !== before.Id && c.State.Running ? c : undefined;
      },
      { timeoutMs: 60_000, what: 'web rolled on the Secret change' },
    );
    expect((await execIn('web', 'cat /run/secrets/token')).output.trim()).toBe('token-two');
    expect(rolled.Config.Image).not.toBe(before.Config.Image);
    await waitFor(async () => !(await filesImages()).includes(before.Config.Image), {
      timeoutMs: 30_000,
      what: 'the old files image removed after the roll',
    });

    await kube.delete('DockerContainer', NS, 'web');
    await kube.delete('DockerContainer', NS, 'ro');
    await kube.waitForGone('DockerContainer', NS, 'web');
    await kube.waitForGone('DockerContainer', NS, 'ro');
    expect(await filesImages()).toEqual([]);
  });

  it('under deletionPolicy Orphan keeps the files image while the orphaned container uses it; the sweep takes it after', async () => {
    await kube.create('DockerContainer', NS, 'kept', {
      hostName: WORLD_NODE,
      image: world.image,
      command: ['sleep', '3600'],
      stopGracePeriod: '1s',
      deletionPolicy: 'Orphan',
      files: [{ path: '/etc/motd', content: 'kept\n' }],
    });
    await kube.waitFor('DockerContainer', NS, 'kept', isReady, 'Ready', 60_000);
    const image = (await docker.getContainer(`${NS}.kept`).inspect()).Config.Image;
    expect(image).toMatch(/^dockyard-files\/files\.kept:/);
    // Not a files image, though it carries all of its labels (owner, cluster, files hash): never swept.
    const labels = (await docker.getImage(image).inspect()).Config.Labels ?? {};
    const made = await docker.createContainer({ Image: world.image, Cmd: ['true'], Labels: labels });
    await made.commit({ repo: 'lookalike/files', tag: '1' });
    await made.remove({ force: true });

    await kube.delete('DockerContainer', NS, 'kept');
    await kube.waitForGone('DockerContainer', NS, 'kept');
    // Several sweeps later the orphaned container still runs from its files image.
    await new Promise((r) => setTimeout(r, SWEEP_MS * 4));
    expect((await docker.getContainer(`${NS}.kept`).inspect()).State.Running).toBe(true);
    expect(await filesImages()).toContain(image);

    await docker.getContainer(`${NS}.kept`).remove({ force: true });
    await waitFor(async () => !(await filesImages()).includes(image), {
      timeoutMs: SWEEP_MS * 10,
      what: 'the orphaned files image swept once no container uses it',
    });
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? [])).toContain('lookalike/files:1');
    const address = world.dockyard.manager.metricsAddress();
    const text = await (await fetch(`http://127.0.0.1:${address?.port}/metrics`)).text();
    expect(text).toMatch(/dockyard_orphans_removed_total\{kind="DockerContainer"\} [1-9]/);
  });
});
