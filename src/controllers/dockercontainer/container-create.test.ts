import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ContainerNameConflict } from '../../docker/container-client.js';
import type { ContainerInputs } from '../../docker/container-spec.js';
import { createAndConnect } from './container-kind.js';

// A create answered 409 (the name was taken between observe and create):
// the container there is adopted only if it carries this resource's uid.

function daemon(existingLabels: Record<string, string>) {
  const existing = {
    Id: 'c-existing',
    Name: '/team.web',
    Created: '2026-12-01T00:00:00Z',
    Image: 'sha256:1',
    Config: { Image: 'img', Labels: existingLabels },
    State: { Status: 'running', Running: true },
    NetworkSettings: { Networks: { bridge: {} } },
  };
  return {
    createContainer: () => Promise.reject(Object.assign(new Error('Conflict'), { statusCode: 409 })),
    getContainer: (ref: string) => ({
      inspect: () =>
        ref === 'team.web' || ref === 'c-existing'
          ? Promise.resolve(existing)
          : Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 })),
    }),
    getNetwork: () => ({ connect: () => Promise.reject(new Error('must not connect')) }),
  } as unknown as Dockerode;
}

const inputs: ContainerInputs = {
  name: 'team.web',
  image: 'img',
  env: [],
  volumeNames: {},
  networkNames: {},
  ownerLabels: { 'dockyard.io/uid': 'u-web', 'dockyard.io/namespace': 'team', 'dockyard.io/name': 'web' },
};

describe('createAndConnect after a name conflict', () => {
  it('adopts a container carrying this resource’s uid', async () => {
    await expect(
      createAndConnect(daemon({ 'dockyard.io/uid': 'u-web' }), { spec: {}, inputs, hash: 'h' }),
    ).resolves.toBe('c-existing');
  });

  it.each([
    ['another resource’s', { 'dockyard.io/uid': 'u-other', 'dockyard.io/namespace': 'tenant-b' }],
    ['not Dockyard’s', { app: 'x' }],
  ])('refuses %s container: ContainerNameConflict', async (_what, labels) => {
    await expect(createAndConnect(daemon(labels), { spec: {}, inputs, hash: 'h' })).rejects.toBeInstanceOf(
      ContainerNameConflict,
    );
  });
});

// A fresh create: the created container is looked at only when networks
// remain to connect (create gives Docker one network; Engine 20.10).
function recordingDaemon() {
  const calls: string[] = [];
  const api = {
    createContainer: () => {
      calls.push('create');
      return Promise.resolve({ id: 'c-new' });
    },
    getContainer: (ref: string) => ({
      inspect: () => {
        calls.push(`inspect ${ref}`);
        return Promise.resolve({
          Id: 'c-new',
          Name: '/team.web',
          Created: '2026-12-01T00:00:00Z',
          Image: 'sha256:1',
          Config: { Image: 'img', Labels: {} },
          State: { Status: 'created', Running: false },
          NetworkSettings: { Networks: { 'team.front': {} } },
        });
      },
    }),
    getNetwork: (network: string) => ({
      connect: () => {
        calls.push(`connect ${network}`);
        return Promise.resolve();
      },
    }),
  } as unknown as Dockerode;
  return { api, calls };
}

describe('createAndConnect on a fresh create', () => {
  const twoNetworks = { ...inputs, networkNames: { front: 'team.front', back: 'team.back' } };

  it.each([
    ['no spec network', {}],
    ['one spec network', { networks: [{ name: 'front', aliases: ['web'] }] }],
    ['network mode host', { security: { networkMode: 'host' as const } }],
  ])('%s: creates without another look', async (_what, spec) => {
    const { api, calls } = recordingDaemon();
    await expect(createAndConnect(api, { spec, inputs: twoNetworks, hash: 'h' })).resolves.toBe('c-new');
    expect(calls).toEqual(['create']);
  });

  it('two spec networks: looks at the created container and connects the second', async () => {
    const { api, calls } = recordingDaemon();
    const spec = { networks: [{ name: 'front' }, { name: 'back' }] };
    await createAndConnect(api, { spec, inputs: twoNetworks, hash: 'h' });
    expect(calls).toEqual(['create', 'inspect c-new', 'connect team.back']);
  });
});
