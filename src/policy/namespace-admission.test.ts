import { describe, expect, it } from 'vitest';
import { admitNamespace } from './namespace-admission.js';

describe('admitNamespace', () => {
  it('admits every namespace by default', () => {
    expect(admitNamespace('h', {}, 'team-a', {})).toEqual({ allowed: true });
    expect(admitNamespace('h', { allowedNamespaces: { from: 'All' } }, 'team-a', undefined)).toEqual({
      allowed: true,
    });
  });
  it('admits namespaces whose labels match the selector', () => {
    const spec = {
      allowedNamespaces: { from: 'Selector' as const, selector: { matchLabels: { edge: 'yes' } } },
    };
    expect(admitNamespace('h', spec, 'team-a', { edge: 'yes' })).toEqual({ allowed: true });
  });
  it('refuses others and says which host and namespace', () => {
    const spec = {
      allowedNamespaces: { from: 'Selector' as const, selector: { matchLabels: { edge: 'yes' } } },
    };
    const res = admitNamespace('lab-1', spec, 'team-b', { edge: 'no' });
    expect(res.allowed).toBe(false);
    if (!res.allowed) {
      expect(res.reason).toBe('NamespaceNotAllowed');
      expect(res.message).toContain('team-b');
      expect(res.message).toContain('lab-1');
    }
  });
});
