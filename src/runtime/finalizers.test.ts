import {
  ApiException,
  HttpMethod,
  RequestContext,
  type ConfigurationOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isConflict } from './api-errors.js';
import {
  addFinalizer,
  finalizerPatch,
  hasFinalizer,
  removeFinalizer,
  withFinalizer,
  withoutFinalizer,
  type FinalizerPatchApi,
} from './finalizers.js';

const F = 'dockyard.io/finalizer';
const resource = { group: 'dockyard.io', version: 'v1alpha1', plural: 'containers' };

function contentTypeOf(options: ConfigurationOptions | undefined): string | undefined {
  const ctx = new RequestContext('https://example.invalid/x', HttpMethod.PATCH);
  for (const m of (options?.middleware ?? []) as { pre(c: RequestContext): unknown }[]) m.pre(ctx);
  return ctx.getHeaders()['Content-Type'];
}

function fakeApi(fail?: unknown) {
  const calls: { method: string; param: Record<string, unknown>; contentType: string | undefined }[] = [];
  const record = (method: string) => (param: object, options?: ConfigurationOptions) => {
    calls.push({ method, param: param as Record<string, unknown>, contentType: contentTypeOf(options) });
    return fail === undefined ? Promise.resolve({}) : Promise.reject(fail);
  };
  const api: FinalizerPatchApi = {
    patchNamespacedCustomObject: record('namespaced'),
    patchClusterCustomObject: record('cluster'),
  };
  return { api, calls };
}

// Explicit null means "absent" (a default parameter would swallow undefined).
const obj = (
  finalizers?: string[],
  namespace: string | null = 'ns',
  rv: string | null = '7',
): KubernetesObject => ({
  metadata: {
    name: 'c',
    ...(namespace !== null ? { namespace } : {}),
    ...(rv !== null ? { resourceVersion: rv } : {}),
    ...(finalizers ? { finalizers } : {}),
  },
});

describe('finalizer list helpers', () => {
  it.each([
    { current: undefined, add: [F], remove: undefined },
    { current: [], add: [F], remove: undefined },
    { current: ['other'], add: ['other', F], remove: undefined },
    { current: [F], add: undefined, remove: [] },
    { current: ['a', F, 'b'], add: undefined, remove: ['a', 'b'] },
  ])('$current', ({ current, add, remove }) => {
    expect(withFinalizer(current, F)).toEqual(add);
    expect(withoutFinalizer(current, F)).toEqual(remove);
    expect(hasFinalizer(obj(current), F)).toBe(add === undefined);
  });

  it('patch tests the resourceVersion before setting the list', () => {
    expect(finalizerPatch('42', ['x'])).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      { op: 'add', path: '/metadata/finalizers', value: ['x'] },
    ]);
  });
});

describe('addFinalizer / removeFinalizer', () => {
  it.each([
    {
      name: 'add to a namespaced object',
      fn: addFinalizer,
      o: obj(['other']),
      method: 'namespaced',
      value: ['other', F],
    },
    {
      name: 'add to a cluster-scoped object',
      fn: addFinalizer,
      o: obj(undefined, null),
      method: 'cluster',
      value: [F],
    },
    { name: 'remove', fn: removeFinalizer, o: obj([F, 'other']), method: 'namespaced', value: ['other'] },
  ])('$name sends a JSON patch with the precondition and field manager', async ({ fn, o, method, value }) => {
    const { api, calls } = fakeApi();
    expect(await fn(api, { resource, object: o, finalizer: F, fieldManager: 'dockyard' })).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method,
      contentType: 'application/json-patch+json',
      param: { ...resource, name: 'c', fieldManager: 'dockyard', body: finalizerPatch('7', value) },
    });
  });

  it.each([
    { name: 'adding a present finalizer', fn: addFinalizer, o: obj([F]) },
    { name: 'removing an absent finalizer', fn: removeFinalizer, o: obj(['other']) },
  ])('makes no request when $name', async ({ fn, o }) => {
    const { api, calls } = fakeApi();
    expect(await fn(api, { resource, object: o, finalizer: F, fieldManager: 'dockyard' })).toBe(false);
    expect(calls).toEqual([]);
  });

  it('reports a failed resourceVersion test (422) as a 409 conflict', async () => {
    const { api } = fakeApi(new ApiException(422, 'testing value /metadata/resourceVersion failed', {}, {}));
    const err: unknown = await addFinalizer(api, {
      resource,
      object: obj([]),
      finalizer: F,
      fieldManager: 'dockyard',
    }).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect(String(err)).toContain('changed since resourceVersion 7');
  });

  it('passes other API errors through', async () => {
    const { api } = fakeApi(new ApiException(404, 'not found', {}, {}));
    await expect(
      removeFinalizer(api, { resource, object: obj([F]), finalizer: F, fieldManager: 'm' }),
    ).rejects.toMatchObject({ code: 404 });
  });

  it('refuses an object without resourceVersion (the precondition would be meaningless)', async () => {
    const { api, calls } = fakeApi();
    await expect(
      addFinalizer(api, { resource, object: obj([], 'ns', null), finalizer: F, fieldManager: 'm' }),
    ).rejects.toThrow(/no resourceVersion/);
    expect(calls).toEqual([]);
  });
});
