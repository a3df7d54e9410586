// Drives the real client-node clients against a minimal fake API server on
// loopback, to pin down what actually goes over the wire: paths, query
// parameters, patch content types, field managers, MicroTime formats, list
// pagination and the watch stream. (Behaviour against a real API server is
// covered by the integration tests under test/.)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CoordinationV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeEventRecorder } from './events.js';
import { addFinalizer } from './finalizers.js';
import type { WatchEvent } from './informer.js';
import { customResourceListWatcher } from './kube-list-watcher.js';
import { KubeLeaseClient } from './lease-client.js';
import { patchStatus } from './status-patch.js';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

type Route = (req: Seen, res: ServerResponse) => void;

let server: Server;
let kc: KubeConfig;
let routes: Route[] = [];
const seen: Seen[] = [];

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString();
      const s: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(s);
      const route = routes.shift();
      if (route) route(s, res);
      else json(res, 500, { message: 'no route scripted' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  routes = [];
  seen.length = 0;
});

const resource = { group: 'dockyard.io', version: 'v1alpha1', plural: 'containers' };

describe('over the wire', () => {
  it('lists a custom resource page by page and stamps apiVersion/kind', async () => {
    routes.push(
      (_s, res) =>
        json(res, 200, {
          items: [{ metadata: { name: 'a' } }],
          metadata: { resourceVersion: '10', continue: 'next' },
        }),
      (_s, res) =>
        json(res, 200, { items: [{ metadata: { name: 'b' } }], metadata: { resourceVersion: '10' } }),
    );
    const lw = customResourceListWatcher<KubernetesObject>(
      kc,
      { ...resource, kind: 'Container', namespace: 'ns' },
      { pageSize: 1 },
    );
    const result = await lw.list();
    expect(result.resourceVersion).toBe('10');
    expect(result.items.map((i) => [i.metadata?.name, i.apiVersion, i.kind])).toEqual([
      ['a', 'dockyard.io/v1alpha1', 'Container'],
      ['b', 'dockyard.io/v1alpha1', 'Container'],
    ]);
    expect(seen.map((s) => [s.path, s.query.limit, s.query.continue])).toEqual([
      ['/apis/dockyard.io/v1alpha1/namespaces/ns/containers', '1', undefined],
      ['/apis/dockyard.io/v1alpha1/namespaces/ns/containers', '1', 'next'],
    ]);
  });

  it('watches with bookmarks from a resourceVersion and reports events then the 410 status', async () => {
    routes.push((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(
        `${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '11' } } })}\n`,
      );
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } })}\n`);
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
      );
    });
    const lw = customResourceListWatcher<KubernetesObject>(kc, { ...resource, kind: 'Container' });
    const events: WatchEvent<KubernetesObject>[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void lw.watch('10', (e) => events.push(e), resolve);
    });
    expect(await ended).toBeFalsy();
    expect(seen[0]).toMatchObject({
      method: 'GET',
      path: '/apis/dockyard.io/v1alpha1/containers',
      query: { watch: 'true', allowWatchBookmarks: 'true', resourceVersion: '10', timeoutSeconds: '25' },
    });
    expect(events).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '11' } } },
      { type: 'BOOKMARK', resourceVersion: '12' },
      { type: 'ERROR', status: { code: 410, reason: 'Expired', message: undefined } },
    ]);
  });

  it('reports a watch refused with HTTP 410 as an error carrying the status code', async () => {
    routes.push((_s, res) => json(res, 410, { kind: 'Status', code: 410 }));
    const lw = customResourceListWatcher<KubernetesObject>(kc, { ...resource, kind: 'Container' });
    const err = await new Promise<unknown>((resolve) => {
      void lw.watch('1', () => {}, resolve);
    });
    expect(err).toMatchObject({ statusCode: 410 });
  });

  it('patches status as a JSON merge patch on the status subresource with the field manager', async () => {
    routes.push((_s, res) => json(res, 200, {}));
    const api = kc.makeApiClient(CustomObjectsApi);
    await patchStatus(api, {
      ref: { ...resource, namespace: 'ns', name: 'c' },
      current: { phase: 'Pending', old: 1 },
      desired: { phase: 'Running' },
      fieldManager: 'dockyard',
    });
    expect(seen[0]).toEqual({
      method: 'PATCH',
      path: '/apis/dockyard.io/v1alpha1/namespaces/ns/containers/c/status',
      query: { fieldManager: 'dockyard' },
      contentType: 'application/merge-patch+json',
      body: { status: { phase: 'Running', old: null } },
    });
  });

  it('adds a finalizer as a JSON patch with the resourceVersion test', async () => {
    routes.push((_s, res) => json(res, 200, {}));
    const api = kc.makeApiClient(CustomObjectsApi);
    const obj = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '5' } };
    expect(
      await addFinalizer(api, {
        resource,
        object: obj,
        finalizer: 'dockyard.io/finalizer',
        fieldManager: 'dockyard',
      }),
    ).toBe(true);
    expect(seen[0]).toEqual({
      method: 'PATCH',
      path: '/apis/dockyard.io/v1alpha1/namespaces/ns/containers/c',
      query: { fieldManager: 'dockyard' },
      contentType: 'application/json-patch+json',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: '5' },
        { op: 'add', path: '/metadata/finalizers', value: ['dockyard.io/finalizer'] },
      ],
    });
  });

  it('turns a 422 from a failed precondition into a conflict', async () => {
    routes.push((_s, res) => json(res, 422, { kind: 'Status', code: 422, message: 'test failed' }));
    const api = kc.makeApiClient(CustomObjectsApi);
    const obj = { metadata: { name: 'c', namespace: 'ns', resourceVersion: '5' } };
    await expect(
      addFinalizer(api, { resource, object: obj, finalizer: 'f', fieldManager: 'dockyard' }),
    ).rejects.toMatchObject({ code: 409 });
  });

  it('creates an Event, then merge-patches its series', async () => {
    routes.push(
      (s, res) => json(res, 201, s.body),
      (_s, res) => json(res, 200, { eventTime: '2025-01-01T00:00:00.000000Z' }),
    );
    const rec = new KubeEventRecorder({
      api: kc.makeApiClient(EventsV1Api),
      controller: 'container',
      instance: 'pod-0',
      now: () => Date.UTC(2025, 0, 1),
    });
    const regarding = {
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'Container',
      metadata: { name: 'c', namespace: 'ns', uid: 'u1' },
    };
    rec.event(regarding, 'Normal', 'Created', 'Create', 'created');
    await rec.flush();
    rec.event(regarding, 'Normal', 'Created', 'Create', 'created');
    await rec.flush();
    expect(seen.map((s) => [s.method, s.path, s.contentType])).toEqual([
      ['POST', '/apis/events.k8s.io/v1/namespaces/ns/events', 'application/json'],
      [
        'PATCH',
        expect.stringMatching(/^\/apis\/events\.k8s\.io\/v1\/namespaces\/ns\/events\/c\.[0-9a-f]+$/),
        'application/merge-patch+json',
      ],
    ]);
    expect(seen[0]?.body).toMatchObject({
      eventTime: '2025-01-01T00:00:00.000000Z',
      reportingController: 'dockyard.io/container',
      reportingInstance: 'pod-0',
      regarding: { kind: 'Container', name: 'c', uid: 'u1' },
    });
    expect(seen[1]?.body).toEqual({ series: { count: 2, lastObservedTime: '2025-01-01T00:00:00.000000Z' } });
  });

  it('reads, creates and replaces Leases with MicroTime and the resourceVersion', async () => {
    const lease = (rv: string) => ({
      metadata: { name: 'l', namespace: 'kube-system', resourceVersion: rv },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        renewTime: '2025-01-01T00:00:01.250000Z',
        leaseTransitions: 1,
      },
    });
    routes.push(
      (_s, res) => json(res, 404, { kind: 'Status', code: 404 }),
      (_s, res) => json(res, 201, lease('1')),
      (_s, res) => json(res, 200, lease('2')),
    );
    const client = new KubeLeaseClient(kc.makeApiClient(CoordinationV1Api), 'kube-system', 'l', 'dockyard');
    expect(await client.get()).toBeUndefined();
    const created = await client.create({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: Date.UTC(2025, 0, 1, 0, 0, 1, 250),
      leaseTransitions: 1,
    });
    expect(created).toEqual({
      resourceVersion: '1',
      record: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        renewTime: Date.UTC(2025, 0, 1, 0, 0, 1, 250),
        acquireTime: undefined,
        leaseTransitions: 1,
      },
    });
    await client.update(created.record, '1');
    expect(seen.map((s) => [s.method, s.path, s.query.fieldManager])).toEqual([
      ['GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l', undefined],
      ['POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', 'dockyard'],
      ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l', 'dockyard'],
    ]);
    expect(seen[1]?.body).toMatchObject({ spec: { renewTime: '2025-01-01T00:00:01.250000Z' } });
    expect(seen[2]?.body).toMatchObject({ metadata: { resourceVersion: '1' } });
  });
});
