import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import { engineProblems } from './engine-support.js';

const base: DockerContainerSpec = { hostName: 'h1', image: 'busybox:1.36' };
const withSubPath: DockerContainerSpec = {
  ...base,
  mounts: [
    { type: 'tmpfs', target: '/t' },
    { type: 'volume', volume: 'data', target: '/d', subPath: 'conf' },
  ],
};
const macs: DockerContainerSpec = {
  ...base,
  networks: [
    { name: 'front', macAddress: '02:00:00:00:00:01' },
    { name: 'back', macAddress: '02:00:00:00:00:02' },
  ],
};
const startInterval: DockerContainerSpec = {
  ...base,
  healthcheck: { shell: 'nc -z 127.0.0.1 80', startPeriod: '30s', startInterval: '1s' },
};

describe('engineProblems', () => {
  it.each<[string, DockerContainerSpec, string | undefined, string[]]>([
    ['nothing version-gated', base, '1.41', []],
    ['an unknown engine version refuses nothing (the host is not Ready yet)', withSubPath, undefined, []],
    ['subPath on Engine 20.10', withSubPath, '1.41', ['spec.mounts[1].subPath']],
    ['subPath on API 1.44', withSubPath, '1.44', ['spec.mounts[1].subPath']],
    ['subPath on API 1.45', withSubPath, '1.45', []],
    ['subPath on API 2.0', withSubPath, '2.0', []],
    [
      "the first network's MAC works everywhere (Config.MacAddress)",
      macs,
      '1.41',
      ['spec.networks[1].macAddress'],
    ],
    ['per-endpoint MACs on API 1.44', macs, '1.44', []],
    ['healthcheck startInterval on Engine 20.10', startInterval, '1.41', ['spec.healthcheck.startInterval']],
    ['healthcheck startInterval on API 1.43', startInterval, '1.43', ['spec.healthcheck.startInterval']],
    ['healthcheck startInterval on API 1.44', startInterval, '1.44', []],
    [
      'a disabled healthcheck sends no startInterval',
      { ...base, healthcheck: { disable: true, startInterval: '1s' } },
      '1.41',
      [],
    ],
    ['a healthcheck without startInterval', { ...base, healthcheck: { shell: 'true' } }, '1.41', []],
    [
      'cgroupnsMode on Engine 19.03 (API 1.40)',
      { ...base, security: { cgroupnsMode: 'private' } },
      '1.40',
      ['spec.security.cgroupnsMode'],
    ],
    ['cgroupnsMode on Engine 20.10', { ...base, security: { cgroupnsMode: 'private' } }, '1.41', []],
  ])('%s', (_what, spec, api, fields) => {
    expect(engineProblems(spec, api).map((p) => p.field)).toEqual(fields);
  });

  it('names the version the field needs and the one the host speaks', () => {
    expect(engineProblems(withSubPath, '1.41')[0]?.message).toBe(
      "needs Docker Engine API 1.45 or newer; this host's engine speaks 1.41",
    );
  });
});
