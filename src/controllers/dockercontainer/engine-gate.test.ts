import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { HostStatusEntry } from '../../managed/types.js';
import { unsupportedByEngineOutcome } from './engine-gate.js';
import { HOST, webContainer, webHostContext } from './test-support.js';

const subPathSpec = {
  ...webContainer.spec,
  mounts: [{ type: 'volume' as const, volume: 'data', target: '/d', subPath: 'conf' }],
};

function context(opts: { apiVersion?: string; spec?: DockerContainer['spec']; previous?: HostStatusEntry }) {
  const events: string[] = [];
  const ctx = webHostContext({
    ...(opts.previous ? { previous: opts.previous } : {}),
    onReason: (r) => events.push(r),
  });
  const host = {
    ...ctx.host,
    status: opts.apiVersion ? { engine: { apiVersion: opts.apiVersion } } : {},
  } as DockerHost;
  const obj = { ...webContainer, spec: opts.spec ?? subPathSpec } as DockerContainer;
  return { ctx: { ...ctx, host, obj }, events };
}

describe('unsupportedByEngineOutcome', () => {
  it('a field the engine would ignore: stalled UnsupportedByEngine naming field and version, one Warning', () => {
    const { ctx, events } = context({ apiVersion: '1.41' });
    const out = unsupportedByEngineOutcome(ctx);
    expect(out?.ready).toBe(false);
    expect(out?.stalled?.reason).toBe('UnsupportedByEngine');
    expect(out?.entry).toMatchObject({ name: HOST, phase: 'UnsupportedByEngine' });
    expect(out?.stalled?.message).toContain('spec.mounts[0].subPath');
    expect(out?.stalled?.message).toContain('API 1.45');
    expect(out?.stalled?.message).toContain('1.41');
    expect(events).toEqual(['UnsupportedByEngine']);
  });

  it('keeps what the entry said about the existing container, and records no second Event', () => {
    const previous = { name: HOST, phase: 'UnsupportedByEngine', id: 'c0ffee' } as HostStatusEntry;
    const { ctx, events } = context({ apiVersion: '1.41', previous });
    expect(unsupportedByEngineOutcome(ctx)?.entry.id).toBe('c0ffee');
    expect(events).toEqual([]);
  });

  it.each<[string, { apiVersion?: string; spec?: DockerContainer['spec'] }]>([
    ['a new enough engine', { apiVersion: '1.45' }],
    ['a host not probed yet', {}],
    ['a spec without version-gated fields', { apiVersion: '1.41', spec: webContainer.spec }],
  ])('nothing to refuse on %s', (_what, opts) => {
    const { ctx, events } = context(opts);
    expect(unsupportedByEngineOutcome(ctx)).toBeUndefined();
    expect(events).toEqual([]);
  });
});
