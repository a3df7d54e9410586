import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import { toCreateOptions } from '../../docker/container-spec.js';
import type { HostStatusEntry } from '../../managed/types.js';
import { observedContainer } from '../../docker/test-support.js';
import { desiredContainer, type DockerContainerKindDeps } from './container-kind.js';
import { networkContainerDependency } from './sibling-container.js';

// security.networkMode container: the target's own status entry on the host
// decides (ours: the ID it recorded; running), and its container ID is part
// of the dependent's recreate hash.

const NS = 'team';
const HOST = 'n1';
const VPN_ID = 'a'.repeat(64);

type Entry = Partial<HostStatusEntry> & { state?: string };
const vpn = (entry: Entry | undefined, security: DockerContainer['spec']['security'] = {}) =>
  ({
    metadata: { name: 'vpn', namespace: NS, uid: 'u-vpn' },
    spec: { hostName: HOST, image: 'busybox:1', security },
    status: entry ? { hosts: [{ name: HOST, phase: 'Running', ...entry }] } : {},
  }) as unknown as DockerContainer;

const app = {
  metadata: { name: 'app', namespace: NS, uid: 'u-app' },
  spec: {
    hostName: HOST,
    image: 'busybox:1',
    security: { networkMode: 'container', networkContainer: 'vpn' },
  },
} as unknown as DockerContainer;

function depsOf(containers: DockerContainer[]): DockerContainerKindDeps {
  const none = { getByName: () => undefined };
  return {
    images: none,
    volumes: none,
    networks: none,
    containers: {
      getByName: (name, ns) =>
        containers.find((c) => c.metadata.name === name && c.metadata.namespace === ns),
    },
    volumeNameOf: (v) => v.metadata.name,
    networkNameOf: (n) => n.metadata.name,
    refs: () => ({ secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined) }),
  };
}

describe('networkContainerDependency', () => {
  it.each<[string, DockerContainer | undefined, 'ready' | 'notReady' | 'deleted', string | undefined]>([
    ['running with an ID: ready', vpn({ id: VPN_ID, state: 'running' }), 'ready', VPN_ID],
    ['exited: not ready, its ID still known', vpn({ id: VPN_ID, state: 'exited' }), 'notReady', VPN_ID],
    ['no container on the host yet', vpn({ phase: 'Pending' }), 'notReady', undefined],
    ['not placed on the host', vpn(undefined), 'notReady', undefined],
    ['no such DockerContainer', undefined, 'deleted', undefined],
    [
      'a host-network target is never joined (its network is not its own)',
      vpn({ id: VPN_ID, state: 'running' }, { networkMode: 'host' }),
      'notReady',
      undefined,
    ],
    [
      'a target that itself joins another container',
      vpn({ id: VPN_ID, state: 'running' }, { networkMode: 'container', networkContainer: 'x' }),
      'notReady',
      undefined,
    ],
  ])('%s', (_what, target, state, id) => {
    const got = networkContainerDependency({ name: 'vpn', target, host: HOST });
    expect(got.dependency.ref).toBe('DockerContainer/vpn');
    expect(got.dependency.state).toBe(state);
    expect(got.id).toBe(id);
  });
});

describe('desiredContainer with networkMode container', () => {
  const at = { hostName: HOST, namespace: NS };

  it('waits, naming the target, until its container runs on the host', async () => {
    const d = await desiredContainer(depsOf([vpn({ phase: 'Pending' })]), { container: app, ...at });
    expect(d.inputs).toBeUndefined();
    expect(d.missing).toEqual(['DockerContainer/vpn (networkContainer; not created on this host yet)']);
  });

  it('joins the running target by its container ID', async () => {
    const d = await desiredContainer(depsOf([vpn({ id: VPN_ID, state: 'running' })]), {
      container: app,
      ...at,
    });
    expect(d.missing).toEqual([]);
    if (!d.inputs || !d.hash) throw new Error('not resolved');
    expect(d.inputs.networkContainerId).toBe(VPN_ID);
    expect(toCreateOptions(app.spec, d.inputs, d.hash).HostConfig?.NetworkMode).toBe(`container:${VPN_ID}`);
  });

  it('a recreated target (new ID) changes the hash: the dependent is recreated with it', async () => {
    const hashWith = async (id: string) =>
      (await desiredContainer(depsOf([vpn({ id, state: 'running' })]), { container: app, ...at })).hash;
    expect(await hashWith(VPN_ID)).not.toBe(await hashWith('b'.repeat(64)));
  });

  it('an existing dependent is held while its target merely restarts (same ID)', async () => {
    const first = await desiredContainer(depsOf([vpn({ id: VPN_ID, state: 'running' })]), {
      container: app,
      ...at,
    });
    const running = observedContainer({ labels: { [OWNER_LABELS.specHash]: first.hash ?? '' } });
    const d = await desiredContainer(depsOf([vpn({ id: VPN_ID, state: 'restarting' })]), {
      container: app,
      ...at,
      running,
    });
    expect(d.held?.map((h) => h.ref)).toEqual(['DockerContainer/vpn']);
    expect(d.hash).toBe(first.hash);
  });

  it('an existing dependent whose target was recreated waits for it to run (the old one stays)', async () => {
    const first = await desiredContainer(depsOf([vpn({ id: VPN_ID, state: 'running' })]), {
      container: app,
      ...at,
    });
    const running = observedContainer({ labels: { [OWNER_LABELS.specHash]: first.hash ?? '' } });
    const d = await desiredContainer(depsOf([vpn({ id: 'c'.repeat(64), state: 'created' })]), {
      container: app,
      ...at,
      running,
    });
    expect(d.missing).toEqual(['DockerContainer/vpn (networkContainer; now created)']);
  });
});
