import { EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../support/kube.js';
import type { Lab } from '../support/lab.js';
import { dockerConfigJson, labRegistry, registrySecret } from '../support/registry.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// DockerImage on two real Docker-in-Docker nodes and the lab's authenticated
// registry (distribution 2.8, htpasswd): pulls with per-host credentials from
// a dockerconfigjson Secret, failure reasons, Always re-resolution, Never,
// deletion policies, and the registry password never leaking.

let world: World;
let cp: ControlPlane;
let lab: Lab;
let kube: Kube;
let events: EventsV1Api;
const NS = 'images';
const ON_BOTH = { hostSelector: { matchLabels: { site: 'lab' } } };
/** Every controller log line, as written (plain pino JSON, no redaction applied). */
const logLines: string[] = [];
/** Every object version the tests saw, for the leak check at the end. */
const seen: DockyardObject[] = [];

const registry = () => labRegistry(lab).registry;
const seeded = () => labRegistry(lab).seeded;
const ref = (tag: string) => `${registry().address}/${seeded().repository}:${tag}`;
const repoDigest = (digest: string | undefined) => `${registry().address}/${seeded().repository}@${digest}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function imageOn(node: string, image: string) {
  try {
    return await lab.node(node).client().getImage(image).inspect();
  } catch {
    return undefined;
  }
}

const hostEntry = (obj: DockyardObject | undefined, host: string) =>
  obj?.status?.hosts?.find((h) => h.name === host);

async function waitImage(
  name: string,
  predicate: (o: DockyardObject) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<DockyardObject> {
  const obj = await kube.waitFor('DockerImage', NS, name, predicate, what, timeoutMs);
  seen.push(obj);
  return obj;
}

const readyOnBoth = (o: DockyardObject) => isReady(o) && o.status?.hostsReady === '2/2';
const failedWith = (reason: string, hosts: string[]) => (o: DockyardObject) =>
  condition(o, 'Ready')?.status === 'False' &&
  condition(o, 'Ready')?.reason === reason &&
  hosts.every((h) => hostEntry(o, h)?.phase === 'Failed');

async function eventsFor(name: string): Promise<EventsV1Event[]> {
  const list = await events.listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name);
}

async function waitEvents(name: string, pred: (e: EventsV1Event[]) => boolean, what: string) {
  return waitFor(
    async () => {
      const list = await eventsFor(name);
      return pred(list) ? list : undefined;
    },
    { timeoutMs: 20_000, what: `events of ${name}: ${what}` },
  );
}

beforeAll(async () => {
  world = await startWorld({
    lab: { nodes: [{ name: 'n1' }, { name: 'n2' }], registry: true },
    namespaces: [NS],
    dockyard: {
      syncPeriodMs: 10_000,
      log: { level: 'debug', destination: { write: (line: string) => void logLines.push(line) } },
    },
    hostLabels: { n1: { site: 'lab' }, n2: { site: 'lab' } },
  });
  ({ cp, lab, kube } = world);
  events = cp.kubeConfig().makeApiClient(EventsV1Api);
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

describe('DockerImage', () => {
  it('pulls on both hosts with the pull Secret, at the digest the registry reported', async () => {
    await registrySecret(kube, { namespace: NS, name: 'regcred', registry: registry(), form: 'auth' });
    await kube.create('DockerImage', NS, 'busybox', {
      ...ON_BOTH,
      image: ref('1.36'),
      pullSecrets: [{ name: 'regcred' }],
    });
    const ready = await waitImage('busybox', readyOnBoth, 'Ready on both hosts');
    const want = repoDigest(seeded().tags['1.36']);
    for (const node of ['n1', 'n2']) {
      const entry = hostEntry(ready, node);
      expect(entry).toMatchObject({ phase: 'Ready', repoDigest: want });
      expect(entry?.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(entry?.id).toBe(entry?.imageId);
      expect(entry?.sizeBytes).toBeGreaterThan(0);
      expect(typeof entry?.pulledAt).toBe('string');
      expect(entry?.progress).toBeUndefined();
      expect((await imageOn(node, ref('1.36')))?.RepoDigests).toContain(want);
    }
    const pulled = await waitEvents(
      'busybox',
      (l) => l.filter((e) => e.reason === 'Pulled').length >= 2,
      'Pulled on both',
    );
    for (const node of ['n1', 'n2'])
      expect(pulled.find((e) => e.reason === 'Pulled' && e.note?.includes(` on ${node} `))?.note).toContain(
        seeded().tags['1.36'],
      );
    const registryMetrics = world.dockyard.manager.metrics.registry;
    const durations = await registryMetrics.getSingleMetricAsString('dockyard_image_pull_duration_seconds');
    expect(durations).toMatch(
      /dockyard_image_pull_duration_seconds_count\{host="n1",outcome="success"\} [1-9]/,
    );
    expect(durations).toMatch(
      /dockyard_image_pull_duration_seconds_count\{host="n2",outcome="success"\} [1-9]/,
    );
    const bytes = await registryMetrics.getSingleMetricAsString('dockyard_image_pull_bytes_total');
    expect(bytes).toMatch(/dockyard_image_pull_bytes_total\{host="n1"\} [1-9]/);
  });

  it('fails Unauthorized on both without the Secret, and recovers once it exists (no restart)', async () => {
    await kube.create('DockerImage', NS, 'late', {
      ...ON_BOTH,
      image: ref('1.36-alt'),
      pullSecrets: [{ name: 'late-cred' }],
      deletionPolicy: 'Delete',
    });
    const failed = await waitImage('late', failedWith('Unauthorized', ['n1', 'n2']), 'Unauthorized on both');
    const message = condition(failed, 'Ready')?.message ?? '';
    expect(message).toMatch(/no basic auth credentials|unauthorized/i);
    expect(message).toContain('pull secret late-cred: not found in images');
    expect(message).not.toContain('HTTP code'); // the daemon's words, not dockerode's wrapper
    expect(hostEntry(failed, 'n1')?.message).toMatch(/attempt [0-9]+, next at /);
    const warnings = await waitEvents('late', (l) => l.some((e) => e.reason === 'PullFailed'), 'PullFailed');
    expect(warnings.find((e) => e.reason === 'PullFailed')).toMatchObject({ type: 'Warning' });
    expect(warnings.find((e) => e.reason === 'PullFailed')?.note).toContain('Unauthorized');
    expect(await registryMetricCount('Unauthorized')).toBeGreaterThan(0);

    await registrySecret(kube, { namespace: NS, name: 'late-cred', registry: registry() });
    const ready = await waitImage('late', readyOnBoth, 'Ready after the Secret appeared', 90_000);
    for (const node of ['n1', 'n2'])
      expect(hostEntry(ready, node)?.repoDigest).toBe(repoDigest(seeded().tags['1.36-alt']));
  });

  it('pullPolicy Always picks up a new digest pushed to the tag within the refresh interval', async () => {
    const hostDocker = lab.hostDocker;
    const first = await registry().pushImage(hostDocker, lab.workloadImage, seeded().repository, 'rolling');
    await kube.create('DockerImage', NS, 'rolling', {
      ...ON_BOTH,
      image: ref('rolling'),
      pullSecrets: [{ name: 'regcred' }],
      pullPolicy: 'Always',
      refreshInterval: '5s',
      deletionPolicy: 'Delete',
    });
    await waitImage(
      'rolling',
      (o) => readyOnBoth(o) && ['n1', 'n2'].every((n) => hostEntry(o, n)?.repoDigest === repoDigest(first)),
      'Ready at the first digest',
    );
    // The seeded variant (one extra file): same tag, other content, other digest.
    const second = await registry().pushImage(
      hostDocker,
      `${lab.workloadImage}-alt`,
      seeded().repository,
      'rolling',
    );
    expect(second).not.toBe(first);
    const t0 = Date.now();
    const moved = await waitImage(
      'rolling',
      (o) => readyOnBoth(o) && ['n1', 'n2'].every((n) => hostEntry(o, n)?.repoDigest === repoDigest(second)),
      'Ready at the new digest',
      30_000,
    );
    const took = Date.now() - t0;
    expect(took).toBeLessThan(5_000 + 8_000); // the refresh interval plus pull and status slack
    for (const node of ['n1', 'n2']) {
      expect((await imageOn(node, ref('rolling')))?.RepoDigests).toContain(repoDigest(second));
      expect(hostEntry(moved, node)?.pulledAt).toBeDefined();
    }
  });

  it('reports NotFound for a tag the registry does not have', async () => {
    await kube.create('DockerImage', NS, 'no-such-tag', {
      hostName: 'n1',
      image: ref('does-not-exist'),
      pullSecrets: [{ name: 'regcred' }],
    });
    const failed = await waitImage('no-such-tag', failedWith('NotFound', ['n1']), 'NotFound');
    expect(condition(failed, 'Ready')?.message).toMatch(/manifest unknown|not found/i);
    expect(condition(failed, 'Reconciling')?.status).toBe('True');
  });

  it('reports RegistryUnreachable when nothing listens at the registry address', async () => {
    await kube.create('DockerImage', NS, 'nowhere', {
      hostName: 'n1',
      image: '127.0.0.1:1/dockyard/busybox:1.36',
      pullSecrets: [{ name: 'regcred' }],
    });
    const failed = await waitImage(
      'nowhere',
      failedWith('RegistryUnreachable', ['n1']),
      'RegistryUnreachable',
    );
    expect(condition(failed, 'Ready')?.message).toMatch(/connection refused/);
    // The Secret has no entry for 127.0.0.1:1: said, without its content.
    expect(condition(failed, 'Ready')?.message).toContain('no pull secret has credentials for 127.0.0.1:1');
  });

  it('pullPolicy Never only checks: missing is ImageNotPresent, and it becomes Ready when the image is there', async () => {
    const handmade = `${registry().address}/dockyard/handmade:1`;
    await kube.create('DockerImage', NS, 'never', {
      hostName: 'n1',
      image: handmade,
      pullPolicy: 'Never',
      pullSecrets: [{ name: 'regcred' }],
    });
    const missing = await waitImage(
      'never',
      (o) =>
        condition(o, 'Ready')?.reason === 'ImageNotPresent' && hostEntry(o, 'n1')?.phase === 'NotPresent',
      'ImageNotPresent',
    );
    expect(condition(missing, 'Ready')?.status).toBe('False');
    expect(condition(missing, 'Ready')?.message).toContain('pullPolicy Never only checks for it');
    expect(await imageOn('n1', handmade)).toBeUndefined();
    await lab
      .node('n1')
      .client()
      .getImage(ref('1.36'))
      .tag({ repo: `${registry().address}/dockyard/handmade`, tag: '1' });
    await waitImage('never', isReady, 'Ready once the image is on the host', 30_000);
  });

  it('Delete removes the image from both nodes, but never one a container uses; Orphan leaves it', async () => {
    const alt = ref('1.36-alt');
    const docker = lab.node('n1').client();
    const user = await docker.createContainer({ name: 'uses-alt', Image: alt, Cmd: ['true'] });
    await kube.delete('DockerImage', NS, 'late');
    const held = await waitImage(
      'late',
      (o) =>
        o.status?.phase === 'Deleting' &&
        String(hostEntry(o, 'n1')?.message ?? '').includes('in use by uses-alt'),
      'held on n1 by the container',
    );
    expect(hostEntry(held, 'n2')).toBeUndefined(); // n2 was done
    expect(await imageOn('n2', alt)).toBeUndefined();
    expect(await imageOn('n1', alt)).toBeDefined();
    await user.remove();
    await kube.waitForGone('DockerImage', NS, 'late', 60_000);
    expect(await imageOn('n1', alt)).toBeUndefined();
    await waitEvents('late', (l) => l.some((e) => e.reason === 'Deleted'), 'Deleted');

    await kube.delete('DockerImage', NS, 'rolling');
    await kube.waitForGone('DockerImage', NS, 'rolling');
    for (const node of ['n1', 'n2']) expect(await imageOn(node, ref('rolling'))).toBeUndefined();

    await kube.delete('DockerImage', NS, 'busybox');
    await kube.waitForGone('DockerImage', NS, 'busybox');
    for (const node of ['n1', 'n2']) expect(await imageOn(node, ref('1.36'))).toBeDefined();
    await waitEvents('busybox', (l) => l.some((e) => e.reason === 'Orphaned'), 'Orphaned');
  });

  it('never shows the registry password: not in status, events or the controller logs', async () => {
    const { username, password } = registry();
    const forms = [
      password,
      b64(`${username}:${password}`),
      b64(dockerConfigJson({ registry: registry(), form: 'auth' })),
    ];
    const list = (await kube.api.listNamespacedCustomObject({
      group: 'dockyard.io',
      version: 'v1alpha1',
      plural: 'dockerimages',
      namespace: NS,
    })) as { items: DockyardObject[] };
    const statuses = JSON.stringify([...seen, ...list.items]);
    const allEvents = await events.listNamespacedEvent({ namespace: NS });
    const eventText = JSON.stringify(allEvents.items);
    const logs = logLines.join('');
    expect(allEvents.items.length).toBeGreaterThan(0);
    expect(logs).toContain('pulling image'); // the capture works, at debug level
    for (const form of forms) {
      expect(statuses).not.toContain(form);
      expect(eventText).not.toContain(form);
      expect(logs).not.toContain(form);
    }
  });
});

async function registryMetricCount(outcome: string): Promise<number> {
  const metric = await world.dockyard.manager.metrics.registry
    .getSingleMetric('dockyard_image_pull_duration_seconds')
    ?.get();
  return (metric?.values ?? [])
    .filter(
      (v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.outcome === outcome,
    )
    .reduce((sum, v) => sum + v.value, 0);
}
