import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  Watch,
  type V1ConfigMap,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/localenv/control-plane.js';
import { run } from '../../src/localenv/exec.js';
import { waitFor } from '../../src/localenv/process.js';

// Smoke test of the local control plane itself: a real kube-apiserver and
// etcd, exercised the way the controller and its tests will use them. It
// starts its own control plane and does not rely on the global setup.

const GROUP = 'smoke.dockyard.io';
const VERSION = 'v1';
const PLURAL = 'widgets';
const NAMESPACE = 'smoke';
const WIDGETS_PATH = `/apis/${GROUP}/${VERSION}/namespaces/${NAMESPACE}/${PLURAL}`;
/** A cold build of kube-apiserver on a 2-core machine takes far longer than the default hook timeout. */
const FIRST_START_TIMEOUT_MS = 60 * 60_000;

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string };
  spec: { replicas?: number; color?: string };
}

interface WatchEvent {
  type: string;
  object: Widget & { code?: number; reason?: string; message?: string };
}

const widgetsCrd: V1CustomResourceDefinition = {
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: PLURAL, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['color'],
                properties: {
                  replicas: { type: 'integer', minimum: 0 },
                  color: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
};

let cp: ControlPlane;
let objects: CustomObjectsApi;
let startSeconds = 0;

beforeAll(async () => {
  cp = new ControlPlane({ log: (msg) => console.log(`[control-plane] ${msg}`) });
  const started = Date.now();
  await cp.start();
  startSeconds = (Date.now() - started) / 1000;
  console.log(`[control-plane] start() took ${startSeconds.toFixed(1)} s`);
  const kc = cp.kubeConfig();
  objects = kc.makeApiClient(CustomObjectsApi);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await installCrd(kc);
}, FIRST_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

describe('local control plane', () => {
  it('serves the Kubernetes version pinned in tools/controlplane/go.mod', async () => {
    const { stdout } = await kubectl(['version', '-o', 'json']);
    const versions = JSON.parse(stdout) as {
      clientVersion?: { gitVersion?: string };
      serverVersion?: { gitVersion?: string };
    };
    expect(cp.binaries.kubernetesVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(versions.serverVersion?.gitVersion).toBe(cp.binaries.kubernetesVersion);
    expect(versions.clientVersion?.gitVersion).toBe(cp.binaries.kubernetesVersion);
  });

  it('creates, watches, updates with optimistic concurrency, and deletes a custom object', async () => {
    const list = (await objects.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
    })) as { metadata: { resourceVersion: string } };
    const watch = await startWatch(cp.kubeConfig(), list.metadata.resourceVersion);
    try {
      // This first create takes ~2 s: kube-apiserver deliberately delays creates
      // for a CRD that became Established less than 2 s ago (HA safety).
      const created = await createWidget('alpha', { replicas: 1, color: 'blue' });
      expect((await watch.next((e) => e.object.metadata.name === 'alpha')).type).toBe('ADDED');

      const updated = await replaceWidget({ ...created, spec: { replicas: 3, color: 'blue' } });
      const modified = await watch.next((e) => e.object.metadata.name === 'alpha');
      expect(modified.type).toBe('MODIFIED');
      expect(modified.object.spec.replicas).toBe(3);
      expect(updated.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);

      // `created` still carries the old resourceVersion: the server must refuse it.
      const stale = await apiError(replaceWidget({ ...created, spec: { replicas: 5, color: 'red' } }));
      expect(stale.code).toBe(409);

      await objects.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NAMESPACE,
        plural: PLURAL,
        name: 'alpha',
      });
      expect((await watch.next((e) => e.object.metadata.name === 'alpha')).type).toBe('DELETED');
    } finally {
      watch.close();
    }
  });

  it('rejects objects that violate the structural schema with 422 naming the field', async () => {
    const err = await apiError(createWidget('negative', { replicas: -1, color: 'blue' }));
    expect(err.code).toBe(422);
    expect(errorText(err)).toContain('spec.replicas');

    const missing = await apiError(createWidget('colorless', { replicas: 1 }));
    expect(missing.code).toBe(422);
    expect(errorText(missing)).toContain('spec.color');
  });

  it('authenticates ServiceAccount tokens and enforces RBAC', async () => {
    const saConfig = new KubeConfig();
    saConfig.loadFromFile(await cp.serviceAccountKubeconfig(NAMESPACE, 'reader'));
    const saObjects = saConfig.makeApiClient(CustomObjectsApi);
    const listAsSa = () =>
      saObjects.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NAMESPACE,
        plural: PLURAL,
      });

    const denied = await apiError(listAsSa());
    expect(denied.code).toBe(403);
    expect(errorText(denied)).toContain('system:serviceaccount:smoke:reader');

    await grantWidgetReader(cp.kubeConfig(), 'reader');
    // The RBAC authorizer reads Roles from an informer: allow it a moment to see them.
    await waitFor(async () => (await listAsSa()) !== undefined, {
      timeoutMs: 10_000,
      what: 'the RoleBinding to take effect',
    });
  });

  it('is usable from the real kubectl binary', async () => {
    await createWidget('from-kubectl', { replicas: 2, color: 'green' });
    const { stdout } = await kubectl(['get', PLURAL, '-n', NAMESPACE, '-o', 'json']);
    const list = JSON.parse(stdout) as { kind: string; items: Widget[] };
    expect(list.kind).toBe('List');
    const widget = list.items.find((w) => w.metadata.name === 'from-kubectl');
    expect(widget?.spec).toEqual({ replicas: 2, color: 'green' });
  });

  it('keeps objects across a kube-apiserver restart on the same port and certificates', async () => {
    const survivor = await createWidget('survivor', { replicas: 1, color: 'grey' });
    await cp.stopApiServer();
    const offline = await getWidget('survivor').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(offline).toBeDefined();

    await cp.startApiServer();
    const after = await getWidget('survivor');
    expect(after.metadata.uid).toBe(survivor.metadata.uid);
  });

  it('hangs while paused and answers again after resume', async () => {
    cp.pauseApiServer();
    try {
      await expect(kubectl(['get', 'namespaces', '--request-timeout=1s'])).rejects.toThrow();
    } finally {
      cp.resumeApiServer();
    }
    await expect(kubectl(['get', 'namespaces', '--request-timeout=10s'])).resolves.toBeDefined();
  });

  it('makes watches from before an etcd compaction fail with 410 Expired', async () => {
    const first = await createWidget('compacted', { replicas: 0, color: 'white' });
    let current = first;
    for (const replicas of [1, 2])
      current = await replaceWidget({ ...current, spec: { replicas, color: 'white' } });
    await cp.compactEtcd();

    const watch = await startWatch(cp.kubeConfig(), first.metadata.resourceVersion ?? '');
    try {
      const gone = await watch.next(() => true);
      expect(gone.type).toBe('ERROR');
      expect(gone.object.code).toBe(410);
      expect(gone.object.reason).toBe('Expired');
    } finally {
      watch.close();
    }
  });
});

// kube-controller-manager: what a real cluster does with deletions. Each test
// uses its own namespace; a namespace that never finishes deleting (no
// namespace controller) fails the test by timeout.
describe('kube-controller-manager in the local control plane', () => {
  /** Namespace deletion and garbage collection take a few seconds; allow for a busy 2-core machine. */
  const GONE_TIMEOUT_MS = 60_000;
  let core: CoreV1Api;

  beforeAll(() => {
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
  });

  const configMap = (namespace: string, name: string, extra: Partial<V1ConfigMap['metadata']> = {}) =>
    core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name, ...extra }, data: { key: 'value' } },
    });

  /** A namespace with a ConfigMap in it; returns the ConfigMap. */
  async function namespaceWithConfigMap(namespace: string): Promise<V1ConfigMap> {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    return configMap(namespace, 'content');
  }

  async function waitGone(what: string, read: () => Promise<unknown>): Promise<void> {
    await waitFor(async () => (await notFound(read())) || undefined, {
      timeoutMs: GONE_TIMEOUT_MS,
      intervalMs: 250,
      what: `${what} to be deleted`,
    });
  }

  it('deletes a namespace with its contents, and the name can be used again', async () => {
    await namespaceWithConfigMap('doomed');
    await core.deleteNamespace({ name: 'doomed' });
    await waitGone('namespace doomed', () => core.readNamespace({ name: 'doomed' }));

    // What `kubectl delete -f` and a second `kubectl apply -f` do: the name is free again, and empty.
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    expect(await notFound(core.readNamespacedConfigMap({ namespace: 'doomed', name: 'content' }))).toBe(true);
  });

  it('gives a new namespace its default ServiceAccount and kube-root-ca.crt, as a cluster does', async () => {
    await core.createNamespace({ body: { metadata: { name: 'fresh' } } });
    const account = await waitFor(
      async () => core.readNamespacedServiceAccount({ namespace: 'fresh', name: 'default' }),
      { timeoutMs: GONE_TIMEOUT_MS, what: 'ServiceAccount fresh/default' },
    );
    expect(account.metadata?.name).toBe('default');
    const rootCa = await waitFor(
      async () => core.readNamespacedConfigMap({ namespace: 'fresh', name: 'kube-root-ca.crt' }),
      { timeoutMs: GONE_TIMEOUT_MS, what: 'ConfigMap fresh/kube-root-ca.crt' },
    );
    expect(rootCa.data?.['ca.crt']).toContain('BEGIN CERTIFICATE');
  });

  it.each(['Background', 'Foreground'])(
    'garbage-collects a dependent when its owner is deleted (%s propagation)',
    async (propagationPolicy) => {
      const namespace = `gc-${propagationPolicy.toLowerCase()}`;
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      const owner = await configMap(namespace, 'owner');
      const ownerReferences = [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'owner',
          uid: owner.metadata?.uid ?? '',
          blockOwnerDeletion: true,
        },
      ];
      await configMap(namespace, 'dependent', { ownerReferences });
      const readOwner = () => core.readNamespacedConfigMap({ namespace, name: 'owner' });
      const readDependent = () => core.readNamespacedConfigMap({ namespace, name: 'dependent' });

      await core.deleteNamespacedConfigMap({ namespace, name: 'owner', propagationPolicy });
      await waitGone(`${namespace}/owner`, readOwner);
      // Foreground: the owner goes only after its blocking dependents, so the dependent is gone already.
      if (propagationPolicy === 'Foreground') expect(await notFound(readDependent())).toBe(true);
      await waitGone(`${namespace}/dependent`, readDependent);
    },
  );

  it('garbage-collects a ConfigMap owned by a custom resource', async () => {
    const widget = await createWidget('owner-widget', { replicas: 1, color: 'black' });
    await configMap(NAMESPACE, 'widget-child', {
      ownerReferences: [
        {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'Widget',
          name: 'owner-widget',
          uid: widget.metadata.uid ?? '',
        },
      ],
    });
    await objects.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name: 'owner-widget',
    });
    await waitGone(`${NAMESPACE}/widget-child`, () =>
      core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'widget-child' }),
    );
  });

  it('keeps deleting namespaces after a kube-apiserver restart (it reconnects by itself)', async () => {
    await cp.stopApiServer();
    await cp.startApiServer();
    await namespaceWithConfigMap('after-restart');
    await core.deleteNamespace({ name: 'after-restart' });
    await waitGone('namespace after-restart', () => core.readNamespace({ name: 'after-restart' }));
  });

  it('is what finishes deletions: stopped, a namespace stays Terminating; restarted, it goes', async () => {
    await cp.stopControllerManager();
    try {
      await namespaceWithConfigMap('waits');
      await core.deleteNamespace({ name: 'waits' });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await core.readNamespace({ name: 'waits' })).status?.phase).toBe('Terminating');
    } finally {
      await cp.startControllerManager();
    }
    await waitGone('namespace waits', () => core.readNamespace({ name: 'waits' }));
  });

  it('holds deletions while paused and finishes them after resume', async () => {
    cp.pauseControllerManager();
    try {
      await namespaceWithConfigMap('paused');
      await core.deleteNamespace({ name: 'paused' });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await core.readNamespace({ name: 'paused' })).status?.phase).toBe('Terminating');
    } finally {
      cp.resumeControllerManager();
    }
    await waitGone('namespace paused', () => core.readNamespace({ name: 'paused' }));
  });
});

/** True when the call failed with 404; other failures are thrown, success is false. */
async function notFound(pending: Promise<unknown>): Promise<boolean> {
  try {
    await pending;
    return false;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return true;
    throw err;
  }
}

async function installCrd(kc: KubeConfig): Promise<void> {
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  await crds.createCustomResourceDefinition({ body: widgetsCrd });
  await waitFor(
    async () => {
      const crd = await crds.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { timeoutMs: 30_000, what: 'the widgets CRD to be Established' },
  );
}

async function grantWidgetReader(kc: KubeConfig, serviceAccount: string): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'widget-reader' },
      rules: [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'widget-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'widget-reader' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace: NAMESPACE }],
    },
  });
}

async function createWidget(name: string, spec: Widget['spec']): Promise<Widget> {
  const body: Widget = { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', metadata: { name }, spec };
  return (await objects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NAMESPACE,
    plural: PLURAL,
    body,
  })) as Widget;
}

async function replaceWidget(widget: Widget): Promise<Widget> {
  return (await objects.replaceNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NAMESPACE,
    plural: PLURAL,
    name: widget.metadata.name,
    body: widget,
  })) as Widget;
}

async function getWidget(name: string): Promise<Widget> {
  return (await objects.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NAMESPACE,
    plural: PLURAL,
    name,
  })) as Widget;
}

/** Resolves with the ApiException a call failed with; fails the test if it succeeded or failed otherwise. */
async function apiError(pending: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await pending;
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<unknown>;
    throw err;
  }
  throw new Error('expected the API call to fail');
}

/** client-node 2.x puts the response body in `.body` as the raw JSON text of a metav1.Status. */
function errorText(err: ApiException<unknown>): string {
  return typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
}

async function kubectl(args: string[]): Promise<{ stdout: string }> {
  return run(cp.kubectlPath, [
    `--kubeconfig=${cp.kubeconfigPath}`,
    // kubectl would otherwise cache discovery under $HOME/.kube.
    `--cache-dir=${join(cp.dataDir, 'kubectl-cache')}`,
    ...args,
  ]);
}

interface EventStream {
  /** The first event not yet consumed that matches, waiting up to 15 s for it. */
  next(match: (e: WatchEvent) => boolean): Promise<WatchEvent>;
  close(): void;
}

async function startWatch(kc: KubeConfig, resourceVersion: string): Promise<EventStream> {
  const events: WatchEvent[] = [];
  let failure: unknown;
  const controller = await new Watch(kc).watch(
    WIDGETS_PATH,
    { resourceVersion },
    (type: string, object: WatchEvent['object']) => events.push({ type, object }),
    (err: unknown) => {
      failure = err ?? failure;
    },
  );
  return {
    async next(match) {
      return waitFor(
        async () => {
          const index = events.findIndex(match);
          if (index >= 0) return events.splice(index, 1)[0];
          if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
          return undefined;
        },
        { timeoutMs: 15_000, intervalMs: 50, what: `a watch event on ${WIDGETS_PATH}` },
      );
    },
    close: () => controller.abort(),
  };
}
