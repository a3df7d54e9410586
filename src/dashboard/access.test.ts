import { describe, expect, it } from 'vitest';
import { resolveAccess, type CanI } from './access.js';
import { WATCHED } from './resources.js';

describe('resolveAccess', () => {
  it('watches cluster-wide where allowed, else the allowed fallback namespaces, else nothing', async () => {
    // A team member: everything in team-a, Events in team-a and team-b, nothing cluster-wide.
    const canI: CanI = async ({ resource, namespace }) =>
      namespace === 'team-a' || (namespace === 'team-b' && resource.id === 'events');
    const access = await resolveAccess({
      canI,
      resources: WATCHED,
      fallbackNamespaces: ['team-a', 'team-b'],
    });
    expect(access.resources['dockerhosts.dockyard.io']).toEqual({ scope: 'forbidden' });
    expect(access.resources['dockercontainers.dockyard.io']).toEqual({
      scope: 'namespaces',
      namespaces: ['team-a'],
    });
    expect(access.resources.events).toEqual({ scope: 'namespaces', namespaces: ['team-a', 'team-b'] });
  });

  it('needs both list and watch', async () => {
    const canI: CanI = async ({ verb }) => verb === 'list';
    const access = await resolveAccess({ canI, resources: WATCHED, fallbackNamespaces: ['default'] });
    expect(Object.values(access.resources).every((g) => g.scope === 'forbidden')).toBe(true);
  });

  it('an administrator watches every resource cluster-wide', async () => {
    const access = await resolveAccess({
      canI: async () => true,
      resources: WATCHED,
      fallbackNamespaces: [],
    });
    expect(Object.keys(access.resources)).toHaveLength(WATCHED.length);
    expect(Object.values(access.resources).every((g) => g.scope === 'cluster')).toBe(true);
  });
});
