import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../container-client.js';
import { UnresolvedReferenceError } from './inputs.js';
import { networkChanges } from './network-changes.js';
import { inputs, observed, spec } from './test-support.js';

describe('networkChanges', () => {
  const ep = (aliases: string[] = [], ipv4Address?: string) => ({
    aliases,
    ...(ipv4Address ? { ipv4Address } : {}),
  });
  type Case = [
    string,
    Partial<DockerContainerSpec>,
    ObservedContainer['networks'],
    ReturnType<typeof networkChanges>,
  ];
  const cases: Case[] = [
    ['no networks: the default bridge stays', {}, { bridge: ep() }, { disconnect: [], connect: [] }],
    ['no networks and no bridge: connect it', {}, {}, { disconnect: [], connect: [{ network: 'bridge' }] }],
    [
      'no networks: others go',
      {},
      { bridge: ep(), 'team-a.front': ep(['web']) },
      { disconnect: ['team-a.front'], connect: [] },
    ],
    [
      'in sync',
      { networks: [{ name: 'front', aliases: ['web'] }, { name: 'back' }] },
      { 'team-a.front': ep(['web']), 'team-a.back': ep() },
      { disconnect: [], connect: [] },
    ],
    [
      'alias order does not matter',
      { networks: [{ name: 'front', aliases: ['a', 'b'] }] },
      { 'team-a.front': ep(['b', 'a']) },
      { disconnect: [], connect: [] },
    ],
    [
      'second network after create',
      { networks: [{ name: 'front' }, { name: 'back', aliases: ['api'] }] },
      { 'team-a.front': ep() },
      { disconnect: [], connect: [{ network: 'team-a.back', aliases: ['api'] }] },
    ],
    [
      'with spec networks the default bridge goes',
      { networks: [{ name: 'front' }] },
      { bridge: ep(), 'team-a.front': ep() },
      { disconnect: ['bridge'], connect: [] },
    ],
    [
      'from the bridge to spec networks',
      { networks: [{ name: 'front', ipv4Address: '10.0.0.9' }] },
      { bridge: ep() },
      { disconnect: ['bridge'], connect: [{ network: 'team-a.front', ipv4Address: '10.0.0.9' }] },
    ],
    [
      'network removed from the spec',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep(), 'team-a.back': ep() },
      { disconnect: ['team-a.back'], connect: [] },
    ],
    [
      "an alias equal to the hostname is Docker's own (observe leaves it out)",
      { hostname: 'web-1', networks: [{ name: 'front', aliases: ['web', 'web-1'] }] },
      { 'team-a.front': ep(['web']) },
      { disconnect: [], connect: [] },
    ],
    [
      'changed aliases: reconnect',
      { networks: [{ name: 'front', aliases: ['new'] }] },
      { 'team-a.front': ep(['old']) },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front', aliases: ['new'] }] },
    ],
    [
      'aliases removed: reconnect',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep(['old']) },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front' }] },
    ],
    [
      'changed static IPv4: reconnect',
      { networks: [{ name: 'front', ipv4Address: '10.0.0.2' }] },
      { 'team-a.front': ep([], '10.0.0.1') },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front', ipv4Address: '10.0.0.2' }] },
    ],
    [
      'static IPv4 dropped: reconnect',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': ep([], '10.0.0.1') },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front' }] },
    ],
    [
      'in sync with static IPv6 and MAC (any case)',
      { networks: [{ name: 'front', ipv6Address: 'fd00::2', macAddress: '02:AA:00:00:00:01' }] },
      { 'team-a.front': { aliases: [], ipv6Address: 'fd00::2', macAddress: '02:aa:00:00:00:01' } },
      { disconnect: [], connect: [] },
    ],
    [
      'changed static IPv6: reconnect with the same settings as create',
      { networks: [{ name: 'front', ipv6Address: 'fd00::3', macAddress: '02:00:00:00:00:01' }] },
      { 'team-a.front': { aliases: [], ipv6Address: 'fd00::2', macAddress: '02:00:00:00:00:01' } },
      {
        disconnect: ['team-a.front'],
        connect: [{ network: 'team-a.front', ipv6Address: 'fd00::3', macAddress: '02:00:00:00:00:01' }],
      },
    ],
    [
      'static IPv6 dropped: reconnect',
      { networks: [{ name: 'front' }] },
      { 'team-a.front': { aliases: [], ipv6Address: 'fd00::2' } },
      { disconnect: ['team-a.front'], connect: [{ network: 'team-a.front' }] },
    ],
    [
      'other MAC in use: reconnect',
      { networks: [{ name: 'front' }, { name: 'back', macAddress: '02:00:00:00:00:02' }] },
      { 'team-a.front': ep(), 'team-a.back': { aliases: [], macAddress: '02:00:00:00:00:09' } },
      {
        disconnect: ['team-a.back'],
        connect: [{ network: 'team-a.back', macAddress: '02:00:00:00:00:02' }],
      },
    ],
    [
      "no MAC asked for: Docker's random one is no difference",
      { networks: [{ name: 'front' }] },
      { 'team-a.front': { aliases: [], macAddress: '02:42:ac:11:00:02' } },
      { disconnect: [], connect: [] },
    ],
    [
      'a MAC asked for but not reported (stopped container): no difference',
      { networks: [{ name: 'front', macAddress: '02:00:00:00:00:02' }] },
      { 'team-a.front': ep() },
      { disconnect: [], connect: [] },
    ],
    [
      'networkMode host: nothing, whatever is attached',
      { security: { networkMode: 'host' }, networks: [{ name: 'front' }] },
      { host: ep() },
      { disconnect: [], connect: [] },
    ],
    [
      "networkMode container: nothing (the target's network namespace is not this container's to change)",
      { security: { networkMode: 'container', networkContainer: 'vpn' } },
      {},
      { disconnect: [], connect: [] },
    ],
    [
      'networkMode none: nothing',
      { security: { networkMode: 'none' } },
      { none: ep() },
      { disconnect: [], connect: [] },
    ],
  ];

  it.each(cases)('%s', (_title, patch, networks, changes) => {
    expect(networkChanges(spec(patch), inputs, observed({ networks }))).toEqual(changes);
  });

  it('refuses an unresolved network', () => {
    expect(() => networkChanges(spec({ networks: [{ name: 'x' }] }), inputs, observed())).toThrow(
      UnresolvedReferenceError,
    );
  });
});
