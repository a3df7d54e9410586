import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import {
  groupHashes,
  recreateHash,
  SPEC_GROUPS_LABEL,
  type ContainerInputs,
} from '../../docker/container-spec.js';
import {
  decideDependencies,
  HeldAnnouncements,
  heldMessage,
  heldTransition,
  imageOfRunning,
  mountedVolume,
  ownSpecChanged,
  withHeldOn,
  type DependencyDecision,
  type DependencyStatus,
} from './dependencies.js';
import { observedContainer } from '../../docker/test-support.js';

const img = (state: DependencyStatus['state']): DependencyStatus => ({ ref: 'DockerImage/app', state });
const vol = (state: DependencyStatus['state']): DependencyStatus => ({ ref: 'DockerVolume/data', state });

describe('decideDependencies', () => {
  it.each<[string, Parameters<typeof decideDependencies>[0], DependencyDecision]>([
    [
      'all ready: proceed, with or without a container',
      { dependencies: [img('ready'), vol('ready')], existing: true, specChanged: true },
      { type: 'proceed' },
    ],
    [
      'no dependencies at all',
      { dependencies: [], existing: false, specChanged: false },
      { type: 'proceed' },
    ],
    [
      'not created yet: wait for what is not ready',
      { dependencies: [img('notReady'), vol('ready')], existing: false, specChanged: false },
      { type: 'wait', missing: ['DockerImage/app'] },
    ],
    [
      'not created yet, a dependency deleted: wait for it',
      { dependencies: [vol('deleted')], existing: false, specChanged: false },
      { type: 'wait', missing: ['DockerVolume/data'] },
    ],
    [
      'existing, own spec changed: the recreate waits',
      { dependencies: [img('notReady'), vol('notReady')], existing: true, specChanged: true },
      { type: 'wait', missing: ['DockerImage/app', 'DockerVolume/data'] },
    ],
    [
      'existing, unchanged, a re-pull failed: held',
      { dependencies: [img('notReady'), vol('ready')], existing: true, specChanged: false },
      { type: 'hold', notReady: [img('notReady')] },
    ],
    [
      'existing, unchanged, volume paused and image deleted: held on both',
      { dependencies: [img('deleted'), vol('notReady')], existing: true, specChanged: false },
      { type: 'hold', notReady: [img('deleted'), vol('notReady')] },
    ],
  ])('%s', (_name, facts, expected) => {
    expect(decideDependencies(facts)).toEqual(expected);
  });
});

const spec: DockerContainerSpec = {
  imageRef: { name: 'app' },
  env: [{ name: 'MODE', value: 'a' }],
  mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
} as DockerContainerSpec;
const inputs: ContainerInputs = {
  name: 'team.web',
  image: 'reg/app@sha256:aaa',
  imageDigest: 'sha256:aaa',
  env: [{ name: 'MODE', value: 'a' }],
  volumeNames: { data: 'team.data' },
  networkNames: {},
  ownerLabels: {},
};

/** Our container as created from `s` and `i`: the labels Dockyard set at create. */
function running(
  s: DockerContainerSpec = spec,
  i: ContainerInputs = inputs,
  o: { groups?: boolean; memory?: number } = {},
): ObservedContainer {
  return observedContainer({
    labels: {
      'dockyard.io/spec-hash': recreateHash(s, i),
      ...(o.groups === false ? {} : { [SPEC_GROUPS_LABEL]: groupHashes(s, i) }),
    },
    image: i.image,
    hostConfig: { memory: o.memory ?? 0 },
    networks: {},
    mounts: [{ type: 'volume', name: 'team.data', destination: '/data', readOnly: false }],
  });
}

const standIn: ContainerInputs = { ...inputs, image: 'reg/app:next' };
const { imageDigest: _digest, ...withoutDigest } = standIn;
const changedCommand: DockerContainerSpec = { ...spec, command: ['sleep', '60'] };

describe('ownSpecChanged', () => {
  it.each<[string, Parameters<typeof ownSpecChanged>[0], boolean]>([
    ['nothing changed', { spec, inputs, running: running(), unknownGroups: [] }, false],
    ['command changed', { spec: changedCommand, inputs, running: running(), unknownGroups: [] }, true],
    [
      'a resolved new digest is a change (the roll waits for the image)',
      { spec, inputs: { ...inputs, imageDigest: 'sha256:bbb' }, running: running(), unknownGroups: [] },
      true,
    ],
    [
      'a stand-in image is not compared: no recreate on a guess',
      { spec, inputs: withoutDigest, running: running(), unknownGroups: ['image'] },
      false,
    ],
    [
      'a stand-in image does not hide a command change',
      { spec: changedCommand, inputs: withoutDigest, running: running(), unknownGroups: ['image'] },
      true,
    ],
    [
      'no spec-groups label and a group unknown: judged unchanged',
      {
        spec: changedCommand,
        inputs: withoutDigest,
        running: running(spec, inputs, { groups: false }),
        unknownGroups: ['image'],
      },
      false,
    ],
    [
      'a memory limit the spec dropped needs a recreate',
      {
        spec,
        inputs,
        running: running(spec, inputs, { memory: 64 * 1024 * 1024 }),
        unknownGroups: ['image'],
      },
      true,
    ],
  ])('%s', (_name, opts, expected) => {
    expect(ownSpecChanged(opts)).toBe(expected);
  });
});

describe('the running container as a stand-in', () => {
  it.each([
    ['digest-pinned', 'reg/app@sha256:aaa', { image: 'reg/app@sha256:aaa', imageDigest: 'sha256:aaa' }],
    ['by tag', 'app:1', { image: 'app:1' }],
  ])('image of a container created %s', (_name, image, expected) => {
    expect(imageOfRunning({ ...running(), image })).toEqual(expected);
  });

  it.each([
    ['/data', 'team.data'],
    ['/other', undefined],
  ])('volume mounted at %s', (target, expected) => {
    expect(mountedVolume(running(), target)).toBe(expected);
    expect(mountedVolume(undefined, target)).toBeUndefined();
  });
});

describe('announcing a hold once per change', () => {
  it.each<[string, string | undefined, DependencyStatus[] | undefined, ReturnType<typeof heldTransition>]>([
    ['nothing held', undefined, undefined, { announce: false }],
    ['a hold starts', undefined, [img('notReady')], { heldOn: 'DockerImage/app', announce: true }],
    [
      'the same hold, next look',
      'DockerImage/app',
      [img('notReady')],
      { heldOn: 'DockerImage/app', announce: false },
    ],
    [
      'one more dependency',
      'DockerImage/app',
      [img('notReady'), vol('deleted')],
      { heldOn: 'DockerImage/app, DockerVolume/data (deleted)', announce: true },
    ],
    ['the hold ends', 'DockerImage/app', undefined, { announce: false }],
  ])('%s', (_name, previous, held, expected) => {
    expect(heldTransition(previous, held)).toEqual(expected);
  });

  it('announces once although the next look reads a status from before the first', () => {
    const announced = new HeldAnnouncements();
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(true);
    // Stale cache: the status still says nothing is held.
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(false);
    expect(announced.transition('u2@n1', undefined, [img('notReady')]).announce).toBe(true);
    // The hold ends, then starts again: announced again.
    expect(announced.transition('u1@n1', 'DockerImage/app', undefined).announce).toBe(false);
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(true);
  });

  it('keeps no heldOn key when nothing is held, so status does not change for it', () => {
    const held: { crashes: number; heldOn?: string } = { crashes: 1, heldOn: 'DockerImage/app' };
    const free: { crashes: number; heldOn?: string } = { crashes: 1 };
    expect(withHeldOn(held, undefined)).toEqual({ crashes: 1 });
    expect(withHeldOn(free, 'DockerImage/app')).toEqual({ crashes: 1, heldOn: 'DockerImage/app' });
  });

  it('says what is not ready and that the container is kept', () => {
    expect(heldMessage([img('notReady')])).toMatch(
      /^DockerImage\/app is not ready on this host; the existing container/,
    );
    expect(heldMessage([img('notReady'), vol('deleted')])).toMatch(
      /^DockerImage\/app, DockerVolume\/data \(deleted\) are not ready/,
    );
  });
});
