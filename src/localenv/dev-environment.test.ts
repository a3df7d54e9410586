import { describe, expect, it } from 'vitest';
import { devPaths, isControlPlaneOf, isDevProcess, localDockerHost } from './dev-environment.js';

describe('devPaths', () => {
  it('keeps the control plane and the pid file in the dev dir', () => {
    expect(devPaths('/r/.dockyard/dev')).toEqual({
      controlPlane: '/r/.dockyard/dev/control-plane',
      pidFile: '/r/.dockyard/dev/dev.pid',
      dockerdPidFile: '/r/.dockyard/dev/dockerd.pid',
    });
  });
});

describe('isControlPlaneOf', () => {
  const dir = '/r/.dockyard/dev/control-plane';
  it.each<[string, string[] | undefined, boolean]>([
    ['our etcd', ['/c/bin/etcd', '--name=dockyard', `--data-dir=${dir}/etcd`], true],
    ['our kube-apiserver', ['/c/bin/kube-apiserver', `--cert-dir=${dir}/apiserver-certs`], true],
    [
      'our kube-controller-manager',
      ['/c/bin/kube-controller-manager', `--kubeconfig=${dir}/kube-controller-manager.kubeconfig`],
      true,
    ],
    [
      "another data dir's kube-controller-manager",
      [
        '/c/bin/kube-controller-manager',
        '--kubeconfig=/tmp/dockyard-cp-1/kube-controller-manager.kubeconfig',
      ],
      false,
    ],
    ['another data dir', ['/c/bin/etcd', '--data-dir=/tmp/dockyard-cp-1/etcd'], false],
    ['a prefix of another dir', ['/c/bin/etcd', `--data-dir=${dir}-2/etcd`], false],
    ['another program naming the dir', ['/bin/tail', '-f', `${dir}/etcd.log`], false],
    ['gone', undefined, false],
    ['kernel thread', [], false],
  ])('%s', (_name, cmdline, expected) => {
    expect(isControlPlaneOf(cmdline, dir)).toBe(expected);
    expect(isControlPlaneOf(cmdline, dir + '/')).toBe(expected);
  });
});

describe('isDevProcess', () => {
  it.each<[string[], boolean]>([
    [
      ['/n/node', '--require', '/x/preflight.cjs', '--import', 'file:///x/loader.mjs', 'src/main.ts', 'dev'],
      true,
    ],
    [['node', '--import', 'tsx', 'src/main.ts', 'dev', '--data-dir', '/tmp/x'], true],
    [['node', '/app/dist/main.js', 'dev'], true],
    [['/usr/local/bin/dockyard', 'dev'], true],
    [['node', 'src/main.ts', 'controller'], false],
    [['sleep', 'dev'], false],
  ])('%j → %s', (cmdline, expected) => {
    expect(isDevProcess(cmdline)).toBe(expected);
  });
});

describe('localDockerHost', () => {
  it('registers a unix socket as `local`, baseline policy, labelled as dev', () => {
    expect(localDockerHost('unix:///run/dockyard/docker.sock')).toEqual({
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerHost',
      metadata: { name: 'local', labels: { 'dockyard.io/dev': 'true' } },
      spec: { endpoint: 'unix:///run/dockyard/docker.sock', securityPolicy: 'baseline' },
    });
  });

  it('marks a plain tcp daemon insecure, as the API requires', () => {
    expect(localDockerHost('tcp://127.0.0.1:2375').spec).toEqual({
      endpoint: 'tcp://127.0.0.1:2375',
      securityPolicy: 'baseline',
      insecure: true,
    });
  });

  it('refuses other schemes', () => {
    expect(() => localDockerHost('ssh://me@box')).toThrow(/unsupported DOCKER_HOST/);
  });
});
