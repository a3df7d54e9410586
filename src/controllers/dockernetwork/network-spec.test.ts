import { describe, expect, it } from 'vitest';
import type { DockerNetwork, DockerNetworkSpec } from '../../crds/dockernetwork.js';
import { toCreateOptions } from '../../docker/network-client.js';
import { desiredNetwork, networkCreateFor, networkNameOf, networkSpecHash } from './network-spec.js';

const net = (spec: DockerNetworkSpec, name = 'web'): DockerNetwork => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerNetwork',
  metadata: { namespace: 'team-a', name, uid: 'u-1', generation: 1 },
  spec,
});

const full: DockerNetworkSpec = {
  hostName: 'n1',
  networkName: 'backend',
  driver: 'bridge',
  internal: true,
  attachable: true,
  enableIPv6: true,
  ipam: {
    driver: 'default',
    config: [
      { subnet: '10.20.0.0/24', gateway: '10.20.0.1', ipRange: '10.20.0.128/25' },
      { subnet: 'fd00:20::/64' },
    ],
    options: { foo: 'bar' },
  },
  options: { 'com.docker.network.bridge.name': 'br-backend' },
  labels: { app: 'web' },
  deletionPolicy: 'Orphan',
};

describe('networkNameOf', () => {
  it.each([
    ['namespace.name by default', {}, 'team-a.web'],
    ['spec.networkName when set', { networkName: 'shared' }, 'shared'],
  ])('%s', (_n, spec, want) => {
    expect(networkNameOf(net({ hostName: 'n1', ...spec }))).toBe(want);
  });
});

describe('desiredNetwork', () => {
  it('fills Docker defaults for an empty spec', () => {
    expect(desiredNetwork(net({ hostName: 'n1' }))).toEqual({
      name: 'team-a.web',
      driver: 'bridge',
      internal: false,
      attachable: false,
      enableIPv6: false,
      ipam: { driver: 'default', config: [], options: {} },
      options: {},
      labels: {},
    });
  });

  it('carries every spec field', () => {
    expect(desiredNetwork(net(full))).toEqual({
      name: 'backend',
      driver: 'bridge',
      internal: true,
      attachable: true,
      enableIPv6: true,
      ipam: {
        driver: 'default',
        config: [
          { subnet: '10.20.0.0/24', gateway: '10.20.0.1', ipRange: '10.20.0.128/25' },
          { subnet: 'fd00:20::/64' },
        ],
        options: { foo: 'bar' },
      },
      options: { 'com.docker.network.bridge.name': 'br-backend' },
      labels: { app: 'web' },
    });
  });
});

describe('networkSpecHash', () => {
  const base = networkSpecHash(net({ hostName: 'n1' }));
  it.each<[string, DockerNetworkSpec, boolean]>([
    ['spelled-out defaults hash the same', { hostName: 'n1', driver: 'bridge', internal: false }, true],
    ['placement is not part of it', { hostSelector: { matchLabels: { a: 'b' } } }, true],
    ['deletionPolicy is not part of it', { hostName: 'n1', deletionPolicy: 'Orphan' }, true],
    ['a subnet changes it', { hostName: 'n1', ipam: { config: [{ subnet: '10.1.0.0/24' }] } }, false],
    ['internal changes it', { hostName: 'n1', internal: true }, false],
    ['a label changes it', { hostName: 'n1', labels: { a: 'b' } }, false],
    ['a driver option changes it', { hostName: 'n1', options: { mtu: '1400' } }, false],
    ['the name changes it', { hostName: 'n1', networkName: 'other' }, false],
  ])('%s', (_n, spec, same) => {
    expect(networkSpecHash(net(spec)) === base).toBe(same);
  });

  it('ignores key order', () => {
    const a = net({ hostName: 'n1', labels: { a: '1', b: '2' } });
    const b = net({ hostName: 'n1', labels: { b: '2', a: '1' } });
    expect(networkSpecHash(a)).toBe(networkSpecHash(b));
  });
});

describe('networkCreateFor → toCreateOptions', () => {
  it('builds the Docker create body with every field, owner labels and the spec hash', () => {
    const obj = net(full);
    expect(toCreateOptions(networkCreateFor(obj))).toEqual({
      Name: 'backend',
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: true,
      Attachable: true,
      EnableIPv6: true,
      IPAM: {
        Driver: 'default',
        Config: [
          { Subnet: '10.20.0.0/24', Gateway: '10.20.0.1', IPRange: '10.20.0.128/25' },
          { Subnet: 'fd00:20::/64' },
        ],
        Options: { foo: 'bar' },
      },
      Options: { 'com.docker.network.bridge.name': 'br-backend' },
      Labels: {
        app: 'web',
        'dockyard.io/uid': 'u-1',
        'dockyard.io/namespace': 'team-a',
        'dockyard.io/name': 'web',
        'dockyard.io/kind': 'DockerNetwork',
        'dockyard.io/spec-hash': networkSpecHash(obj),
        'dockyard.io/deletion-policy': 'Orphan',
      },
    });
  });

  it('records the default deletion policy Delete', () => {
    expect(networkCreateFor(net({ hostName: 'n1' })).labels['dockyard.io/deletion-policy']).toBe('Delete');
  });

  it('user labels cannot override the owner labels', () => {
    const obj = net({ hostName: 'n1', labels: { 'dockyard.io/uid': 'forged' } });
    expect(networkCreateFor(obj).labels['dockyard.io/uid']).toBe('u-1');
  });
});
