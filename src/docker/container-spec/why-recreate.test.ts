import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../container-client.js';
import { toCreateOptions } from './create-options.js';
import { removedLimits } from './in-place-update.js';
import type { ContainerInputs } from './inputs.js';
import { recreateHash, SPEC_GROUPS_LABEL } from './recreate-hash.js';
import { base, inputs, observed, spec, withInputs } from './test-support.js';
import { needsRecreate, recreateReasons } from './why-recreate.js';

describe('removedLimits and needsRecreate', () => {
  const hash = recreateHash(base, inputs);
  const ours = { labels: { 'dockyard.io/spec-hash': hash } };

  it.each<[string, Partial<DockerContainerSpec>, Partial<ObservedContainer['hostConfig']>, string[]]>([
    ['none', {}, {}, []],
    ['memory limit dropped', {}, { memory: 1 << 26 }, ['resources.memory']],
    ['cpu limit dropped', {}, { nanoCpus: 1e9 }, ['resources.cpus']],
    ['limits still set', { resources: { memory: '1Gi', cpus: '2' } }, { memory: 1 << 26, nanoCpus: 1e9 }, []],
    ['reservation and pids are cleared in place', {}, { memoryReservation: 1 << 20, pidsLimit: 5 }, []],
  ])('%s', (_title, patch, host, removed) => {
    expect(removedLimits(spec(patch), observed({}, host))).toEqual(removed);
    expect(needsRecreate(spec(patch), inputs, observed(ours, host))).toBe(removed.length > 0);
  });

  it('follows the spec-hash label', () => {
    expect(needsRecreate(base, inputs, observed(ours))).toBe(false);
    expect(needsRecreate(base, inputs, observed({ labels: { 'dockyard.io/spec-hash': 'old' } }))).toBe(true);
    expect(needsRecreate(base, inputs, observed({ labels: {} }))).toBe(true);
  });
});

describe('recreateReasons', () => {
  const createdFrom = (s: DockerContainerSpec, i: ContainerInputs = inputs) =>
    observed({ labels: toCreateOptions(s, i, recreateHash(s, i)).Labels ?? {}, image: i.image });

  it('is empty when nothing changed', () => {
    expect(recreateReasons(base, inputs, createdFrom(base))).toEqual([]);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<ContainerInputs>, string[]]>([
    ['image', {}, { image: 'busybox:1.37' }, ['image']],
    ['digest', {}, { imageDigest: 'sha256:1' }, ['image']],
    ['env', {}, { env: [{ name: 'A', value: '1' }] }, ['env']],
    ['files (a Secret they read changed)', {}, { filesHash: 'd'.repeat(64) }, ['files']],
    ['command and args', { args: ['x'] }, {}, ['command/args']],
    [
      'ports and mounts',
      { ports: [{ containerPort: 1 }], mounts: [{ type: 'tmpfs', target: '/t' }] },
      {},
      ['mounts', 'ports'],
    ],
    ['healthcheck', { healthcheck: { command: ['true'] } }, {}, ['healthcheck']],
    [
      'shmSize, sysctls and ulimits',
      { resources: { shmSize: '128Mi' }, sysctls: { 'net.ipv4.tcp_syncookies': '1' }, ulimits: [] },
      {},
      ['resources.shmSize', 'sysctls'],
    ],
    ['security', { security: { readOnlyRootFilesystem: true } }, {}, ['security']],
    [
      'labels, stopSignal, logging',
      { labels: { a: 'b' }, stopSignal: 'INT', logging: { driver: 'local' } },
      {},
      ['labels', 'logging', 'stopSignal'],
    ],
    ['container name', {}, { name: 'renamed' }, ['containerName']],
    [
      'workingDir, user, hostname',
      { workingDir: '/w', user: 'u', hostname: 'h' },
      {},
      ['hostname', 'user', 'workingDir'],
    ],
  ])('names %s', (_title, patch, i, reasons) => {
    expect(recreateReasons(spec(patch), withInputs(i), createdFrom(base))).toEqual(reasons);
  });

  it('names a field that was removed', () => {
    const before = spec({ hostname: 'h' });
    expect(recreateReasons(base, inputs, createdFrom(before))).toEqual(['hostname']);
  });

  it('adds limits Docker cannot remove in place', () => {
    const o = createdFrom(base);
    o.hostConfig.memory = 1 << 26;
    expect(recreateReasons(base, inputs, o)).toEqual(['resources.memory removed']);
  });

  it('without the groups label: the image when it differs, else "spec changed"', () => {
    const old = { labels: { 'dockyard.io/spec-hash': 'old' }, image: 'busybox:1.35' };
    expect(recreateReasons(base, inputs, observed(old))).toEqual(['image']);
    expect(recreateReasons(base, inputs, observed({ ...old, image: 'busybox:1.36' }))).toEqual([
      'spec changed',
    ]);
  });

  it('with a garbled groups label: "spec changed"', () => {
    const o = observed({ labels: { 'dockyard.io/spec-hash': 'old', [SPEC_GROUPS_LABEL]: 'garbage' } });
    expect(recreateReasons(base, inputs, o)).toEqual(['spec changed']);
  });
});
