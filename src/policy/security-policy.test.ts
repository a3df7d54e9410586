import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import {
  checkContainerPolicy,
  checkVolumePolicy,
  describeViolations,
  type SecurityPolicy,
} from './security-policy.js';

const base: DockerContainerSpec = { hostName: 'h', image: 'busybox:1.36' };
const restrictedOk: DockerContainerSpec = {
  ...base,
  user: '1000:1000',
  security: { capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'], noNewPrivileges: true },
};

// [name, policy, spec, fields expected to be reported (empty: allowed)]
const cases: Array<[string, SecurityPolicy, DockerContainerSpec, string[]]> = [
  ['plain container on baseline', 'baseline', base, []],
  [
    'privileged on baseline',
    'baseline',
    { ...base, security: { privileged: true } },
    ['spec.security.privileged'],
  ],
  ['privileged on privileged host', 'privileged', { ...base, security: { privileged: true } }, []],
  ['host network', 'baseline', { ...base, security: { networkMode: 'host' } }, ['spec.security.networkMode']],
  ['host pid', 'baseline', { ...base, security: { pidMode: 'host' } }, ['spec.security.pidMode']],
  ['host ipc', 'baseline', { ...base, security: { ipcMode: 'host' } }, ['spec.security.ipcMode']],
  ['host uts', 'baseline', { ...base, security: { utsMode: 'host' } }, ['spec.security.utsMode']],
  [
    'docker socket bind mount',
    'baseline',
    { ...base, mounts: [{ type: 'bind', hostPath: '/var/run/docker.sock', target: '/var/run/docker.sock' }] },
    ['spec.mounts[0].hostPath'],
  ],
  [
    'bind mount on privileged host',
    'privileged',
    { ...base, mounts: [{ type: 'bind', hostPath: '/', target: '/host' }] },
    [],
  ],
  [
    'volume and tmpfs mounts are fine',
    'baseline',
    {
      ...base,
      mounts: [
        { type: 'volume', volume: 'data', target: '/d' },
        { type: 'tmpfs', target: '/t', tmpfsSize: '64Mi' },
      ],
    },
    [],
  ],
  [
    'tmpfs without a size (Docker gives it half the host memory)',
    'baseline',
    { ...base, mounts: [{ type: 'tmpfs', target: '/t' }] },
    ['spec.mounts[0].tmpfsSize'],
  ],
  [
    'tmpfs without a size on a privileged host',
    'privileged',
    { ...base, mounts: [{ type: 'tmpfs', target: '/t' }] },
    [],
  ],
  [
    'device',
    'baseline',
    { ...base, security: { devices: [{ hostPath: '/dev/kvm' }] } },
    ['spec.security.devices[0]'],
  ],
  [
    'baseline capability',
    'baseline',
    { ...base, security: { capAdd: ['NET_BIND_SERVICE', 'CAP_CHOWN'] } },
    [],
  ],
  [
    'SYS_ADMIN on baseline',
    'baseline',
    { ...base, security: { capAdd: ['CHOWN', 'SYS_ADMIN'] } },
    ['spec.security.capAdd[1]'],
  ],
  [
    'NET_RAW on baseline',
    'baseline',
    { ...base, security: { capAdd: ['net_raw'] } },
    ['spec.security.capAdd[0]'],
  ],
  ['restricted compliant', 'restricted', restrictedOk, []],
  [
    'restricted with defaults',
    'restricted',
    base,
    ['spec.user', 'spec.security.capDrop', 'spec.security.noNewPrivileges'],
  ],
  ['restricted root by uid', 'restricted', { ...restrictedOk, user: '0' }, ['spec.user']],
  ['restricted root by name', 'restricted', { ...restrictedOk, user: 'root:root' }, ['spec.user']],
  [
    'restricted extra capability',
    'restricted',
    { ...restrictedOk, security: { ...restrictedOk.security, capAdd: ['CHOWN'] } },
    ['spec.security.capAdd[0]'],
  ],
];

describe('checkContainerPolicy', () => {
  it.each(cases)('%s', (_name, policy, spec, fields) => {
    expect(checkContainerPolicy(policy, spec).map((v) => v.field)).toEqual(fields);
  });

  it('describes every violation with its field', () => {
    const text = describeViolations(
      'lab-1',
      'baseline',
      checkContainerPolicy('baseline', { ...base, security: { privileged: true, pidMode: 'host' } }),
    );
    expect(text).toContain('lab-1');
    expect(text).toContain('spec.security.privileged');
    expect(text).toContain('spec.security.pidMode');
  });
});

describe('checkVolumePolicy', () => {
  it.each([
    ['plain local volume', 'baseline', {}, 0],
    ['bind in disguise', 'baseline', { type: 'none', o: 'bind', device: '/' }, 1],
    ['rbind option', 'restricted', { o: 'rbind,ro', device: '/etc' }, 1],
    ['nfs volume', 'baseline', { type: 'nfs', o: 'addr=10.0.0.1,ro', device: ':/export' }, 0],
    ['bind on privileged host', 'privileged', { type: 'none', o: 'bind', device: '/' }, 0],
  ] as const)('%s', (_name, policy, driverOptions, count) => {
    expect(checkVolumePolicy(policy, { hostName: 'h', driverOptions: { ...driverOptions } })).toHaveLength(
      count,
    );
  });
});
