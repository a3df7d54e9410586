// Sysctls, ulimits and shmSize through checkContainerPolicy: what each level
// allows and what it refuses (the escape table has the refusals in bulk).
import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import { BASELINE_ULIMITS, SAFE_SYSCTLS } from './runtime-policy.js';
import { checkContainerPolicy, type SecurityPolicy } from './security-policy.js';

const base: DockerContainerSpec = { hostName: 'h', image: 'busybox:1.36' };
const restrictedOk: DockerContainerSpec = {
  ...base,
  user: '1000:1000',
  security: { capDrop: ['ALL'], noNewPrivileges: true },
};
const spec = (patch: Partial<DockerContainerSpec>, from = base): DockerContainerSpec => ({
  ...from,
  ...patch,
});

const everySafeSysctl = Object.fromEntries([...SAFE_SYSCTLS].map((name) => [name, '1']));
const everyBaselineUlimit = [...BASELINE_ULIMITS].map((name) => ({ name, soft: 1024, hard: 4096 }));

// [name, policy, spec, fields expected to be reported (empty: allowed)]
const cases: Array<[string, SecurityPolicy, DockerContainerSpec, string[]]> = [
  ['every safe sysctl on baseline', 'baseline', spec({ sysctls: everySafeSysctl }), []],
  ['every safe sysctl under restricted', 'restricted', spec({ sysctls: everySafeSysctl }, restrictedOk), []],
  [
    'an unsafe namespaced sysctl on baseline',
    'baseline',
    spec({ sysctls: { 'net.ipv4.tcp_syncookies': '1', 'net.core.somaxconn': '4096' } }),
    ['spec.sysctls[net.core.somaxconn]'],
  ],
  [
    'IPC sysctls on baseline (namespaced, but they size kernel memory)',
    'baseline',
    spec({ sysctls: { 'kernel.msgmax': '65536', 'kernel.shmmax': '1' } }),
    ['spec.sysctls[kernel.msgmax]', 'spec.sysctls[kernel.shmmax]'],
  ],
  [
    'any sysctl on a privileged host (Docker refuses the unnamespaced ones)',
    'privileged',
    spec({ sysctls: { 'net.core.somaxconn': '4096', 'kernel.core_pattern': '|/x' } }),
    [],
  ],
  ['every baseline ulimit on baseline', 'baseline', spec({ ulimits: everyBaselineUlimit }), []],
  [
    'every baseline ulimit, unlimited, under restricted',
    'restricted',
    spec({ ulimits: [...BASELINE_ULIMITS].map((name) => ({ name, soft: -1 })) }, restrictedOk),
    [],
  ],
  [
    'memlock and rtprio on baseline',
    'baseline',
    spec({
      ulimits: [
        { name: 'nofile', soft: 1024 },
        { name: 'memlock', soft: -1, hard: -1 },
        { name: 'rtprio', soft: 99, hard: 99 },
      ],
    }),
    ['spec.ulimits[1].name', 'spec.ulimits[2].name'],
  ],
  [
    'nice, msgqueue and sigpending under restricted',
    'restricted',
    spec(
      {
        ulimits: [
          { name: 'nice', soft: 40 },
          { name: 'msgqueue', soft: 1 },
          { name: 'sigpending', soft: 1 },
        ],
      },
      restrictedOk,
    ),
    ['spec.ulimits[0].name', 'spec.ulimits[1].name', 'spec.ulimits[2].name'],
  ],
  [
    'memlock and rtprio on a privileged host',
    'privileged',
    spec({
      ulimits: [
        { name: 'memlock', soft: -1 },
        { name: 'rtprio', soft: 99 },
      ],
    }),
    [],
  ],
  ['shmSize at the cap on baseline', 'baseline', spec({ resources: { shmSize: '1Gi' } }), []],
  ['shmSize 0 (Docker’s default) on baseline', 'baseline', spec({ resources: { shmSize: '0' } }), []],
  [
    'shmSize above the cap on baseline',
    'baseline',
    spec({ resources: { shmSize: '1025Mi' } }),
    ['spec.resources.shmSize'],
  ],
  ['shmSize above the cap on a privileged host', 'privileged', spec({ resources: { shmSize: '8Gi' } }), []],
  [
    'the harmless fields under restricted',
    'restricted',
    spec(
      {
        init: true,
        tty: true,
        stdinOpen: true,
        hostAliases: [{ ip: 'host-gateway', hostnames: ['host.docker.internal'] }],
        dnsConfig: {
          nameservers: ['10.0.0.53'],
          searches: ['example.com'],
          options: [{ name: 'ndots', value: '1' }],
        },
        healthcheck: { shell: 'true', startInterval: '1s' },
      },
      restrictedOk,
    ),
    [],
  ],
];

describe('checkContainerPolicy: sysctls, ulimits, shmSize', () => {
  it.each(cases)('%s', (_name, policy, s, fields) => {
    expect(checkContainerPolicy(policy, s).map((v) => v.field)).toEqual(fields);
  });

  it('names the sysctl, the ulimit and the cap in its messages', () => {
    const messages = checkContainerPolicy(
      'baseline',
      spec({
        sysctls: { 'net.core.somaxconn': '1' },
        ulimits: [{ name: 'memlock', soft: 1 }],
        resources: { shmSize: '2Gi' },
      }),
    ).map((v) => v.message);
    expect(messages).toEqual([
      expect.stringContaining('sysctl net.core.somaxconn is not allowed under baseline'),
      expect.stringContaining('ulimit memlock is not allowed under baseline'),
      expect.stringContaining('shmSize 2Gi is above 1 GiB'),
    ]);
  });
});
