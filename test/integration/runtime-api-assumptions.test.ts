import {
  ApiException,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { isConflict } from '../../src/runtime/api-errors.js';
import { KubeEventRecorder } from '../../src/runtime/events.js';
import { addFinalizer, removeFinalizer } from '../../src/runtime/finalizers.js';
import { WatchIdleTimeout, type WatchEvent } from '../../src/runtime/informer.js';
import { KubeListWatcher, resourcePath } from '../../src/runtime/kube-list-watcher.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { captureLogs, formatLines, LEVEL } from '../support/log-capture.js';
import {
  createNamespace,
  GadgetClient,
  GADGETS,
  gadgetListWatcher,
  installGadgetCrd,
  type Gadget,
} from '../support/test-crd.js';

// What the runtime assumes about kube-apiserver, checked against the real one.
// The watch cache is on here, as in every production cluster: bookmarks come
// only from it.

let cp: ControlPlane;
let kc: KubeConfig;
const NAMESPACE = 'assumptions';
const FIELD_MANAGER = 'dockyard-test';

beforeAll(async () => {
  cp = await startControlPlane({ watchCache: true });
  kc = cp.kubeConfig();
  await installGadgetCrd(kc);
  await createNamespace(kc, NAMESPACE);
  await createNamespace(kc, 'elsewhere');
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

interface Seen {
  at: number;
  event?: WatchEvent<Gadget>;
  end?: unknown;
}

/** Watches gadgets in `namespace` through the runtime's transport until the watch ends. */
async function watchUntilEnd(
  namespace: string,
  timeoutSeconds: number,
  during?: () => Promise<void>,
): Promise<{ from: number; seen: Seen[] }> {
  const lw = gadgetListWatcher(kc, namespace, { timeoutSeconds });
  const { resourceVersion } = await lw.list();
  const seen: Seen[] = [];
  const start = performance.now();
  const ended = new Promise<void>((resolve) => {
    void lw.watch(
      resourceVersion,
      (event) => seen.push({ at: performance.now() - start, event }),
      (end) => {
        seen.push({ at: performance.now() - start, end: end ?? 'clean' });
        resolve();
      },
    );
  });
  await during?.();
  await ended;
  return { from: Number(resourceVersion), seen };
}

describe('watch bookmarks and timeouts', () => {
  it('an idle watch gets no bookmark, but the server ends it cleanly at timeoutSeconds', async () => {
    // This is why the informer counts the server's own end of a watch as a sign of life.
    const { seen } = await watchUntilEnd(NAMESPACE, 3);
    expect(seen.map((s) => s.event?.type ?? s.end)).toEqual(['clean']);
    expect(seen[0]?.at).toBeGreaterThan(2_500);
    expect(seen[0]?.at).toBeLessThan(8_000);
  });

  it('a bookmark with a newer resourceVersion comes before the timeout once the resource changed', async () => {
    const others = new GadgetClient(kc, 'elsewhere');
    const { from, seen } = await watchUntilEnd(NAMESPACE, 4, async () => {
      // Changes to gadgets in another namespace: nothing for this watch but its bookmark.
      for (let i = 0; i < 3; i++) await others.create(`b-${i}`, i);
    });
    const types = seen.map((s) => s.event?.type ?? s.end);
    expect(types.at(-1)).toBe('clean');
    expect(types.slice(0, -1).length, JSON.stringify(seen)).toBeGreaterThan(0);
    for (const { event } of seen.slice(0, -1)) {
      expect(event?.type).toBe('BOOKMARK');
      expect(event?.type === 'BOOKMARK' && Number(event.resourceVersion)).toBeGreaterThan(from);
    }
  });

  it('client-node aborting a silent watch reaches the informer as WatchIdleTimeout, not as a clean end', async () => {
    const { resourceVersion } = await gadgetListWatcher(kc, NAMESPACE).list();
    const watch = new Watch(kc);
    // client-node gives up after 30 s without data; that field is private, so shortened this way.
    Reflect.set(watch, 'requestTimeoutMs', 2_000);
    const impatient = new KubeListWatcher<Gadget>({
      path: resourcePath({ ...GADGETS, namespace: NAMESPACE }),
      listPage: () => Promise.resolve({}),
      watch,
      timeoutSeconds: 25, // the server would keep the idle watch open far longer
    });
    const start = performance.now();
    const end = await new Promise<unknown>((resolve) => {
      void impatient.watch(resourceVersion, () => {}, resolve);
    });
    expect(end).toBeInstanceOf(WatchIdleTimeout);
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});

describe('finalizer writes with a resourceVersion precondition', () => {
  const finalizer = 'test.dockyard.io/cleanup';

  it('the server answers a failed JSON patch test with 422', async () => {
    const gadgets = new GadgetClient(kc, NAMESPACE);
    const created = await gadgets.create('precondition-raw', 1);
    await gadgets.touch('precondition-raw');
    const err = await kc
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObject(
        {
          group: GADGETS.group,
          version: GADGETS.version,
          plural: GADGETS.plural,
          namespace: NAMESPACE,
          name: 'precondition-raw',
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: created.metadata.resourceVersion },
            { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(422);
    expect((await gadgets.get('precondition-raw')).metadata.finalizers).toBeUndefined();
  });

  it('addFinalizer/removeFinalizer write at the current version and report a stale one as a conflict', async () => {
    const gadgets = new GadgetClient(kc, NAMESPACE);
    const api = kc.makeApiClient(CustomObjectsApi);
    const created = await gadgets.create('precondition', 1);

    const touched = await gadgets.touch('precondition');
    const write = (object: typeof created) => ({
      resource: GADGETS,
      object,
      finalizer,
      fieldManager: FIELD_MANAGER,
    });
    const stale = await addFinalizer(api, write(created)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(stale), String(stale)).toBe(true);
    expect(String((stale as Error).message)).toContain(
      `changed since resourceVersion ${created.metadata.resourceVersion}`,
    );

    expect(await addFinalizer(api, write(touched))).toBe(true);
    const withFinalizer = await gadgets.get('precondition');
    expect(withFinalizer.metadata.finalizers).toEqual([finalizer]);
    expect(await addFinalizer(api, write(withFinalizer))).toBe(false);

    await gadgets.delete('precondition'); // held by the finalizer: only deletionTimestamp is set
    const stuck = await gadgets.get('precondition');
    expect(stuck.metadata.deletionTimestamp).toBeDefined();
    const staleRemove = await removeFinalizer(api, write(withFinalizer)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(staleRemove)).toBe(true);
    expect(await removeFinalizer(api, write(stuck))).toBe(true);
    const gone = await gadgets.get('precondition').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((gone as ApiException<unknown>).code).toBe(404);
  });
});

describe('events.k8s.io/v1 Events', () => {
  interface EventJson {
    reason?: string;
    reportingController?: string;
    series?: { count?: number };
    regarding?: { name?: string };
  }

  async function events(namespace: string): Promise<{ items: EventJson[] }> {
    return (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: 'events.k8s.io',
      version: 'v1',
      plural: 'events',
      namespace,
    })) as { items: EventJson[] };
  }

  it('accepts a merge patch of series onto an existing Event', async () => {
    const api = kc.makeApiClient(EventsV1Api);
    const target = await new GadgetClient(kc, NAMESPACE).create('series-target', 1);
    const now = Date.now();
    await api.createNamespacedEvent({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'series-raw', namespace: NAMESPACE },
        eventTime: new V1MicroTime(now),
        type: 'Normal',
        reason: 'Probed',
        action: 'Probe',
        note: 'first',
        reportingController: 'dockyard.io/test',
        reportingInstance: 'test',
        regarding: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.metadata.name,
          namespace: NAMESPACE, // must match the Event's namespace
          uid: target.metadata.uid,
        },
      },
    });
    const patched = await api.patchNamespacedEvent(
      {
        name: 'series-raw',
        namespace: NAMESPACE,
        body: { series: { count: 2, lastObservedTime: new V1MicroTime(now + 1_500) } },
        fieldManager: FIELD_MANAGER,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.series?.count).toBe(2);
    expect(new Date(patched.series?.lastObservedTime ?? 0).getTime()).toBe(now + 1_500);
  });

  it('the recorder creates one Event and counts repeats in series.count', async () => {
    const { logger, lines } = captureLogs();
    const recorder = new KubeEventRecorder({
      api: kc.makeApiClient(EventsV1Api),
      controller: 'gadget',
      instance: 'test-replica',
      logger,
    });
    const regarding: KubernetesObject = await new GadgetClient(kc, NAMESPACE).create('evented', 1);
    for (let i = 0; i < 3; i++) {
      recorder.event(regarding, 'Warning', 'PullFailed', 'Pull', 'pull access denied for app:1.2');
      await recorder.flush();
    }
    recorder.event(regarding, 'Normal', 'Pulled', 'Pull', 'pulled app:1.3');
    // Cluster-scoped objects (DockerHosts) get their Events in `default`, which the server requires.
    const clusterScoped: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    };
    recorder.event(clusterScoped, 'Normal', 'Connected', 'Connect', 'cluster-scoped');
    await recorder.flush();

    const inDefault = (await events('default')).items.filter((e) => e.reason === 'Connected');
    expect(inDefault.map((e) => e.regarding?.name)).toEqual([NAMESPACE]);
    const ours = (await events(NAMESPACE)).items.filter((e) => e.regarding?.name === 'evented');
    expect(ours.map((e) => [e.reason, e.series?.count]).sort()).toEqual([
      ['PullFailed', 3],
      ['Pulled', undefined],
    ]);
    expect(ours.every((e) => e.reportingController === 'dockyard.io/gadget')).toBe(true);
    expect(formatLines(lines.filter((l) => l.level >= LEVEL.warn))).toBe('');
  });
});
