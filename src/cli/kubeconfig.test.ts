import { describe, expect, it } from 'vitest';
import { kubeConfigSource } from './kubeconfig.js';

const none = { kubeconfigEnv: undefined, inCluster: false, homeKubeconfig: undefined };

describe('kubeConfigSource', () => {
  it.each([
    [
      'the flag first',
      '/flag',
      { ...none, kubeconfigEnv: '/env', inCluster: true },
      { kind: 'flag', path: '/flag' },
    ],
    [
      'then KUBECONFIG',
      undefined,
      { ...none, kubeconfigEnv: '/a:/b', inCluster: true },
      { kind: 'env', paths: '/a:/b' },
    ],
    [
      'then the ServiceAccount, even with a ~/.kube/config',
      undefined,
      { ...none, inCluster: true, homeKubeconfig: '/root/.kube/config' },
      { kind: 'in-cluster' },
    ],
    [
      'then ~/.kube/config',
      undefined,
      { ...none, homeKubeconfig: '/h/.kube/config' },
      { kind: 'home', path: '/h/.kube/config' },
    ],
  ] as const)('takes %s', (_what, flag, env, expected) => {
    expect(kubeConfigSource(flag, env)).toEqual(expected);
  });

  it('refuses to guess when there is nothing', () => {
    expect(() => kubeConfigSource(undefined, none)).toThrow(/--kubeconfig/);
  });
});
