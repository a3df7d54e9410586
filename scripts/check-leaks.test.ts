import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../src/localenv/host-docker.js';
import { findLeaks, parseNetnsList, type LeakInputs } from './check-leaks.js';

const roots = {
  cacheDir: '/root/.cache/dockyard',
  runDir: '/run/dockyard',
  dataRoot: '/root/.cache/dockyard/docker/data-root',
};

const clean: LeakInputs = { processes: [], mountPoints: [], netns: [], daemons: [] };

describe('findLeaks', () => {
  const cases: { name: string; inputs: Partial<LeakInputs>; leaks: RegExp[] }[] = [
    { name: 'nothing running', inputs: {}, leaks: [] },
    {
      name: 'unrelated processes, mounts and namespaces',
      inputs: {
        processes: [
          { pid: 10, name: 'sshd', cmdline: '/usr/sbin/sshd -D' },
          { pid: 11, name: 'dockerd', cmdline: 'dockerd --data-root /var/lib/other' },
          { pid: 12, name: 'go', cmdline: 'go build k8s.io/kubernetes/cmd/kube-apiserver' },
          { pid: 13, name: 'go', cmdline: 'go build k8s.io/kubernetes/cmd/kube-controller-manager' },
        ],
        mountPoints: ['/', '/proc', '/root/.cache/dockyard-other/x', '/run/dockyardish'],
        netns: ['other-ns', 'ci-dockyard-1'],
      },
      leaks: [],
    },
    {
      name: 'control-plane processes by comm or argv[0]',
      inputs: {
        processes: [
          { pid: 20, name: 'kube-apiserver', cmdline: '/cache/bin/kube-apiserver --etcd-servers=x' },
          { pid: 21, name: 'etcd', cmdline: 'etcd --data-dir /tmp/e' },
          { pid: 22, name: 'exe', cmdline: '/root/.cache/dockyard/bin/etcd --data-dir /tmp/f' },
          {
            pid: 23,
            name: 'kube-controller',
            cmdline: '/cache/bin/kube-controller-manager --kubeconfig=/tmp/k',
          },
          { pid: 24, name: 'kube-controller', cmdline: 'kcm --leader-elect=false' },
          { pid: 25, name: 'exe', cmdline: '/cache/bin/kube-controller-manager --kubeconfig=/tmp/k' },
        ],
      },
      leaks: [
        /process 20 \(kube-apiserver\)/,
        /process 21 \(etcd\)/,
        /process 22 \(exe\)/,
        /process 23 \(kube-controller\)/,
        /process 24 \(kube-controller\)/,
        /process 25 \(exe\)/,
      ],
    },
    {
      name: 'our dockerd and its containerd',
      inputs: {
        processes: [
          {
            pid: 30,
            name: 'dockerd',
            cmdline:
              'dockerd --data-root /root/.cache/dockyard/docker/data-root --exec-root /run/dockyard/exec',
          },
          {
            pid: 31,
            name: 'containerd',
            cmdline: 'containerd --config /run/dockyard/exec/containerd/containerd.toml',
          },
        ],
      },
      leaks: [/dockerd 30 on the dockyard data root/, /process 31 \(containerd\) under \/run\/dockyard/],
    },
    {
      name: 'labelled containers and volumes',
      inputs: {
        daemons: [
          {
            daemon: 'unix:///run/dockyard/docker.sock',
            containers: [{ id: 'abcdef1234567890', name: 'dockyard-node-a' }],
            volumes: ['dockyard-node-a-docker'],
          },
          { daemon: 'unix:///var/run/docker.sock', containers: [], volumes: [] },
        ],
      },
      leaks: [
        /container dockyard-node-a \(abcdef123456\) on unix:\/\/\/run\/dockyard/,
        /volume dockyard-node-a-docker/,
      ],
    },
    {
      name: 'mounts under the cache and run dirs, counted once',
      inputs: {
        mountPoints: [
          '/root/.cache/dockyard/docker/data-root/overlay2/x/merged',
          '/root/.cache/dockyard/images/build/dind-node-1/proc',
          '/run/dockyard/exec/netns/abc',
          '/run/dockyard',
          '/run/dockyard',
        ],
      },
      leaks: [/overlay2\/x\/merged/, /dind-node-1\/proc/, /netns\/abc/, /^mount \/run\/dockyard$/],
    },
    {
      name: 'dockyard network namespaces',
      inputs: { netns: ['dockyard-node-a', 'other'] },
      leaks: [/network namespace dockyard-node-a/],
    },
  ];

  it.each(cases)('$name', ({ inputs, leaks }) => {
    const found = findLeaks({ ...clean, ...inputs }, roots);
    expect(found).toHaveLength(leaks.length);
    leaks.forEach((pattern, i) => expect(found[i]).toMatch(pattern));
  });
});

describe('parseNetnsList', () => {
  it.each([
    { text: '', names: [] },
    { text: 'dockyard-a (id: 0)\nother\n', names: ['dockyard-a', 'other'] },
    { text: '  dockyard-b  \n\n', names: ['dockyard-b'] },
  ])('parses $text', ({ text, names }) => {
    expect(parseNetnsList(text)).toEqual(names);
  });
});

describe('parseMountInfo', () => {
  it.each([
    { text: '', points: [] },
    {
      text: '22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw\n',
      points: ['/proc'],
    },
    {
      // The kernel escapes space, tab, newline and backslash in paths as octal.
      text: '40 22 253:0 /a /root/.cache/dockyard/with\\040space rw - ext4 /dev/vda rw\n41 22 0:5 / /x\\134y rw - tmpfs t rw',
      points: ['/root/.cache/dockyard/with space', '/x\\y'],
    },
  ])('parses $points', ({ text, points }) => {
    expect(parseMountInfo(text)).toEqual(points);
  });
});
