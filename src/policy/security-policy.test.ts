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

// The confinement fields (confinement-policy.ts): what each level allows, and what it refuses.
const gpus: DockerContainerSpec = { ...base, resources: { deviceRequests: [{ capabilities: [['gpu']] }] } };
const confinementCases: Array<[string, SecurityPolicy, DockerContainerSpec, string[]]> = [
  ['GPUs on baseline', 'baseline', gpus, ['spec.resources.deviceRequests[0]']],
  ['GPUs on privileged', 'privileged', gpus, []],
  [
    'device cgroup rule on baseline',
    'baseline',
    { ...base, security: { deviceCgroupRules: ['c 1:3 mr'] } },
    ['spec.security.deviceCgroupRules[0]'],
  ],
  ['named groups and gid 0 on baseline', 'baseline', { ...base, security: { groupAdd: ['audio', '0'] } }, []],
  [
    'numeric non-zero groups under restricted',
    'restricted',
    { ...restrictedOk, security: { ...restrictedOk.security, groupAdd: ['1000', '65534'] } },
    [],
  ],
  [
    'a named group and gid 0 under restricted',
    'restricted',
    { ...restrictedOk, security: { ...restrictedOk.security, groupAdd: ['1000', 'audio', '000'] } },
    ['spec.security.groupAdd[1]', 'spec.security.groupAdd[2]'],
  ],
  [
    'RuntimeDefault seccomp and AppArmor, private cgroup namespace under restricted',
    'restricted',
    {
      ...restrictedOk,
      security: {
        ...restrictedOk.security,
        seccompProfile: { type: 'RuntimeDefault' },
        appArmorProfile: { type: 'RuntimeDefault' },
        cgroupnsMode: 'private',
      },
    },
    [],
  ],
  [
    'Unconfined seccomp and AppArmor on baseline',
    'baseline',
    {
      ...base,
      security: { seccompProfile: { type: 'Unconfined' }, appArmorProfile: { type: 'Unconfined' } },
    },
    ['spec.security.seccompProfile.type', 'spec.security.appArmorProfile.type'],
  ],
  [
    'Unconfined seccomp and AppArmor on privileged',
    'privileged',
    {
      ...base,
      security: { seccompProfile: { type: 'Unconfined' }, appArmorProfile: { type: 'Unconfined' } },
    },
    [],
  ],
  [
    'AppArmor Localhost without an allow-list',
    'baseline',
    { ...base, security: { appArmorProfile: { type: 'Localhost', localhostProfile: 'web' } } },
    ['spec.security.appArmorProfile.localhostProfile'],
  ],
  [
    'seccomp Localhost on a privileged host that lists none (its text must come from the list)',
    'privileged',
    { ...base, security: { seccompProfile: { type: 'Localhost', localhostProfile: 'allow-all' } } },
    ['spec.security.seccompProfile.localhostProfile'],
  ],
  [
    'host user and cgroup namespaces on baseline',
    'baseline',
    { ...base, security: { usernsMode: 'host', cgroupnsMode: 'host' } },
    ['spec.security.usernsMode', 'spec.security.cgroupnsMode'],
  ],
  [
    'host user and cgroup namespaces on privileged',
    'privileged',
    { ...base, security: { usernsMode: 'host', cgroupnsMode: 'host' } },
    [],
  ],
];

describe('checkContainerPolicy: confinement fields', () => {
  it.each(confinementCases)('%s', (_name, policy, spec, fields) => {
    expect(checkContainerPolicy(policy, spec).map((v) => v.field)).toEqual(fields);
  });

  it('allows a Localhost AppArmor profile the host lists, at every level', () => {
    const spec: DockerContainerSpec = {
      ...restrictedOk,
      security: {
        ...restrictedOk.security,
        appArmorProfile: { type: 'Localhost', localhostProfile: 'dockyard-web' },
      },
    };
    const settings = { allowedAppArmorProfiles: ['dockyard-db', 'dockyard-web'] };
    for (const level of ['baseline', 'restricted'] as const) {
      expect(checkContainerPolicy({ level, settings }, spec)).toEqual([]);
      const refused = checkContainerPolicy({ level, settings: {} }, spec);
      expect(refused.map((v) => v.message).join()).toContain('allowedAppArmorProfiles');
    }
  });
});

describe('checkContainerPolicy: seccomp Localhost', () => {
  const spec: DockerContainerSpec = {
    ...restrictedOk,
    security: {
      ...restrictedOk.security,
      seccompProfile: { type: 'Localhost', localhostProfile: 'no-chmod' },
    },
  };
  const source = (name: string) => ({ name, configMapRef: { namespace: 'ops', name: 'seccomp', key: name } });

  it.each(['restricted', 'baseline', 'privileged'] as const)(
    'allows a profile the host lists, and only that, on %s',
    (level) => {
      const settings = { seccompProfiles: [source('no-mkdir'), source('no-chmod')] };
      expect(checkContainerPolicy({ level, settings }, spec)).toEqual([]);
      const other = { seccompProfiles: [source('no-mkdir')] };
      const refused = checkContainerPolicy({ level, settings: other }, spec);
      expect(refused.map((v) => v.field)).toEqual(['spec.security.seccompProfile.localhostProfile']);
      expect(refused[0]?.message).toContain('not one this host lists (no-mkdir)');
      const none = checkContainerPolicy({ level, settings: {} }, spec);
      expect(none[0]?.message).toContain('securityPolicySettings.seccompProfiles');
    },
  );
});

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
