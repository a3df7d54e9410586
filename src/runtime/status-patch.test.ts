import { RequestContext, HttpMethod, type ConfigurationOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { patchStatus, statusChanged, statusPatchBody, type StatusPatchApi } from './status-patch.js';

interface Call {
  method: string;
  param: Record<string, unknown>;
  contentType: string | undefined;
}

/** Runs the request middleware of `options` on a dummy request to see which Content-Type it sets. */
function contentTypeOf(options: ConfigurationOptions | undefined): string | undefined {
  const ctx = new RequestContext('https://example.invalid/x', HttpMethod.PATCH);
  ctx.setHeaderParam('Content-Type', 'application/json-patch+json');
  for (const m of (options?.middleware ?? []) as { pre(c: RequestContext): unknown }[]) m.pre(ctx);
  return ctx.getHeaders()['Content-Type'];
}

function fakeApi(): { api: StatusPatchApi; calls: Call[] } {
  const calls: Call[] = [];
  const record = (method: string) => (param: object, options?: ConfigurationOptions) => {
    calls.push({ method, param: param as Record<string, unknown>, contentType: contentTypeOf(options) });
    return Promise.resolve({});
  };
  return {
    api: {
      patchNamespacedCustomObjectStatus: record('namespaced'),
      patchClusterCustomObjectStatus: record('cluster'),
    },
    calls,
  };
}

describe('statusChanged', () => {
  it.each([
    { a: { phase: 'Running', n: 1 }, b: { n: 1, phase: 'Running' }, changed: false },
    { a: undefined, b: {}, changed: false },
    { a: { phase: 'Running' }, b: { phase: 'Stopped' }, changed: true },
    { a: { conditions: [{ type: 'Ready' }] }, b: { conditions: [] }, changed: true },
    { a: undefined, b: { phase: 'Pending' }, changed: true },
    { a: { x: undefined }, b: {}, changed: false },
  ])('$a → $b: $changed', ({ a, b, changed }) => {
    expect(statusChanged(a, b)).toBe(changed);
  });
});

describe('patchStatus', () => {
  const ref = { group: 'dockyard.io', version: 'v1alpha1', plural: 'containers' };

  it('sends nothing when the status is unchanged', async () => {
    const { api, calls } = fakeApi();
    const sent = await patchStatus(api, {
      ref: { ...ref, namespace: 'ns', name: 'c' },
      current: { a: 1, b: 2 },
      desired: { b: 2, a: 1 },
      fieldManager: 'dockyard',
    });
    expect(sent).toBe(false);
    expect(calls).toEqual([]);
  });

  it.each([
    { name: 'namespaced object', namespace: 'ns', method: 'namespaced' },
    { name: 'cluster-scoped object', namespace: undefined, method: 'cluster' },
  ])(
    'patches the status subresource of a $name as a merge patch with the field manager',
    async ({ namespace, method }) => {
      const { api, calls } = fakeApi();
      const sent = await patchStatus(api, {
        ref: { ...ref, name: 'c', ...(namespace ? { namespace } : {}) },
        current: { phase: 'Pending', message: 'x' },
        desired: { phase: 'Running' },
        fieldManager: 'dockyard-controller',
      });
      expect(sent).toBe(true);
      expect(calls).toEqual([
        {
          method,
          param: {
            ...ref,
            name: 'c',
            ...(namespace ? { namespace } : {}),
            body: { status: { phase: 'Running', message: null } },
            fieldManager: 'dockyard-controller',
          },
          contentType: 'application/merge-patch+json',
        },
      ]);
    },
  );

  it('propagates API errors to the caller (the reconcile retries)', async () => {
    const api: StatusPatchApi = {
      patchNamespacedCustomObjectStatus: () => Promise.reject(new Error('boom')),
      patchClusterCustomObjectStatus: () => Promise.reject(new Error('boom')),
    };
    const patch = {
      ref: { ...ref, namespace: 'n', name: 'c' },
      current: {},
      desired: { a: 1 },
      fieldManager: 'm',
    };
    await expect(patchStatus(api, patch)).rejects.toThrow('boom');
  });

  it('builds a full body when there was no status yet', () => {
    expect(statusPatchBody(undefined, { phase: 'Pending' })).toEqual({ status: { phase: 'Pending' } });
  });

  it('carries the resourceVersion as an optimistic lock when asked to', () => {
    expect(statusPatchBody({ phase: 'Pending' }, { phase: 'Ready' }, '42')).toEqual({
      metadata: { resourceVersion: '42' },
      status: { phase: 'Ready' },
    });
  });
});
