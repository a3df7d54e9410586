import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import { admissionLabels } from './namespace-labels.js';

const host = (allowedNamespaces?: DockerHost['spec']['allowedNamespaces']) =>
  ({ metadata: { name: 'h' }, spec: { endpoint: 'unix:///d.sock', allowedNamespaces } }) as DockerHost;

describe('admissionLabels', () => {
  const reads: string[] = [];
  const namespaces = {
    get: (ns: string) => {
      reads.push(ns);
      return Promise.resolve({ tier: 'gold' });
    },
  };

  it('reads nothing when no host admits namespaces by selector', async () => {
    reads.length = 0;
    const hosts = [host(), host({ from: 'All' })];
    expect(await admissionLabels({ namespaces, namespace: 'apps', hosts })).toEqual({});
    expect(reads).toEqual([]);
  });

  it("reads the namespace's labels when a host selects by them", async () => {
    reads.length = 0;
    const hosts = [host(), host({ from: 'Selector', selector: { matchLabels: { tier: 'gold' } } })];
    expect(await admissionLabels({ namespaces, namespace: 'apps', hosts })).toEqual({ tier: 'gold' });
    expect(reads).toEqual(['apps']);
  });
});
